using System.Diagnostics;
using Akka.Actor;
using TtaActors.Actors.Context;
using TtaActors.Actors.Execution;
using TtaActors.Telemetry;

namespace TtaActors.Actors.Primitives;

/// <summary>Backoff settings of a <see cref="RetryPrimitive"/>, with the original library's defaults.</summary>
public sealed record RetryPolicy
{
    public int MaxRetries { get; init; } = 3;
    public double BackoffBase { get; init; } = 2.0;

    /// <summary>Upper bound of one delay, in seconds; 0 retries at once.</summary>
    public double MaxBackoff { get; init; } = 60;

    public bool Jitter { get; init; } = true;

    /// <summary>Decides whether a failure is worth another attempt; null retries every failure.</summary>
    public Func<WorkflowFailure, bool>? RetryIf { get; init; }

    /// <summary>Retries only failures caused by <typeparamref name="TException"/> (or a subclass).</summary>
    public RetryPolicy RetryOn<TException>() where TException : Exception =>
        this with { RetryIf = f => f.Exception is TException || (f.Exception is null && f.ErrorType == typeof(TException).FullName) };

    internal void Validate()
    {
        if (MaxRetries < 0) throw new ArgumentOutOfRangeException(nameof(MaxRetries), MaxRetries, "MaxRetries must be 0 or more.");
        if (BackoffBase < 0 || double.IsNaN(BackoffBase))
            throw new ArgumentOutOfRangeException(nameof(BackoffBase), BackoffBase, "BackoffBase must be 0 or more.");
        if (MaxBackoff < 0 || double.IsNaN(MaxBackoff))
            throw new ArgumentOutOfRangeException(nameof(MaxBackoff), MaxBackoff, "MaxBackoff must be 0 or more seconds.");
    }

    /// <summary>
    /// Delay before retry <paramref name="retry"/> (0 for the first retry): min(base^n, max) seconds, times
    /// (0.5 + a random number in [0, 1)) with jitter.
    /// </summary>
    public TimeSpan DelayBefore(int retry, Random random)
    {
        var seconds = Math.Min(Math.Pow(BackoffBase, retry), MaxBackoff);
        if (Jitter) seconds *= 0.5 + random.NextDouble();
        return TimeSpan.FromSeconds(seconds);
    }
}

/// <summary>
/// Runs its inner primitive up to MaxRetries + 1 times with the same input and context, waiting on the actor
/// scheduler between attempts. After the last attempt the last failure is answered, original error included.
/// </summary>
public sealed class RetryPrimitive : Primitive
{
    public RetryPrimitive(Primitive inner, RetryPolicy? policy = null, string? name = null) : base(name)
    {
        Inner = inner ?? throw new ArgumentNullException(nameof(inner));
        Policy = policy ?? new RetryPolicy();
        Policy.Validate();
    }

    public RetryPrimitive(Primitive inner, int maxRetries, double backoffBase = 2.0, double maxBackoff = 60, bool jitter = true,
        string? name = null)
        : this(inner, new RetryPolicy { MaxRetries = maxRetries, BackoffBase = backoffBase, MaxBackoff = maxBackoff, Jitter = jitter }, name)
    {
    }

    public Primitive Inner { get; }
    public RetryPolicy Policy { get; }
    public override IReadOnlyList<Primitive> Children => [Inner];
    public override string TypeName => "RetryPrimitive";

    internal override Props CreateProps(PrimitiveNode node) => RetryActor.Props(this, node);
}

internal sealed class RetryActor : UntypedActor, IWithTimers
{
    private readonly RetryPolicy _policy;
    private readonly PrimitiveNode _node;
    private readonly IActorRef _inner;
    private readonly Dictionary<long, Run> _pending = new();
    private readonly HashSet<Run> _waiting = new();

    public RetryActor(RetryPrimitive definition, PrimitiveNode node)
    {
        _policy = definition.Policy;
        _node = node;
        _inner = Context.ActorOf(definition.Inner.CreateProps(node.Child(definition.Inner, "")), "inner");
    }

