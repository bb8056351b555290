using TtaActors.Actors.Context;

namespace TtaActors.Actors.Execution;

/// <summary>
/// A failed run as a value: the path of the primitive that failed, and the original error's type and message.
/// <see cref="Exception"/> is the original exception object while the failure stays in one process.
/// </summary>
public sealed record WorkflowFailure(string PrimitivePath, string ErrorType, string Message)
{
    /// <summary>The original exception while the failure stays in the process that raised it; null once it crossed the wire.</summary>
    public Exception? Exception { get; init; }

    /// <summary>
    /// The context the failing primitive ended with, when it recorded something its caller should see although the
    /// run failed (a Saga's compensation error, a Timeout's count); null otherwise. Composites pass it up unchanged.
    /// </summary>
    public WorkflowContext? Context { get; init; }

    /// <summary>The failure of <paramref name="exception"/> at <paramref name="primitivePath"/>, keeping its full type name, message and the exception itself.</summary>
    public static WorkflowFailure From(string primitivePath, Exception exception) =>
        new(primitivePath, exception.GetType().FullName ?? exception.GetType().Name, exception.Message) { Exception = exception };

    /// <summary><c>{path}: {type}: {message}</c>.</summary>
    public override string ToString() => $"{PrimitivePath}: {ErrorType}: {Message}";
}

/// <summary>Thrown by <see cref="WorkflowGraph.ExecuteAsync"/>; the original exception is the inner exception.</summary>
public sealed class WorkflowFailedException(WorkflowFailure failure)
    : Exception($"Workflow failed at '{failure.PrimitivePath}': {failure.ErrorType}: {failure.Message}", failure.Exception)
{
    /// <summary>The failure as a value.</summary>
    public WorkflowFailure Failure { get; } = failure;
    /// <summary>The path of the primitive that failed.</summary>
    public string PrimitivePath => Failure.PrimitivePath;
}

/// <summary>
/// The run's deadline passed before the run finished. Every primitive that held state for the run failed it with this one
/// error, which names the primitive the run was in when time ran out.
/// </summary>
public sealed class WorkflowDeadlineExceededException(string workflowName, string primitivePath, TimeSpan timeout)
    : TimeoutException(
        $"Workflow '{workflowName}' did not finish within its deadline of {timeout.TotalSeconds:0.###} s; it was at '{primitivePath}' " +
        "when time ran out. Give the run a longer timeout (RunOptions.Timeout, or tta.workflow.default-deadline), or find why " +
        "that step takes this long.")
{
    /// <summary>The workflow whose run ran out of time.</summary>
    public string WorkflowName { get; } = workflowName;

    /// <summary>The primitive the run was in when its deadline passed.</summary>
    public string PrimitivePath { get; } = primitivePath;

    /// <summary>The deadline the run had, measured from its start.</summary>
    public TimeSpan Timeout { get; } = timeout;
}

/// <summary>
/// The run's graph was stopped (<see cref="WorkflowGraph.StopAsync"/> or disposed) while the run was in flight, or before it
/// started. Every primitive holding state for the run fails it with this one error.
/// </summary>
public sealed class WorkflowGraphStoppedException(string workflowName, string primitivePath)
    : OperationCanceledException(
        $"Workflow '{workflowName}' was stopped while the run was at '{primitivePath}'; a stopped graph runs nothing. " +
        "Materialise the workflow again to run it.")
{
    /// <summary>The name of the stopped graph.</summary>
    public string WorkflowName { get; } = workflowName;

    /// <summary>The primitive the run was in when the graph stopped (the workflow's name for a run that never started).</summary>
    public string PrimitivePath { get; } = primitivePath;
}
