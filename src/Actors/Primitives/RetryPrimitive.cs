using System.Diagnostics;
using Akka.Actor;
using TtaActors.Actors.Context;
using TtaActors.Actors.Execution;
using TtaActors.Telemetry;

namespace TtaActors.Actors.Primitives;

/// <summary>Backoff settings of a <see cref="RetryPrimitive"/>, with the original library's defaults.</summary>
public sealed record RetryPolicy
{
    /// <summary>Retries after the first attempt (total attempts = MaxRetries + 1); 3 by default, 0 for none.</summary>
    public int MaxRetries { get; init; } = 3;
    /// <summary>Base of the exponential backoff: retry n waits base^n seconds (before the cap and jitter); 2 by default.</summary>
    public double BackoffBase { get; init; } = 2.0;

    /// <summary>Upper bound of one delay, in seconds; 0 retries at once.</summary>
    public double MaxBackoff { get; init; } = 60;

    /// <summary>Multiplies each delay by 0.5 plus a random number in [0, 1), so retries of many runs spread out; on by default.</summary>
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
    /// <param name="inner">The primitive to attempt.</param>
    /// <param name="policy">Attempts, backoff and which failures are retried; the defaults when null.</param>
    /// <param name="name">The name in spans, metrics and failure paths; the type name when null.</param>
    /// <exception cref="ArgumentOutOfRangeException">A policy setting is negative.</exception>
    public RetryPrimitive(Primitive inner, RetryPolicy? policy = null, string? name = null) : base(name)
    {
        Inner = inner ?? throw new ArgumentNullException(nameof(inner));
        Policy = policy ?? new RetryPolicy();
        Policy.Validate();
    }

    /// <summary>A Retry with the policy's settings given directly (see <see cref="RetryPolicy"/>).</summary>
    /// <param name="inner">The primitive to attempt.</param>
    /// <param name="maxRetries">Retries after the first attempt.</param>
    /// <param name="backoffBase">Base of the exponential backoff, in seconds.</param>
    /// <param name="maxBackoff">Upper bound of one delay, in seconds.</param>
    /// <param name="jitter">Whether delays are randomised.</param>
    /// <param name="name">The name in spans, metrics and failure paths; the type name when null.</param>
    public RetryPrimitive(Primitive inner, int maxRetries, double backoffBase = 2.0, double maxBackoff = 60, bool jitter = true,
        string? name = null)
        : this(inner, new RetryPolicy { MaxRetries = maxRetries, BackoffBase = backoffBase, MaxBackoff = maxBackoff, Jitter = jitter }, name)
    {
    }

    /// <summary>The primitive attempted.</summary>
    public Primitive Inner { get; }
    /// <summary>Attempts, backoff and which failures are retried.</summary>
    public RetryPolicy Policy { get; }
    /// <inheritdoc/>
    public override IReadOnlyList<Primitive> Children => [Inner];
    /// <inheritdoc/>
    public override string TypeName => "RetryPrimitive";

    internal override Props CreateProps(PrimitiveNode node) => RetryActor.Props(this, node);
}

internal sealed class RetryActor : CompositeActor<RetryActor.Run>, IWithTimers
{
    private const string RetryStart = "retry.start";
    private const string RetryEnd = "retry.end";
    /// <summary>Span names and boxed numbers of the first attempts, made once instead of on every attempt of every run.</summary>
    private static readonly string[] AttemptNames = Enumerable.Range(0, 16).Select(i => TelemetryNames.Spans.RetryAttemptPrefix + i).ToArray();
    private static readonly object[] AttemptNumbers = Enumerable.Range(0, 16).Select(i => (object)i).ToArray();

    private readonly RetryPolicy _policy;
    private readonly ChildStep _inner;

    public RetryActor(RetryPrimitive definition, PrimitiveNode node) : base(node)
    {
        _policy = definition.Policy;
        _inner = SpawnChild(definition.Inner, node.Child(definition.Inner, ""), "inner");
    }

    public static Props Props(RetryPrimitive definition, PrimitiveNode node) =>
        Akka.Actor.Props.Create(() => new RetryActor(definition, node));

    public ITimerScheduler Timers { get; set; } = null!;

    protected override Run CreateRun(WorkflowEnvelope envelope) => new(Node, envelope);

    protected override void OnStart(Run run)
    {
        run.Checkpoint(RetryStart);
        Attempt(run);
    }

