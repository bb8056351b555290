using Akka.Actor;
using TtaActors.Telemetry.ActorMetrics;

namespace TtaActors.Actors.Execution;

/// <summary>Checks shared by every primitive actor: cancellation, deadline, and answering runs an actor loses.</summary>
internal static class RunGuard
{
    /// <summary>The error a run must fail with before more work is started for it, or null if it may go on.</summary>
    public static Exception? Expired(WorkflowEnvelope envelope, IScheduler scheduler)
    {
        if (envelope.Cancellation.IsCancellationRequested)
            return new OperationCanceledException("The run was cancelled.", envelope.Cancellation);
        if (envelope.Deadline is { } deadline && scheduler.Now >= deadline)
            return new WorkflowDeadlineExceededException($"The run's deadline {deadline:O} has passed.");
        return null;
    }

    /// <summary>
    /// Answers every run an actor is about to lose to a restart, so no caller waits for an answer that cannot come,
    /// and counts the restart (<c>akka_actor_restarts_total</c>): every primitive actor calls this from PreRestart.
    /// </summary>
    public static void FailAll(IEnumerable<PrimitiveExecution> executions, Exception reason, IActorRef self)
    {
        ActorSystemMetrics.RecordRestart(self);
        foreach (var execution in executions.Distinct().ToList())
        {
            execution.Fail(new InvalidOperationException(
                $"The actor executing '{execution.Node.Path}' crashed and was restarted: {reason.Message}", reason), self);
        }
    }
}
