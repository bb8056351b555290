using System.Collections.Concurrent;
using Akka.Actor;
using Akka.Event;
using TtaActors.Actors.Context;
using TtaActors.Actors.Execution;
using TtaActors.Telemetry;

namespace TtaActors.Actors.Primitives;

/// <summary>States of a circuit breaker; the numbers are the values of the <c>circuit_breaker_state</c> gauge.</summary>
public enum CircuitState
{
    Closed = 0,
    HalfOpen = 1,
    Open = 2,
}

public static class CircuitStateNames
{
    /// <summary>The state as it appears in span attributes and metric labels: <c>closed</c>, <c>half_open</c>, <c>open</c>.</summary>
    public static string ToLabel(this CircuitState state) => state switch
    {
        CircuitState.Closed => "closed",
        CircuitState.HalfOpen => "half_open",
        CircuitState.Open => "open",
        _ => throw new ArgumentOutOfRangeException(nameof(state), state, null),
    };
}

/// <summary>Settings of a <see cref="CircuitBreakerPrimitive"/>, with the original library's defaults.</summary>
public sealed record CircuitBreakerPolicy
{
    /// <summary>Consecutive counted failures in CLOSED that open the circuit.</summary>
    public int FailureThreshold { get; init; } = 5;

    /// <summary>How long the circuit stays OPEN, measured on the actor scheduler from the moment it opened.</summary>
    public TimeSpan RecoveryTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Consecutive successes in HALF_OPEN that close the circuit.</summary>
    public int SuccessThreshold { get; init; } = 2;

    /// <summary>
    /// Decides whether a failure counts against the circuit (the original's <c>expected_exception</c>); null counts
    /// every failure. A failure that does not count is answered as it is and changes nothing.
    /// </summary>
    public Func<WorkflowFailure, bool>? CountsAsFailure { get; init; }

    /// <summary>Counts only failures caused by <typeparamref name="TException"/> (or a subclass).</summary>
    public CircuitBreakerPolicy ExpectedException<TException>() where TException : Exception =>
        this with
        {
            CountsAsFailure = f => f.Exception is TException || (f.Exception is null && f.ErrorType == typeof(TException).FullName),
        };

    internal void Validate()
    {
        if (FailureThreshold <= 0)
            throw new ArgumentOutOfRangeException(nameof(FailureThreshold), FailureThreshold, "FailureThreshold must be 1 or more.");
        if (RecoveryTimeout <= TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(RecoveryTimeout), RecoveryTimeout, "RecoveryTimeout must be greater than zero.");
        if (SuccessThreshold <= 0)
            throw new ArgumentOutOfRangeException(nameof(SuccessThreshold), SuccessThreshold, "SuccessThreshold must be 1 or more.");
    }
}

/// <summary>Answer of a circuit breaker that is OPEN: the inner primitive was not called.</summary>
public sealed class CircuitBreakerOpenException(string primitivePath, int failureCount, DateTimeOffset retryAt, WorkflowFailure? lastFailure)
    : Exception(
        $"Circuit breaker '{primitivePath}' is OPEN after {failureCount} consecutive failure(s); calls are rejected until " +
        $"{retryAt:O}, when one is let through to test recovery." +
        (lastFailure is null ? "" : $" Last failure: {lastFailure}"))
{
    public string PrimitivePath { get; } = primitivePath;
    public int FailureCount { get; } = failureCount;
    public DateTimeOffset RetryAt { get; } = retryAt;
    public WorkflowFailure? LastFailure { get; } = lastFailure;
}

/// <summary>What a circuit breaker actor reports about itself.</summary>
public sealed record CircuitBreakerStatus(
    string PrimitivePath,
    CircuitState State,
    int ConsecutiveFailures,
    int HalfOpenSuccesses,
    DateTimeOffset? OpenedAt,
    WorkflowFailure? LastFailure);

/// <summary>Messages a circuit breaker actor answers besides runs.</summary>
public static class CircuitBreakerCommands
{
    /// <summary>Closes the circuit and forgets its counts; answered with <see cref="ResetDone"/>.</summary>
    public sealed record Reset
    {
        public static readonly Reset Instance = new();
    }

    public sealed record ResetDone(string PrimitivePath);

