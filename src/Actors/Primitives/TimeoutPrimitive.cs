using System.Collections.Immutable;
using Akka.Actor;
using TtaActors.Actors.Context;
using TtaActors.Actors.Execution;
using TtaActors.Telemetry;

namespace TtaActors.Actors.Primitives;

/// <summary>A Timeout expired and it had no fallback.</summary>
public sealed class PrimitiveTimeoutException(string primitivePath, TimeSpan timeout)
    : TimeoutException(
        $"'{primitivePath}' did not finish within {timeout.TotalSeconds:0.###} s; its inner run was cancelled. " +
        "Give the Timeout a fallback, or a longer timeout if the work is expected to take this long.")
{
    public string PrimitivePath { get; } = primitivePath;
    public TimeSpan Timeout { get; } = timeout;
}

/// <summary>
/// Runs its inner primitive with a time limit measured on the actor scheduler. On expiry the inner run is cancelled
/// (its leaf steps see their <see cref="CancellationToken"/> fire), then the fallback runs with the same input, or the
/// Timeout fails with <see cref="PrimitiveTimeoutException"/>. An answer the inner run gives after the expiry is
/// discarded and counted (<c>timeout_late_results_total</c>). Expiries are counted in the context state
/// (<see cref="WorkflowStateKeys.TimeoutCount"/>, <see cref="WorkflowStateKeys.TimeoutHistory"/>) unless tracking is off.
/// </summary>
public sealed class TimeoutPrimitive : Primitive
{
    public TimeoutPrimitive(Primitive inner, TimeSpan timeout, Primitive? fallback = null, bool trackTimeouts = true,
        string? name = null) : base(name)
    {
        Inner = inner ?? throw new ArgumentNullException(nameof(inner));
        if (timeout <= TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(timeout), timeout, "A Timeout needs a timeout greater than zero.");
        Timeout = timeout;
        Fallback = fallback;
        TrackTimeouts = trackTimeouts;
    }

    public Primitive Inner { get; }
    public TimeSpan Timeout { get; }
    public Primitive? Fallback { get; }

    /// <summary>Whether expiries are recorded in the context state.</summary>
    public bool TrackTimeouts { get; }

    public override IReadOnlyList<Primitive> Children => Fallback is null ? [Inner] : [Inner, Fallback];
    public override string TypeName => "TimeoutPrimitive";

    internal override Props CreateProps(PrimitiveNode node) => TimeoutActor.Props(this, node);
}

internal sealed class TimeoutActor : UntypedActor, IWithTimers
{
    private readonly TimeoutPrimitive _definition;
    private readonly PrimitiveNode _node;
    private readonly IActorRef _inner;
    private readonly IActorRef? _fallback;

    /// <summary>Runs waiting for their inner run (before expiry) or their fallback (after), by dispatch id.</summary>
    private readonly Dictionary<long, Run> _pending = new();

    /// <summary>Inner runs that expired and have not answered yet; their answer is discarded and counted.</summary>
    private readonly Dictionary<long, Run> _expired = new();

    public TimeoutActor(TimeoutPrimitive definition, PrimitiveNode node)
    {
        _definition = definition;
        _node = node;
        _inner = Context.ActorOf(definition.Inner.CreateProps(node.Child(definition.Inner, "")), "inner");
        if (definition.Fallback is { } fallback)
            _fallback = Context.ActorOf(fallback.CreateProps(node.Child(fallback, "[fallback]")), "fallback");
    }

    public static Props Props(TimeoutPrimitive definition, PrimitiveNode node) =>
        Akka.Actor.Props.Create(() => new TimeoutActor(definition, node));