    protected override void OnChildSucceeded(Run run, int attempt, PrimitiveSucceeded answer)
    {
        run.Context = run.Context.AbsorbRecords(answer.Context, run.AttemptContext);
        EndAttempt(run, attempt, null);
        run.Checkpoint(RetryEnd);
        Succeed(run, answer.Output, run.Context);
    }

    protected override void OnChildFailed(Run run, int attempt, PrimitiveFailed answer)
    {
        var failure = answer.Failure;
        // What a failed attempt recorded for the whole run (checkpoints, routing decisions, LLM calls) stays recorded.
        if (failure.Context is { } recorded) run.Context = run.Context.AbsorbRecords(recorded, run.AttemptContext);
        EndAttempt(run, attempt, failure);
        if (attempt >= _policy.MaxRetries || !(_policy.RetryIf?.Invoke(failure) ?? true))
        {
            run.Checkpoint(RetryEnd);
            Fail(run, failure);
            return;
        }
        // A run that is over starts no more attempts; the deadline or cancellation error is its answer.
        if (!MayGoOn(run)) return;
        var delay = _policy.DelayBefore(attempt, Random.Shared);
        if (run.RecordsCheckpoints) run.Checkpoint($"retry.backoff_{attempt}.start");
        if (delay <= TimeSpan.Zero)
        {
            EndBackoff(run, attempt);
            return;
        }
        Timers.StartSingleTimer(run, new RetryDue(run, attempt), delay);
    }

    protected override void OnSignal(Run run, RunSignal signal) => EndBackoff(run, ((RetryDue)signal).Backoff);

    private void EndBackoff(Run run, int backoff)
    {
        if (run.RecordsCheckpoints) run.Checkpoint($"retry.backoff_{backoff}.end");
        if (MayGoOn(run)) Attempt(run);
    }

    protected override void OnRunFinished(Run run)
    {
        Timers.Cancel(run);
        if (run.AttemptSpan is { } span)
            PrimitiveTelemetry.EndSpan(span, TelemetryNames.Status.Error, null, "The run ended before this attempt answered.");
    }

    private void Attempt(Run run)
    {
        var attempt = run.Attempts++;
        if (run.RecordsCheckpoints) run.Checkpoint($"retry.attempt_{attempt}.start");
        var named = attempt < AttemptNames.Length;
        run.AttemptSpan = PrimitiveTelemetry.StartSpan(
            named ? AttemptNames[attempt] : TelemetryNames.Spans.RetryAttemptPrefix + attempt, ActivityKind.Internal, TraceParent.From(run.Span));
        if (run.AttemptSpan is { IsAllDataRequested: true } span)
        {
            span.AddTag(TelemetryNames.Attributes.RetryAttempt, named ? AttemptNumbers[attempt] : attempt);
            PrimitiveTelemetry.TagRunFields(span, run.Context);
        }
        var envelope = Register(run, attempt, run.Inbound.Payload, run.AttemptContext);
        if (run.AttemptSpan is not null) envelope = envelope with { TraceParent = TraceParent.From(run.AttemptSpan) };
        Send(_inner, envelope);
    }

    private static void EndAttempt(Run run, int attempt, WorkflowFailure? failure)
    {
        if (run.RecordsCheckpoints) run.Checkpoint($"retry.attempt_{attempt}.end");
        if (run.AttemptSpan is not { } span) return;
        run.AttemptSpan = null;
        if (failure is null) PrimitiveTelemetry.EndSpan(span, TelemetryNames.Status.Success, null, null);
        else EndSpan(span, failure);
    }

    private static void EndSpan(Activity span, WorkflowFailure failure) =>
        PrimitiveTelemetry.EndSpan(span, TelemetryNames.Status.Error, failure.Exception, failure.Message);

    /// <summary>The backoff after attempt <paramref name="Backoff"/> is over; a local timer message, never sent across nodes.</summary>
    private sealed record RetryDue(Run Waiting, int Backoff) : RunSignal(Waiting);

    internal sealed class Run : CompositeRun
    {
        public Run(PrimitiveNode node, WorkflowEnvelope inbound) : base(node, inbound) => AttemptContext = inbound.Context.CreateChild();

        /// <summary>Every attempt gets the same context, as the original library does.</summary>
        public WorkflowContext AttemptContext { get; }
        public int Attempts;
        public Activity? AttemptSpan;
    }
}
