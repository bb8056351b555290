using TtaActors.Actors.Context;

namespace TtaActors.Actors.Execution;

/// <summary>
/// A failed run as a value: the path of the primitive that failed, and the original error's type and message.
/// <see cref="Exception"/> is the original exception object while the failure stays in one process.
/// </summary>
public sealed record WorkflowFailure(string PrimitivePath, string ErrorType, string Message)
{
    public Exception? Exception { get; init; }

    /// <summary>
    /// The context the failing primitive ended with, when it recorded something its caller should see although the
    /// run failed (a Saga's compensation error, a Timeout's count); null otherwise. Composites pass it up unchanged.
    /// </summary>
    public WorkflowContext? Context { get; init; }

    public static WorkflowFailure From(string primitivePath, Exception exception) =>
        new(primitivePath, exception.GetType().FullName ?? exception.GetType().Name, exception.Message) { Exception = exception };

    public override string ToString() => $"{PrimitivePath}: {ErrorType}: {Message}";
}

/// <summary>Thrown by <see cref="WorkflowGraph.ExecuteAsync"/>; the original exception is the inner exception.</summary>
public sealed class WorkflowFailedException(WorkflowFailure failure)
    : Exception($"Workflow failed at '{failure.PrimitivePath}': {failure.ErrorType}: {failure.Message}", failure.Exception)
{
    public WorkflowFailure Failure { get; } = failure;
    public string PrimitivePath => Failure.PrimitivePath;
}

/// <summary>The run's deadline passed before the run finished.</summary>
public sealed class WorkflowDeadlineExceededException(string message) : TimeoutException(message);