    public ITimerScheduler Timers { get; set; } = null!;

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case WorkflowEnvelope envelope:
                Start(new Run(_node, envelope));
                break;
            case PrimitiveSucceeded done when _pending.Remove(done.CallId, out var run):
                if (run.Expired) run.Succeed(done.Output, run.Context.AbsorbRecords(done.Context, run.FallbackContext!), Self);
                else InTime(run).Succeed(done.Output, run.Context.AbsorbRecords(done.Context, run.InnerContext), Self);
                break;
            case PrimitiveFailed failed when _pending.Remove(failed.CallId, out var run):
                if (!run.Expired) run = InTime(run);
                else if (_definition.TrackTimeouts && failed.Failure.Context is null)
                {
                    // The fallback failed too: the count of this expiry still reaches the caller.
                    run.Fail(failed.Failure with { Context = run.Context }, Self);
                    break;
                }
                run.Fail(failed.Failure, Self);
                break;
            case PrimitiveResult late when _expired.Remove(late.CallId, out var run):
                run.Cancellation.Dispose();
                CatalogTelemetry.RecordLateResult(_node, run.Inbound.Context.Workspace);
                break;
            case Expire expire when _pending.Remove(expire.Run.InnerCallId):
                OnExpired(expire.Run);
                break;
            case PrimitiveResult:
            case Expire:
                break; // an answer or a timer for a run that has already finished
            default:
                Unhandled(message);
                break;
        }
    }

    private void Start(Run run)
    {
        if (RunGuard.Expired(run.Inbound, Context.System.Scheduler) is { } expired)
        {
            run.Cancellation.Dispose();
            run.Fail(expired, Self);
            return;
        }
        run.InnerCallId = WorkflowEnvelope.NextCallId();
        _pending.Add(run.InnerCallId, run);
        // The timer is armed before the inner run can start, so no answer can come before it exists.
        Timers.StartSingleTimer(run, new Expire(run), _definition.Timeout);
        _inner.Tell(run.ChildEnvelope(run.InnerCallId, run.Inbound.Payload, run.InnerContext, Self) with
        {
            Cancellation = run.Cancellation.Token,
        });
    }

    private Run InTime(Run run)
    {
        Timers.Cancel(run);
        run.Cancellation.Dispose();
        CatalogTelemetry.Tag(run, TelemetryNames.Catalog.Attributes.TimeoutExpired, false);
        return run;
    }

    private void OnExpired(Run run)
    {
        run.Expired = true;
        _expired.Add(run.InnerCallId, run);
        run.Cancellation.Cancel();
        CatalogTelemetry.Tag(run, TelemetryNames.Catalog.Attributes.TimeoutExpired, true);
        if (_definition.TrackTimeouts) run.Context = Track(run.Context);

        if (_fallback is null)
        {
            var failure = WorkflowFailure.From(_node.Path, new PrimitiveTimeoutException(_node.Path, _definition.Timeout));
            run.Fail(_definition.TrackTimeouts ? failure with { Context = run.Context } : failure, Self);
            return;
        }
        if (RunGuard.Expired(run.Inbound, Context.System.Scheduler) is { } overdue)
        {
            run.Fail(overdue, Self);
            return;
        }
        var callId = WorkflowEnvelope.NextCallId();
        run.FallbackContext = run.Context.CreateChild();
        _pending.Add(callId, run);
        _fallback.Tell(run.ChildEnvelope(callId, run.Inbound.Payload, run.FallbackContext, Self));
    }

    private WorkflowContext Track(WorkflowContext context)
    {
        var history = context.State.TryGetValue(WorkflowStateKeys.TimeoutHistory, out var value) && value is ImmutableList<TimeoutRecord> list
            ? list
            : ImmutableList<TimeoutRecord>.Empty;
        var record = new TimeoutRecord(_node.Path, _definition.Timeout, _fallback is not null, Context.System.Scheduler.Now);
        return context
            .Increment(WorkflowStateKeys.TimeoutCount)
            .WithState(WorkflowStateKeys.TimeoutHistory, history.Add(record));
    }

    protected override void PreRestart(Exception reason, object message)
    {
        foreach (var run in _pending.Values.Concat(_expired.Values).Distinct())
        {
            if (!run.Expired) run.Cancellation.Cancel();
            run.Cancellation.Dispose();
        }
        RunGuard.FailAll(_pending.Values, reason, Self);
        _pending.Clear();
        _expired.Clear();
        base.PreRestart(reason, message);
    }

    /// <summary>The time limit of a run is over; a local timer message, never sent across nodes.</summary>
    private sealed record Expire(Run Run);

    private sealed class Run : PrimitiveExecution
    {
        public Run(PrimitiveNode node, WorkflowEnvelope inbound) : base(node, inbound)
        {
            InnerContext = inbound.Context.CreateChild();
            Cancellation = CancellationTokenSource.CreateLinkedTokenSource(inbound.Cancellation);
        }

        public WorkflowContext InnerContext { get; }

        /// <summary>Cancels the inner run only: the caller's token is linked in, never cancelled from here.</summary>
        public CancellationTokenSource Cancellation { get; }

        public long InnerCallId;
        public bool Expired;
        public WorkflowContext? FallbackContext;
    }
}
