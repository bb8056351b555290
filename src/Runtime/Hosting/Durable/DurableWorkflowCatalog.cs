using TtaActors.Actors.Durable;
using TtaActors.Runtime.Workflows;

namespace TtaActors.Runtime.Durable;

/// <summary>
/// The durable workflows of a node, found in its <see cref="WorkflowRegistry"/>. Until the node has loaded its workflows
/// the catalog is not ready, and recovered runs wait for it instead of failing for a workflow not loaded yet.
/// </summary>
public sealed class DurableWorkflowCatalog : IDurableWorkflowCatalog
{
    private volatile WorkflowRegistry? _registry;

    /// <inheritdoc/>
    public bool Ready => _registry is not null;

    /// <summary>Called once the node's workflows are loaded.</summary>
    public void Attach(WorkflowRegistry registry) => _registry = registry;

    /// <inheritdoc/>
    public DurableWorkflowDefinition? Find(string workflow) =>
        _registry is { } registry && registry.TryGet(workflow, out var registered) ? registered.Durable : null;
}