    /// <summary>Answered with a <see cref="CircuitBreakerStatus"/>.</summary>
    public sealed record GetStatus
    {
        public static readonly GetStatus Instance = new();
    }
}

/// <summary>
/// Protects its inner primitive from being called while it keeps failing. CLOSED lets calls through and counts
/// consecutive failures; at <see cref="CircuitBreakerPolicy.FailureThreshold"/> it opens. OPEN rejects calls with
/// <see cref="CircuitBreakerOpenException"/> without calling the inner primitive; the first call at or after
/// <see cref="CircuitBreakerPolicy.RecoveryTimeout"/> makes it HALF_OPEN and goes through. HALF_OPEN closes after
/// <see cref="CircuitBreakerPolicy.SuccessThreshold"/> consecutive successes and reopens on any counted failure.
/// </summary>
/// <remarks>
/// The state lives in the breaker's actor and is shared by every run through it. Each materialisation of this
/// definition has its own actor, and so its own state; <see cref="ResetAsync"/> and <see cref="GetStatusAsync"/> reach
/// the actors of every live materialisation.
/// </remarks>
public sealed class CircuitBreakerPrimitive : Primitive
{
    private readonly ConcurrentDictionary<IActorRef, byte> _breakers = new();

    public CircuitBreakerPrimitive(Primitive inner, CircuitBreakerPolicy? policy = null, string? name = null) : base(name)
    {
        Inner = inner ?? throw new ArgumentNullException(nameof(inner));
        Policy = policy ?? new CircuitBreakerPolicy();
        Policy.Validate();
    }

    public CircuitBreakerPrimitive(Primitive inner, int failureThreshold, TimeSpan recoveryTimeout, int successThreshold = 2,
        string? name = null)
        : this(inner, new CircuitBreakerPolicy
        {
            FailureThreshold = failureThreshold,
            RecoveryTimeout = recoveryTimeout,
            SuccessThreshold = successThreshold,
        }, name)
    {
    }

    public Primitive Inner { get; }
    public CircuitBreakerPolicy Policy { get; }
    public override IReadOnlyList<Primitive> Children => [Inner];
    public override string TypeName => "CircuitBreakerPrimitive";

    /// <summary>The actors of the live materialisations of this breaker.</summary>
    public IReadOnlyCollection<IActorRef> Breakers => _breakers.Keys.ToArray();

    /// <summary>Closes every live materialisation of this breaker and forgets its counts.</summary>
    public async Task ResetAsync(TimeSpan? timeout = null)
    {
        var breakers = Breakers;
        if (breakers.Count == 0) throw NotMaterialised();
        await Task.WhenAll(breakers.Select(b =>
            b.Ask<CircuitBreakerCommands.ResetDone>(CircuitBreakerCommands.Reset.Instance, timeout ?? DefaultAskTimeout))).ConfigureAwait(false);
    }

    /// <summary>The status of this breaker, which must be materialised exactly once (else use <see cref="GetStatusesAsync"/>).</summary>
    public async Task<CircuitBreakerStatus> GetStatusAsync(TimeSpan? timeout = null)
    {
        var statuses = await GetStatusesAsync(timeout).ConfigureAwait(false);
        return statuses.Count switch
        {
            0 => throw NotMaterialised(),
            1 => statuses[0],
            _ => throw new InvalidOperationException(
                $"Circuit breaker '{DisplayName}' is materialised {statuses.Count} times, each with its own state; " +
                "use GetStatusesAsync to read them all."),
        };
    }

    /// <summary>The status of every live materialisation of this breaker.</summary>
    public async Task<IReadOnlyList<CircuitBreakerStatus>> GetStatusesAsync(TimeSpan? timeout = null) =>
        await Task.WhenAll(Breakers.Select(b =>
            b.Ask<CircuitBreakerStatus>(CircuitBreakerCommands.GetStatus.Instance, timeout ?? DefaultAskTimeout))).ConfigureAwait(false);

    internal void Attach(IActorRef breaker) => _breakers.TryAdd(breaker, 0);

    internal void Detach(IActorRef breaker) => _breakers.TryRemove(breaker, out _);

    internal override Props CreateProps(PrimitiveNode node) => CircuitBreakerActor.Props(this, node);

    private static readonly TimeSpan DefaultAskTimeout = TimeSpan.FromSeconds(10);

