namespace TtaActors.Tests.NodeHost;

/// <summary>
/// The specs that start <c>tta</c> processes run on their own, after the in-process specs: a node process takes a
/// core while it starts, and the in-process specs drive actor schedulers that should not compete with it.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TtaProcessCollection
{
    public const string Name = "tta processes";
}
