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
    /// <summary>The Timeout that expired.</summary>
    public string PrimitivePath { get; } = primitivePath;
    /// <summary>The time limit that passed.</summary>
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
    /// <param name="inner">The primitive to run within the limit.</param>
    /// <param name="timeout">The limit, greater than zero, measured on the actor scheduler.</param>
    /// <param name="fallback">Runs with the same input on expiry; without one the Timeout fails with <see cref="PrimitiveTimeoutException"/>.</param>
    /// <param name="trackTimeouts">Whether expiries are counted in the context state.</param>
    /// <param name="name">The name in spans, metrics and failure paths; the type name when null.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeout"/> is not greater than zero.</exception>
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

    /// <summary>The primitive run within the limit.</summary>
    public Primitive Inner { get; }
    /// <summary>The time limit.</summary>
    public TimeSpan Timeout { get; }
    /// <summary>Runs on expiry; null fails with <see cref="PrimitiveTimeoutException"/>.</summary>
    public Primitive? Fallback { get; }

    /// <summary>Whether expiries are recorded in the context state.</summary>
    public bool TrackTimeouts { get; }

    /// <inheritdoc/>
    public override IReadOnlyList<Primitive> Children => Fallback is null ? [Inner] : [Inner, Fallback];
    /// <inheritdoc/>
    public override string TypeName => "TimeoutPrimitive";

    internal override Props CreateProps(PrimitiveNode node) => TimeoutActor.Props(this, node);
}

internal sealed class TimeoutActor : CompositeActor<TimeoutActor.Run>, IWithTimers
{
    /// <summary>How many expired inner dispatches are remembered to recognise their late answers; older ones are forgotten.</summary>
    internal const int RememberedExpiries = 1024;

    private const int Inner = 0;
    private const int FallbackChild = 1;

    private readonly TimeoutPrimitive _definition;
    private readonly IActorRef _inner;
    private readonly IActorRef? _fallback;

    /// <summary>Inner dispatches that expired and have not answered yet, oldest first, with the workspace of their run.</summary>
    private readonly Dictionary<long, string?> _expired = new();
    private readonly Queue<long> _expiryOrder = new();

    public TimeoutActor(TimeoutPrimitive definition, PrimitiveNode node) : base(node)
    {
        _definition = definition;
        _inner = Context.ActorOf(definition.Inner.CreateProps(node.Child(definition.Inner, "")), "inner");
        if (definition.Fallback is { } fallback)
            _fallback = Context.ActorOf(fallback.CreateProps(node.Child(fallback, "[fallback]")), "fallback");
    }

    public static Props Props(TimeoutPrimitive definition, PrimitiveNode node) =>
        Akka.Actor.Props.Create(() => new TimeoutActor(definition, node));

    public ITimerScheduler Timers { get; set; } = null!;

    protected override Run CreateRun(WorkflowEnvelope envelope) => new(Node, envelope);

    protected override void OnStart(Run run)
    {
        run.Cancellation = CancellationTokenSource.CreateLinkedTokenSource(run.Inbound.Cancellation);
        var envelope = Register(run, Inner, run.Inbound.Payload, run.InnerContext) with { Cancellation = run.Cancellation.Token };
        // The timer is armed before the inner run can start, so no answer can come before it exists.
        Timers.StartSingleTimer(run, new Expire(run), _definition.Timeout);
        _inner.Tell(envelope);
    }

    protected override void OnChildSucceeded(Run run, int child, PrimitiveSucceeded answer)
    {
        if (child == Inner)
        {
            CatalogTelemetry.Tag(run, TelemetryNames.Catalog.Attributes.TimeoutExpired, false);
            Succeed(run, answer.Output, run.Context.AbsorbRecords(answer.Context, run.InnerContext));
        }
        else Succeed(run, answer.Output, run.Context.AbsorbRecords(answer.Context, run.FallbackContext!));
    }

    protected override void OnChildFailed(Run run, int child, PrimitiveFailed answer)
    {
        if (child == Inner) CatalogTelemetry.Tag(run, TelemetryNames.Catalog.Attributes.TimeoutExpired, false);
        // The fallback failed too: the count of this expiry still reaches the caller.
        else if (_definition.TrackTimeouts && answer.Failure.Context is null)
        {
            Fail(run, answer.Failure with { Context = run.Context });
            return;
        }
        Fail(run, answer.Failure);
    }

    protected override void OnSignal(Run run, RunSignal signal)
    {
        var callId = Abandon(run);
        run.Cancellation!.Cancel();
        Remember(callId, run.Inbound.Context.Workspace);
        CatalogTelemetry.Tag(run, TelemetryNames.Catalog.Attributes.TimeoutExpired, true);
        if (_definition.TrackTimeouts) run.Context = Track(run.Context);

        if (_fallback is null)
        {
            var failure = WorkflowFailure.From(Node.Path, new PrimitiveTimeoutException(Node.Path, _definition.Timeout));
            Fail(run, _definition.TrackTimeouts ? failure with { Context = run.Context } : failure);
            return;
        }
        if (!MayGoOn(run)) return;
        run.FallbackContext = run.Context.CreateChild();
        Dispatch(run, FallbackChild, _fallback, run.Inbound.Payload, run.FallbackContext);
    }

    protected override void OnLateAnswer(PrimitiveResult answer)
    {
        if (_expired.Remove(answer.CallId, out var workspace)) CatalogTelemetry.RecordLateResult(Node, workspace);
    }

    protected override void OnRunFinished(Run run)
    {
        Timers.Cancel(run);
        if (run.Cancellation is not { } source) return;
        // The inner run of a Timeout that finishes for any other reason than its own answer is cancelled with it.
        if (run.AwaitedCall != 0) source.Cancel();
        source.Dispose();
    }

    private void Remember(long callId, string? workspace)
    {
        if (_expiryOrder.Count == RememberedExpiries) _expired.Remove(_expiryOrder.Dequeue());
        _expired[callId] = workspace;
        _expiryOrder.Enqueue(callId);
    }

    private WorkflowContext Track(WorkflowContext context)
    {
        var history = context.State.TryGetValue(WorkflowStateKeys.TimeoutHistory, out var value) && value is ImmutableList<TimeoutRecord> list
            ? list
            : ImmutableList<TimeoutRecord>.Empty;
        var record = new TimeoutRecord(Node.Path, _definition.Timeout, _fallback is not null, Context.System.Scheduler.Now);
        return context
            .Increment(WorkflowStateKeys.TimeoutCount)
            .WithState(WorkflowStateKeys.TimeoutHistory, history.Add(record));
    }

    /// <summary>The time limit of a run is over; a local timer message, never sent across nodes.</summary>
    private sealed record Expire(Run Limited) : RunSignal(Limited);

    internal sealed class Run(PrimitiveNode node, WorkflowEnvelope inbound) : CompositeRun(node, inbound)
    {
        public WorkflowContext InnerContext { get; } = inbound.Context.CreateChild();

        /// <summary>Cancels the inner run only: the caller's token is linked in, never cancelled from here.</summary>
        public CancellationTokenSource? Cancellation;

        public WorkflowContext? FallbackContext;
    }
}
