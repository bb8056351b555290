using Akka.Actor;
using Akka.Event;
using TtaActors.Actors.Context;
using TtaActors.Actors.Execution;
using TtaActors.Telemetry;

namespace TtaActors.Actors.Primitives;

/// <summary>States of a circuit breaker; the numbers are the values of the <c>circuit_breaker_state</c> gauge.</summary>
public enum CircuitState
{
    /// <summary>Calls go through; consecutive failures are counted.</summary>
    Closed = 0,
    /// <summary>The recovery timeout has passed: calls go through to test recovery; a failure reopens.</summary>
    HalfOpen = 1,
    /// <summary>Calls are rejected with <see cref="CircuitBreakerOpenException"/> without calling the inner primitive.</summary>
    Open = 2,
}

/// <summary>Names of <see cref="CircuitState"/> values in telemetry.</summary>
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
    /// <summary>The breaker that rejected the call.</summary>
    public string PrimitivePath { get; } = primitivePath;
    /// <summary>Consecutive failures that opened the circuit.</summary>
    public int FailureCount { get; } = failureCount;
    /// <summary>When the breaker lets the next call through to test recovery.</summary>
    public DateTimeOffset RetryAt { get; } = retryAt;
    /// <summary>The failure that opened the circuit, when known.</summary>
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
        /// <summary>The one instance to send.</summary>
        public static readonly Reset Instance = new();
    }

    /// <summary>The answer to <see cref="Reset"/>: the circuit is CLOSED with its counts cleared.</summary>
    /// <param name="PrimitivePath">The breaker that was reset.</param>
    public sealed record ResetDone(string PrimitivePath);

    /// <summary>Answered with a <see cref="CircuitBreakerStatus"/>.</summary>
    public sealed record GetStatus
    {
        /// <summary>The one instance to send.</summary>
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
    private readonly Lock _lock = new();

    /// <summary>
    /// One entry per materialisation, added synchronously by <see cref="WorkflowGraph.Materialize(ActorSystem, Primitive, string, WorkflowGraphOptions?)"/>
    /// and resolved when its actor starts, so the breaker can be asked for its status as soon as its graph exists.
    /// </summary>
    private readonly List<TaskCompletionSource<IActorRef>> _materialisations = [];

    /// <summary>A breaker around <paramref name="inner"/>.</summary>
    /// <param name="inner">The protected primitive.</param>
    /// <param name="policy">Thresholds and recovery timeout; the defaults (5 failures, 60 s, 2 successes) when null.</param>
    /// <param name="name">The name in spans, metrics and failure paths; the type name when null.</param>
    /// <exception cref="ArgumentOutOfRangeException">A threshold is below 1 or the recovery timeout is not positive.</exception>
    public CircuitBreakerPrimitive(Primitive inner, CircuitBreakerPolicy? policy = null, string? name = null) : base(name)
    {
        Inner = inner ?? throw new ArgumentNullException(nameof(inner));
        Policy = policy ?? new CircuitBreakerPolicy();
        Policy.Validate();
    }

    /// <summary>A breaker around <paramref name="inner"/> with the policy's main settings given directly.</summary>
    /// <param name="inner">The protected primitive.</param>
    /// <param name="failureThreshold">Consecutive failures in CLOSED that open the circuit.</param>
    /// <param name="recoveryTimeout">How long the circuit stays OPEN before a call is let through.</param>
    /// <param name="successThreshold">Consecutive successes in HALF_OPEN that close it.</param>
    /// <param name="name">The name in spans, metrics and failure paths; the type name when null.</param>
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

    /// <summary>The protected primitive.</summary>
    public Primitive Inner { get; }
    /// <summary>Thresholds, recovery timeout and which failures count.</summary>
    public CircuitBreakerPolicy Policy { get; }
    /// <inheritdoc/>
    public override IReadOnlyList<Primitive> Children => [Inner];
    /// <inheritdoc/>
    public override string TypeName => "CircuitBreakerPrimitive";

    /// <summary>The actors of the live materialisations of this breaker.</summary>
    public IReadOnlyCollection<IActorRef> Breakers
    {
        get
        {
            lock (_lock) return _materialisations.Where(m => m.Task.IsCompletedSuccessfully).Select(m => m.Task.Result).ToArray();
        }
    }

    /// <summary>Closes every live materialisation of this breaker and forgets its counts.</summary>
    public async Task ResetAsync(TimeSpan? timeout = null)
    {
        var breakers = await LiveAsync(timeout ?? DefaultAskTimeout).ConfigureAwait(false);
        if (breakers.Length == 0) throw NotMaterialised();
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
    public async Task<IReadOnlyList<CircuitBreakerStatus>> GetStatusesAsync(TimeSpan? timeout = null)
    {
        var breakers = await LiveAsync(timeout ?? DefaultAskTimeout).ConfigureAwait(false);
        return await Task.WhenAll(breakers.Select(b =>
            b.Ask<CircuitBreakerStatus>(CircuitBreakerCommands.GetStatus.Instance, timeout ?? DefaultAskTimeout))).ConfigureAwait(false);
    }

    /// <summary>Called when a graph containing this breaker is materialised, before its actors exist.</summary>
    internal void ExpectMaterialisation()
    {
        lock (_lock) _materialisations.Add(new TaskCompletionSource<IActorRef>(TaskCreationOptions.RunContinuationsAsynchronously));
    }

    /// <summary>A breaker actor has started: it takes the first materialisation still waiting for its actor.</summary>
    internal void Attach(IActorRef breaker)
    {
        lock (_lock)
        {
            var waiting = _materialisations.FirstOrDefault(m => !m.Task.IsCompleted);
            if (waiting is null)
            {
                waiting = new TaskCompletionSource<IActorRef>(TaskCreationOptions.RunContinuationsAsynchronously);
                _materialisations.Add(waiting);
            }
            waiting.TrySetResult(breaker);
        }
    }

    internal void Detach(IActorRef breaker)
    {
        lock (_lock) _materialisations.RemoveAll(m => m.Task.IsCompletedSuccessfully && m.Task.Result.Equals(breaker));
    }

    /// <summary>The actors of every materialisation, waiting (at most <paramref name="timeout"/>) for those still starting.</summary>
    private async Task<IActorRef[]> LiveAsync(TimeSpan timeout)
    {
        Task<IActorRef>[] actors;
        lock (_lock) actors = _materialisations.Select(m => m.Task).ToArray();
        try
        {
            return await Task.WhenAll(actors).WaitAsync(timeout).ConfigureAwait(false);
        }
        catch (TimeoutException error)
        {
            throw new TimeoutException(
                $"Circuit breaker '{DisplayName}' was materialised but its actor did not start within {timeout}; " +
                "check the actor system's log for the failure that stopped it.", error);
        }
    }

    internal override bool SharesStateAcrossRuns => true;

    internal override Props CreateProps(PrimitiveNode node) => CircuitBreakerActor.Props(this, node);

    private static readonly TimeSpan DefaultAskTimeout = TimeSpan.FromSeconds(10);

    private InvalidOperationException NotMaterialised() => new(
        $"Circuit breaker '{DisplayName}' is not part of a running workflow graph; materialise its workflow with " +
        "WorkflowGraph.Materialize first.");
}

/// <summary>The breaker's state machine: one behaviour per state, switched at each transition.</summary>
internal sealed class CircuitBreakerActor : CompositeActor<CircuitBreakerActor.Run>
{
    private readonly CircuitBreakerPrimitive _definition;
    private readonly CircuitBreakerPolicy _policy;
    private readonly IActorRef _inner;
    private readonly Behaviour _closed;
    private readonly Behaviour _open;
    private readonly Behaviour _halfOpen;
    private Behaviour _behaviour;

    private CircuitState _state = CircuitState.Closed;

    /// <summary>Bumped at every transition: an answer to a call admitted in an earlier state changes no counts.</summary>
    private int _generation;

    private int _consecutiveFailures;
    private int _halfOpenSuccesses;
    private DateTimeOffset? _openedAt;
    private WorkflowFailure? _lastFailure;

    /// <summary>The workspace of the latest run, the service a transition is reported under.</summary>
    private string? _serviceName;

    public CircuitBreakerActor(CircuitBreakerPrimitive definition, PrimitiveNode node) : base(node)
    {
        _definition = definition;
        _policy = definition.Policy;
        _inner = Context.ActorOf(definition.Inner.CreateProps(node.Child(definition.Inner, "")), "inner");
        _closed = new ClosedBehaviour(this);
        _open = new OpenBehaviour(this);
        _halfOpen = new HalfOpenBehaviour(this);
        _behaviour = _closed;
    }

    public static Props Props(CircuitBreakerPrimitive definition, PrimitiveNode node) =>
        Akka.Actor.Props.Create(() => new CircuitBreakerActor(definition, node));

    protected override void PreStart()
    {
        base.PreStart();
        _definition.Attach(Self);
    }

    protected override void PostStop()
    {
        _definition.Detach(Self);
        base.PostStop();
    }

    protected override Run CreateRun(WorkflowEnvelope envelope) => new(Node, envelope);

    protected override void OnStart(Run run)
    {
        Remember(run.Inbound);
        _behaviour.Start(run);
    }

    protected override void OnChildSucceeded(Run run, int child, PrimitiveSucceeded answer)
    {
        if (run.Generation == _generation) _behaviour.Succeeded(run);
        Succeed(run, answer.Output, run.Context.AbsorbRecords(answer.Context, run.InnerContext));
    }

    protected override void OnChildFailed(Run run, int child, PrimitiveFailed answer)
    {
        if (run.Generation == _generation && (_policy.CountsAsFailure?.Invoke(answer.Failure) ?? true))
        {
            _lastFailure = answer.Failure;
            _behaviour.Failed(run);
        }
        Fail(run, answer.Failure);
    }

    protected override void OnCommand(object message)
    {
        switch (message)
        {
            case CircuitBreakerCommands.Reset:
                if (_state != CircuitState.Closed) TransitionTo(CircuitState.Closed, null);
                else _generation++;
                _consecutiveFailures = 0;
                _lastFailure = null;
                Log.Info("Circuit breaker '{0}' was reset to CLOSED", Node.Path);
                Sender.Tell(new CircuitBreakerCommands.ResetDone(Node.Path));
                break;
            case CircuitBreakerCommands.GetStatus:
                Sender.Tell(new CircuitBreakerStatus(Node.Path, _state, _consecutiveFailures, _halfOpenSuccesses, _openedAt, _lastFailure));
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    private void Admit(Run run)
    {
        CatalogTelemetry.Tag(run, TelemetryNames.Catalog.Attributes.CircuitState, _state.ToLabel());
        run.Generation = _generation;
        Dispatch(run, 0, _inner, run.Inbound.Payload, run.InnerContext);
    }

    private void Remember(WorkflowEnvelope envelope)
    {
        var first = _serviceName is null;
        _serviceName = envelope.Context.Workspace ?? _serviceName;
        if (first) CatalogTelemetry.RecordCircuitState(Node, _serviceName, _state);
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
                _behaviour = _open;
                break;
            case CircuitState.HalfOpen:
                _halfOpenSuccesses = 0;
                _behaviour = _halfOpen;
                break;
            case CircuitState.Closed:
                _consecutiveFailures = 0;
                _halfOpenSuccesses = 0;
                _openedAt = null;
                _behaviour = _closed;
                break;
        }

        if (next == CircuitState.Open)
            Log.Warning("Circuit breaker '{0}' {1} -> {2} after {3} consecutive failure(s); rejecting calls for {4}. Last failure: {5}",
                Node.Path, Upper(previous), Upper(next), _consecutiveFailures, _policy.RecoveryTimeout, _lastFailure);
        else
            Log.Info("Circuit breaker '{0}' {1} -> {2}", Node.Path, Upper(previous), Upper(next));
        CatalogTelemetry.RecordCircuitTransition(Node, _serviceName, previous, next);
        CatalogTelemetry.RecordCircuitState(Node, _serviceName, next);
        CatalogTelemetry.AddTransitionEvent(cause?.Span, previous, next);
    }

    private DateTimeOffset Now => Context.System.Scheduler.Now;

    private static string Upper(CircuitState state) => state.ToLabel().ToUpperInvariant();

    /// <summary>What the breaker does in one state: admit or reject a call, and count an answer of the current generation.</summary>
    private abstract class Behaviour(CircuitBreakerActor breaker)
    {
        protected CircuitBreakerActor Breaker { get; } = breaker;

        public virtual void Start(Run run) => Breaker.Admit(run);

        // Calls answered while OPEN were admitted in an earlier generation, so in OPEN nothing ever counts.
        public virtual void Succeeded(Run run)
        {
        }

        public virtual void Failed(Run run)
        {
        }
    }

    private sealed class ClosedBehaviour(CircuitBreakerActor breaker) : Behaviour(breaker)
    {
        public override void Succeeded(Run run) => Breaker._consecutiveFailures = 0;

        public override void Failed(Run run)
        {
            if (++Breaker._consecutiveFailures >= Breaker._policy.FailureThreshold) Breaker.TransitionTo(CircuitState.Open, run);
        }
    }

    private sealed class OpenBehaviour(CircuitBreakerActor breaker) : Behaviour(breaker)
    {
        public override void Start(Run run)
        {
            var retryAt = Breaker._openedAt!.Value + Breaker._policy.RecoveryTimeout;
            if (Breaker.Now >= retryAt)
            {
                Breaker.TransitionTo(CircuitState.HalfOpen, run);
                Breaker.Admit(run);
                return;
            }
            CatalogTelemetry.Tag(run, TelemetryNames.Catalog.Attributes.CircuitState, CircuitState.Open.ToLabel());
            Breaker.Fail(run, new CircuitBreakerOpenException(Breaker.Node.Path, Breaker._consecutiveFailures, retryAt, Breaker._lastFailure));
        }
    }

    private sealed class HalfOpenBehaviour(CircuitBreakerActor breaker) : Behaviour(breaker)
    {
        public override void Succeeded(Run run)
        {
            if (++Breaker._halfOpenSuccesses >= Breaker._policy.SuccessThreshold) Breaker.TransitionTo(CircuitState.Closed, run);
        }

        public override void Failed(Run run) => Breaker.TransitionTo(CircuitState.Open, run);
    }

    internal sealed class Run : CompositeRun
    {
        public Run(PrimitiveNode node, WorkflowEnvelope inbound) : base(node, inbound) => InnerContext = inbound.Context.CreateChild();

        public WorkflowContext InnerContext { get; }

        /// <summary>The breaker's generation when this call was admitted.</summary>
        public int Generation;
    }
}