    private InvalidOperationException NotMaterialised() => new(
        $"Circuit breaker '{DisplayName}' is not part of a running workflow graph; materialise its workflow with " +
        "WorkflowGraph.Materialize first.");
}

/// <summary>The breaker's state machine: one behaviour per state, switched with <c>Become</c>.</summary>
internal sealed class CircuitBreakerActor : UntypedActor
{
    private readonly CircuitBreakerPrimitive _definition;
    private readonly CircuitBreakerPolicy _policy;
    private readonly PrimitiveNode _node;
    private readonly IActorRef _inner;
    private readonly Dictionary<long, Run> _pending = new();
    private readonly ILoggingAdapter _log = Context.GetLogger();

    private CircuitState _state = CircuitState.Closed;

    /// <summary>Bumped at every transition: an answer to a call admitted in an earlier state changes no counts.</summary>
    private int _generation;

    private int _consecutiveFailures;
    private int _halfOpenSuccesses;
    private DateTimeOffset? _openedAt;
    private WorkflowFailure? _lastFailure;

    /// <summary>The workspace of the latest run, the service a transition is reported under.</summary>
    private string? _serviceName;

    public CircuitBreakerActor(CircuitBreakerPrimitive definition, PrimitiveNode node)
    {
        _definition = definition;
        _policy = definition.Policy;
        _node = node;
        _inner = Context.ActorOf(definition.Inner.CreateProps(node.Child(definition.Inner, "")), "inner");
        Become(Closed);
    }

    public static Props Props(CircuitBreakerPrimitive definition, PrimitiveNode node) =>
        Akka.Actor.Props.Create(() => new CircuitBreakerActor(definition, node));

    protected override void PreStart() => _definition.Attach(Self);

    protected override void PostStop() => _definition.Detach(Self);

    // Every message goes to the current behaviour; this is never reached.
    protected override void OnReceive(object message) => Unhandled(message);

    private void Closed(object message)
    {
        switch (message)
        {
            case WorkflowEnvelope envelope:
                Admit(new Run(_node, envelope));
                break;
            case PrimitiveSucceeded done when Answered(done, out var run):
                if (run.Generation == _generation) _consecutiveFailures = 0;
                Succeed(run, done);
                break;
            case PrimitiveFailed failed when Answered(failed, out var run):
                if (run.Generation == _generation && Counts(failed.Failure))
                {
                    _lastFailure = failed.Failure;
                    if (++_consecutiveFailures >= _policy.FailureThreshold) TransitionTo(CircuitState.Open, run);
                }
                run.Fail(failed.Failure, Self);
                break;
            default:
                Common(message);
                break;
        }
    }

    private void Open(object message)
    {
        switch (message)
        {
            case WorkflowEnvelope envelope:
                var run = new Run(_node, envelope);
                var retryAt = _openedAt!.Value + _policy.RecoveryTimeout;
                if (Context.System.Scheduler.Now >= retryAt)
                {
                    TransitionTo(CircuitState.HalfOpen, run);
                    Admit(run);
                    break;
                }
                Remember(envelope);
                CatalogTelemetry.Tag(run, TelemetryNames.Catalog.Attributes.CircuitState, CircuitState.Open.ToLabel());
                run.Fail(new CircuitBreakerOpenException(_node.Path, _consecutiveFailures, retryAt, _lastFailure), Self);
                break;
            case PrimitiveSucceeded done when Answered(done, out var late):
                Succeed(late, done);
                break;
            case PrimitiveFailed failed when Answered(failed, out var late):
                late.Fail(failed.Failure, Self);
                break;
            default:
                Common(message);
                break;
        }
    }

    private void HalfOpen(object message)
    {
        switch (message)
        {
            case WorkflowEnvelope envelope:
                Admit(new Run(_node, envelope));
                break;
            case PrimitiveSucceeded done when Answered(done, out var run):
                if (run.Generation == _generation && ++_halfOpenSuccesses >= _policy.SuccessThreshold)
                    TransitionTo(CircuitState.Closed, run);
                Succeed(run, done);
                break;
            case PrimitiveFailed failed when Answered(failed, out var run):
                if (run.Generation == _generation && Counts(failed.Failure))
                {
                    _lastFailure = failed.Failure;
                    TransitionTo(CircuitState.Open, run);
                }
                run.Fail(failed.Failure, Self);
                break;
            default:
                Common(message);
                break;
        }
    }

