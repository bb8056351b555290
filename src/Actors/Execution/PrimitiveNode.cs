using TtaActors.Telemetry;

namespace TtaActors.Actors.Execution;

/// <summary>
/// Where a primitive actor sits in its workflow graph. Fixed at materialisation, so span names, paths and
/// position attributes are computed once, not per run.
/// </summary>
public sealed class PrimitiveNode
{
    internal PrimitiveNode(string name, string typeName, string path, int? stepIndex = null, int? branchIndex = null,
        string? workflowName = null)
    {
        Name = name;
        WorkflowName = workflowName ?? path.Split('/', 2)[0];
        TypeName = typeName;
        Path = path;
        StepIndex = stepIndex;
        BranchIndex = branchIndex;
        SpanName = TelemetryNames.Spans.PrimitivePrefix + name;
    }

    /// <summary>The primitive's name: the user's name, else its type name.</summary>
    public string Name { get; }

    /// <summary>The primitive's type, e.g. <c>SequentialPrimitive</c>.</summary>
    public string TypeName { get; }

    /// <summary>Slash-separated path from the workflow root, used to name the primitive in failures.</summary>
    public string Path { get; }

    public string SpanName { get; }

    /// <summary>The name of the workflow this node belongs to (the Langfuse trace name of its runs).</summary>
    public string WorkflowName { get; }

    /// <summary>Position in the parent Sequential, if the parent is one.</summary>
    public int? StepIndex { get; }

    /// <summary>Position in the parent Parallel, if the parent is one.</summary>
    public int? BranchIndex { get; }

    internal static PrimitiveNode Root(Primitives.Primitive definition, string workflowName) =>
        new(definition.DisplayName, definition.TypeName, $"{workflowName}/{definition.DisplayName}", workflowName: workflowName);

    internal PrimitiveNode Child(Primitives.Primitive definition, string label, int? stepIndex = null, int? branchIndex = null) =>
        new(definition.DisplayName, definition.TypeName, $"{Path}/{definition.DisplayName}{label}", stepIndex, branchIndex, WorkflowName);
}