    public static Props Props(RetryPrimitive definition, PrimitiveNode node) =>
        Akka.Actor.Props.Create(() => new RetryActor(definition, node));

    public ITimerScheduler Timers { get; set; } = null!;

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case WorkflowEnvelope envelope:
                Attempt(new Run(_node, envelope));
                break;
            case PrimitiveSucceeded done when _pending.Remove(done.CallId, out var run):
                EndAttempt(run, null);
                run.Succeed(done.Output, run.Context.AbsorbRecords(done.Context, run.AttemptContext), Self);
                break;
            case PrimitiveFailed failed when _pending.Remove(failed.CallId, out var run):
                EndAttempt(run, failed.Failure);
                OnAttemptFailed(run, failed.Failure);
                break;
            case RetryDue due when _waiting.Remove(due.Run):
                Attempt(due.Run);
                break;
            case PrimitiveResult:
            case RetryDue:
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    private void Attempt(Run run)
    {
        if (RunGuard.Expired(run.Inbound, Context.System.Scheduler) is { } expired)
        {
            run.Fail(run.LastFailure ?? WorkflowFailure.From(_node.Path, expired), Self);
            return;
        }
        var attempt = run.Attempts++;
        run.AttemptSpan = PrimitiveTelemetry.StartSpan(
            TelemetryNames.Spans.RetryAttemptPrefix + attempt, ActivityKind.Internal, TraceParent.From(run.Span));
        if (run.AttemptSpan is { IsAllDataRequested: true } span)
        {
            span.SetTag(TelemetryNames.Attributes.RetryAttempt, attempt);
            PrimitiveTelemetry.TagLangfuseTrace(span, _node.WorkflowName, run.Context);
        }
        var callId = WorkflowEnvelope.NextCallId();
        _pending.Add(callId, run);
        var envelope = run.ChildEnvelope(callId, run.Inbound.Payload, run.AttemptContext, Self);
        if (run.AttemptSpan is not null) envelope = envelope with { TraceParent = TraceParent.From(run.AttemptSpan) };
        _inner.Tell(envelope);
    }

    private void OnAttemptFailed(Run run, WorkflowFailure failure)
    {
        run.LastFailure = failure;
        var retriesDone = run.Attempts - 1;
        if (retriesDone >= _policy.MaxRetries || !(_policy.RetryIf?.Invoke(failure) ?? true))
        {
            run.Fail(failure, Self);
            return;
        }
        var delay = _policy.DelayBefore(retriesDone, Random.Shared);
        if (delay <= TimeSpan.Zero)
        {
            Attempt(run);
            return;
        }
        _waiting.Add(run);
        Timers.StartSingleTimer(run, new RetryDue(run), delay);
    }

    private static void EndAttempt(Run run, WorkflowFailure? failure)
    {
        if (run.AttemptSpan is not { } span) return;
        PrimitiveTelemetry.EndSpan(span,
            failure is null ? TelemetryNames.Status.Success : TelemetryNames.Status.Error, failure?.Exception, failure?.Message);
        run.AttemptSpan = null;
    }

    protected override void PreRestart(Exception reason, object message)
    {
        RunGuard.FailAll(_pending.Values.Concat(_waiting), reason, Self);
        _pending.Clear();
        _waiting.Clear();
        base.PreRestart(reason, message);
    }

    /// <summary>The backoff of a run is over; it is a local timer message, never sent across nodes.</summary>
    private sealed record RetryDue(Run Run);

    private sealed class Run : PrimitiveExecution
    {
        public Run(PrimitiveNode node, WorkflowEnvelope inbound) : base(node, inbound) => AttemptContext = inbound.Context.CreateChild();

        /// <summary>Every attempt gets the same context, as the original library does.</summary>
        public WorkflowContext AttemptContext { get; }
        public int Attempts;
        public Activity? AttemptSpan;
        public WorkflowFailure? LastFailure;
    }
}
