using System.Diagnostics;
using Akka.Actor;
using TtaActors.Actors.Context;

namespace TtaActors.Actors.Execution;

/// <summary>Identity of one workflow run, shared by every envelope of that run.</summary>
public readonly record struct RunId(Guid Value)
{
    /// <summary>A new random run id.</summary>
    public static RunId New() => new(RandomIds.NewGuid());
    /// <summary>The id as 32 hex digits without dashes.</summary>
    public override string ToString() => Value.ToString("N");
}

/// <summary>
/// The W3C trace parent an envelope carries, so a primitive on the other side of a mailbox (or of a network
/// link) parents its span correctly: <c>Activity.Current</c> does not flow across a mailbox.
/// </summary>
public readonly record struct TraceParent(ActivityTraceId TraceId, ActivitySpanId SpanId, ActivityTraceFlags Flags, string? TraceState)
{
    /// <summary>True when there is no trace parent (the run is not traced).</summary>
    public bool IsEmpty => TraceId == default;

    /// <summary>The trace parent of <paramref name="context"/>.</summary>
    public static TraceParent From(ActivityContext context) =>
        new(context.TraceId, context.SpanId, context.TraceFlags, context.TraceState);

    /// <summary>The trace parent of <paramref name="activity"/>; empty when it is null.</summary>
    public static TraceParent From(Activity? activity) => activity is null ? default : From(activity.Context);

    /// <summary>The context to start a child span under (marked remote); default when empty.</summary>
    public ActivityContext ToActivityContext() => IsEmpty ? default : new ActivityContext(TraceId, SpanId, Flags, TraceState, isRemote: true);

    /// <summary>The <c>traceparent</c> header form: <c>00-{trace-id}-{span-id}-{flags}</c>.</summary>
    public string? ToW3C() => IsEmpty ? null : $"00-{TraceId.ToHexString()}-{SpanId.ToHexString()}-{(int)Flags:x2}";

    /// <summary>The trace parent of a W3C <c>traceparent</c> (and <c>tracestate</c>) header; empty when it does not parse.</summary>
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
    /// <summary>UTC ticks of <see cref="Deadline"/>, zero for none: 8 bytes in every envelope where a nullable offset takes 24.</summary>
    private readonly long _deadlineUtcTicks;

    /// <summary>Absolute time after which the run fails with <see cref="WorkflowDeadlineExceededException"/> (kept in UTC).</summary>
    public DateTimeOffset? Deadline
    {
        get => _deadlineUtcTicks == 0 ? null : new DateTimeOffset(_deadlineUtcTicks, TimeSpan.Zero);
        init => _deadlineUtcTicks = value?.UtcTicks ?? 0;
    }

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

/// <summary>A successful answer: the primitive's output and the context it ended with.</summary>
/// <param name="RunId">The run.</param>
/// <param name="CallId">The dispatch this answers (the envelope's <see cref="WorkflowEnvelope.CallId"/>).</param>
/// <param name="Output">The primitive's output.</param>
/// <param name="Context">The context the primitive ended with.</param>
public sealed record PrimitiveSucceeded(RunId RunId, long CallId, object? Output, WorkflowContext Context)
    : PrimitiveResult(RunId, CallId);

/// <summary>A failed answer: the failure names the primitive path and keeps the original error.</summary>
/// <param name="RunId">The run.</param>
/// <param name="CallId">The dispatch this answers (the envelope's <see cref="WorkflowEnvelope.CallId"/>).</param>
/// <param name="Failure">What failed and where.</param>
public sealed record PrimitiveFailed(RunId RunId, long CallId, WorkflowFailure Failure)
    : PrimitiveResult(RunId, CallId);