    /// <summary>Messages every state answers the same way.</summary>
    private void Common(object message)
    {
        switch (message)
        {
            case CircuitBreakerCommands.Reset:
                if (_state != CircuitState.Closed) TransitionTo(CircuitState.Closed, null);
                else _generation++;
                _consecutiveFailures = 0;
                _lastFailure = null;
                _log.Info("Circuit breaker '{0}' was reset to CLOSED", _node.Path);
                Sender.Tell(new CircuitBreakerCommands.ResetDone(_node.Path));
                break;
            case CircuitBreakerCommands.GetStatus:
                Sender.Tell(new CircuitBreakerStatus(_node.Path, _state, _consecutiveFailures, _halfOpenSuccesses, _openedAt, _lastFailure));
                break;
            case PrimitiveResult:
                break; // an answer for a run that has already finished
            default:
                Unhandled(message);
                break;
        }
    }

    private void Admit(Run run)
    {
        Remember(run.Inbound);
        if (RunGuard.Expired(run.Inbound, Context.System.Scheduler) is { } expired)
        {
            run.Fail(expired, Self);
            return;
        }
        CatalogTelemetry.Tag(run, TelemetryNames.Catalog.Attributes.CircuitState, _state.ToLabel());
        run.Generation = _generation;
        var callId = WorkflowEnvelope.NextCallId();
        _pending.Add(callId, run);
        _inner.Tell(run.ChildEnvelope(callId, run.Inbound.Payload, run.InnerContext, Self));
    }

    private bool Answered(PrimitiveResult result, out Run run) => _pending.Remove(result.CallId, out run!);

    private void Succeed(Run run, PrimitiveSucceeded done) =>
        run.Succeed(done.Output, run.Context.AbsorbRecords(done.Context, run.InnerContext), Self);

    private bool Counts(WorkflowFailure failure) => _policy.CountsAsFailure?.Invoke(failure) ?? true;

    private void Remember(WorkflowEnvelope envelope)
    {
        var first = _serviceName is null;
        _serviceName = envelope.Context.Workspace ?? _serviceName;
        if (first) CatalogTelemetry.RecordCircuitState(_node, _serviceName, _state);
    }

    private void TransitionTo(CircuitState next, Run? cause)
    {
        var previous = _state;
        _state = next;
        _generation++;
        switch (next)
        {
            case CircuitState.Open:
                _openedAt = Context.System.Scheduler.Now;
                _halfOpenSuccesses = 0;
                Become(Open);
                break;
            case CircuitState.HalfOpen:
                _halfOpenSuccesses = 0;
                Become(HalfOpen);
                break;
            case CircuitState.Closed:
                _consecutiveFailures = 0;
                _halfOpenSuccesses = 0;
                _openedAt = null;
                Become(Closed);
                break;
        }

        if (next == CircuitState.Open)
            _log.Warning("Circuit breaker '{0}' {1} -> {2} after {3} consecutive failure(s); rejecting calls for {4}. Last failure: {5}",
                _node.Path, Upper(previous), Upper(next), _consecutiveFailures, _policy.RecoveryTimeout, _lastFailure);
        else
            _log.Info("Circuit breaker '{0}' {1} -> {2}", _node.Path, Upper(previous), Upper(next));
        CatalogTelemetry.RecordCircuitTransition(_node, _serviceName, previous, next);
        CatalogTelemetry.RecordCircuitState(_node, _serviceName, next);
        CatalogTelemetry.AddTransitionEvent(cause?.Span, previous, next);
    }

    private static string Upper(CircuitState state) => state.ToLabel().ToUpperInvariant();

    protected override void PreRestart(Exception reason, object message)
    {
        RunGuard.FailAll(_pending.Values, reason, Self);
        _pending.Clear();
        base.PreRestart(reason, message);
    }

    private sealed class Run : PrimitiveExecution
    {
        public Run(PrimitiveNode node, WorkflowEnvelope inbound) : base(node, inbound) => InnerContext = inbound.Context.CreateChild();

        public WorkflowContext InnerContext { get; }

        /// <summary>The breaker's generation when this call was admitted.</summary>
        public int Generation;
    }
}
