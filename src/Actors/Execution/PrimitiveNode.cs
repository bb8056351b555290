using TtaActors.Telemetry;

namespace TtaActors.Actors.Execution;

/// <summary>
/// Where a primitive actor sits in its workflow graph. Fixed at materialisation, so span names, paths and
/// position attributes are computed once, not per run.
/// </summary>
public sealed class PrimitiveNode
{
    internal PrimitiveNode(string name, string typeName, string path, int? stepIndex = null, int? branchIndex = null,
        string? workflowName = null, PrimitiveNode? parent = null, bool inlinesLeaves = false)
    {
        Name = name;
        Parent = parent;
        InlinesLeaves = parent?.InlinesLeaves ?? inlinesLeaves;
        StartCheckpoint = name + ".start";
        EndCheckpoint = name + ".end";
        WorkflowName = workflowName ?? path.Split('/', 2)[0];
        TypeName = typeName;
        Path = path;
        StepIndex = stepIndex;
        BranchIndex = branchIndex;
        StepIndexTag = stepIndex;
        BranchIndexTag = branchIndex;
        SpanName = TelemetryNames.Spans.PrimitivePrefix + name;
    }

    /// <summary>The primitive's name: the user's name, else its type name.</summary>
    public string Name { get; }

    /// <summary>The primitive's type, e.g. <c>SequentialPrimitive</c>.</summary>
    public string TypeName { get; }

    /// <summary>Slash-separated path from the workflow root, used to name the primitive in failures.</summary>
    public string Path { get; }

    /// <summary>The span name of every execution: <c>primitive.{Name}</c>.</summary>
    public string SpanName { get; }

    /// <summary>The name of the workflow this node belongs to (the Langfuse trace name of its runs).</summary>
    public string WorkflowName { get; }

    /// <summary>The composite this node is nested in; null for the workflow's root.</summary>
    public PrimitiveNode? Parent { get; }

    /// <summary>The checkpoints every execution records when its run asks for them: <c>{name}.start</c> and <c>{name}.end</c>.</summary>
    public string StartCheckpoint { get; }

    /// <summary>The checkpoint recorded when an execution ends: <c>{name}.end</c>.</summary>
    public string EndCheckpoint { get; }

    /// <summary>
    /// Whether composites of this graph run their synchronous leaf steps inside their own turn (see
    /// <see cref="WorkflowGraphOptions.InlineLeafSteps"/>); the same for every node of a graph.
    /// </summary>
    public bool InlinesLeaves { get; }

    /// <summary>Position in the parent Sequential, if the parent is one.</summary>
    public int? StepIndex { get; }

    /// <summary>Position in the parent Parallel, if the parent is one.</summary>
    public int? BranchIndex { get; }

    /// <summary><see cref="StepIndex"/> and <see cref="BranchIndex"/> boxed once, as span attribute values.</summary>
    internal object? StepIndexTag { get; }

    internal object? BranchIndexTag { get; }

    /// <summary>The node's cells of <c>primitive_executions_total</c> used so far, for a lookup without hashing (see <see cref="ExecutionCounts"/>).</summary>
    internal ExecutionCounts.Cell[] CountCells = [];

    internal static PrimitiveNode Root(Primitives.Primitive definition, string workflowName, bool inlineLeaves = false) =>
        new(definition.DisplayName, definition.TypeName, $"{workflowName}/{definition.DisplayName}", workflowName: workflowName,
            inlinesLeaves: inlineLeaves);

    internal PrimitiveNode Child(Primitives.Primitive definition, string label, int? stepIndex = null, int? branchIndex = null) =>
        new(definition.DisplayName, definition.TypeName, $"{Path}/{definition.DisplayName}{label}", stepIndex, branchIndex, WorkflowName, this);
}
