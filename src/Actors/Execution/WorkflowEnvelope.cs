using System.Diagnostics;
using Akka.Actor;
using TtaActors.Actors.Context;

namespace TtaActors.Actors.Execution;

/// <summary>Identity of one workflow run, shared by every envelope of that run.</summary>
public readonly record struct RunId(Guid Value)
{
    public static RunId New() => new(RandomIds.NewGuid());
    public override string ToString() => Value.ToString("N");
}

/// <summary>
/// The W3C trace parent an envelope carries, so a primitive on the other side of a mailbox (or of a network
/// link) parents its span correctly: <c>Activity.Current</c> does not flow across a mailbox.
/// </summary>
public readonly record struct TraceParent(ActivityTraceId TraceId, ActivitySpanId SpanId, ActivityTraceFlags Flags, string? TraceState)
{
    public bool IsEmpty => TraceId == default;

    public static TraceParent From(ActivityContext context) =>
        new(context.TraceId, context.SpanId, context.TraceFlags, context.TraceState);

    public static TraceParent From(Activity? activity) => activity is null ? default : From(activity.Context);

    public ActivityContext ToActivityContext() => IsEmpty ? default : new ActivityContext(TraceId, SpanId, Flags, TraceState, isRemote: true);

    /// <summary>The <c>traceparent</c> header form: <c>00-{trace-id}-{span-id}-{flags}</c>.</summary>
    public string? ToW3C() => IsEmpty ? null : $"00-{TraceId.ToHexString()}-{SpanId.ToHexString()}-{(int)Flags:x2}";

    public static TraceParent ParseW3C(string? traceparent, string? traceState = null) =>
        ActivityContext.TryParse(traceparent, traceState, out var context) ? From(context) : default;
}

/// <summary>
/// The one message that carries a run into a primitive actor. Immutable; each hop makes a new one with
/// <c>with</c>. <see cref="CallId"/> identifies this one dispatch: the answer echoes it, so a late answer to an
/// earlier dispatch of the same run (a discarded parallel branch, an earlier retry attempt) is never mistaken for
/// the current one.
/// </summary>
public sealed record WorkflowEnvelope(
    RunId RunId,
    long CallId,
    object? Payload,
    WorkflowContext Context,
    TraceParent TraceParent,
    string? LangfuseTraceId,
    IActorRef ReplyTo)
{
    /// <summary>Absolute time after which the run fails with <see cref="WorkflowDeadlineExceededException"/>.</summary>
    public DateTimeOffset? Deadline { get; init; }

    /// <summary>
    /// The token the receiving primitive works under: the run's <see cref="RunLifetime.Token"/>, or below a Timeout the
    /// Timeout's own token (linked to the run's). Local to the process that started the run.
    /// </summary>
    public CancellationToken Cancellation { get; init; }

    /// <summary>The run's deadline, cancellation and checkpoint switch; local to the process that started the run.</summary>
    public RunLifetime? Lifetime { get; init; }

    private static long _lastCallId;

    /// <summary>A process-wide unique id for a new dispatch.</summary>
    public static long NextCallId() => Interlocked.Increment(ref _lastCallId);
}

/// <summary>The answer to an <see cref="WorkflowEnvelope"/>: exactly one per dispatch.</summary>
public abstract record PrimitiveResult(RunId RunId, long CallId);

public sealed record PrimitiveSucceeded(RunId RunId, long CallId, object? Output, WorkflowContext Context)
    : PrimitiveResult(RunId, CallId);

public sealed record PrimitiveFailed(RunId RunId, long CallId, WorkflowFailure Failure)
    : PrimitiveResult(RunId, CallId);
