using System.Diagnostics;
using Akka.Actor;
using TtaActors.Actors.Context;
using TtaActors.Telemetry;

namespace TtaActors.Actors.Execution;

/// <summary>
/// One execution of one primitive for one dispatch: its span, its start time, the context it runs in, and the
/// address its single answer goes to. Composite primitives keep their per-run state in subclasses of
/// <see cref="CompositeRun"/>.
/// </summary>
public class PrimitiveExecution
{
    private readonly long _startedAt;
    private bool _finished;
    private EndWatch? _endWatch;

    /// <summary>Starts the execution of <paramref name="node"/> for the dispatch <paramref name="inbound"/>: opens its span and records its start checkpoint.</summary>
    /// <param name="node">The primitive being executed.</param>
    /// <param name="inbound">The envelope that asked for it; the answer goes to its reply address.</param>
    public PrimitiveExecution(PrimitiveNode node, WorkflowEnvelope inbound) : this(node, inbound, leaveSpanCurrent: false)
    {
    }

    /// <param name="leaveSpanCurrent">Leaves the span as <see cref="Activity.Current"/> for code run under it; the
    /// caller restores the previous current activity (see <see cref="PrimitiveTelemetry.StartSpan"/>).</param>
    /// <param name="node">The primitive being executed.</param>
    /// <param name="inbound">The envelope that asked for it.</param>
    internal PrimitiveExecution(PrimitiveNode node, WorkflowEnvelope inbound, bool leaveSpanCurrent)
    {
        Node = node;
        Inbound = inbound;
        Context = inbound.Context;
        Span = PrimitiveTelemetry.StartPrimitiveSpan(node, inbound.TraceParent, inbound.Context, leaveSpanCurrent);
        _startedAt = PrimitiveTelemetry.StartedAt(Span);
        if (inbound.Lifetime is { } lifetime)
        {
            lifetime.Enter(node);
            if (lifetime.RecordsCheckpoints) Checkpoint(node.StartCheckpoint);
        }
    }

    /// <summary>
    /// Takes over a leaf step that a composite started inline (span, start time and position already set) and that did
    /// not complete synchronously, so it finishes like any other execution when its task does.
    /// </summary>
    internal PrimitiveExecution(PrimitiveNode node, WorkflowEnvelope inbound, Activity? span, long startedAt)
    {
        Node = node;
        Inbound = inbound;
        Context = inbound.Context;
        _startedAt = startedAt;
        Span = span;
    }

    /// <summary>The actor told when the run ends before this execution finishes, while the run's lifetime watches it.</summary>
    internal IActorRef? WatchOwner;

    /// <summary>This execution's neighbours in the list of executions its run's lifetime watches (under the lifetime's lock).</summary>
    internal PrimitiveExecution? WatchPrevious, WatchNext;

    /// <summary>The primitive being executed.</summary>
    public PrimitiveNode Node { get; }
    /// <summary>The envelope that started this execution; the answer goes to its <see cref="WorkflowEnvelope.ReplyTo"/>.</summary>
    public WorkflowEnvelope Inbound { get; }
    /// <summary>The execution's <c>primitive.{Name}</c> span; null when no listener records it.</summary>
    public Activity? Span { get; }

    /// <summary>The trace parent of everything this execution dispatches: its span's context (read from the span, which
    /// allocates nothing, instead of a copy held by every execution), or the inbound parent when it has no span.</summary>
    public TraceParent ChildTraceParent => Span is null ? Inbound.TraceParent : TraceParent.From(Span.Context);

    /// <summary>The context of this execution, including what it has recorded so far.</summary>
    public WorkflowContext Context { get; set; }

    /// <summary>True once the execution answered; later answers are ignored.</summary>
    public bool IsFinished => _finished;

    /// <summary>The run this execution belongs to.</summary>
    public RunId RunId => Inbound.RunId;

    /// <summary>Whether the run (or the Timeout enclosing this execution) has ended: nothing more may be started for it.</summary>
    public bool HasEnded => Inbound.Cancellation.IsCancellationRequested;

    /// <summary>Whether the run records timing checkpoints; check it before building a checkpoint name.</summary>
    public bool RecordsCheckpoints => Inbound.Lifetime is { RecordsCheckpoints: true };

    /// <summary>Appends a timing checkpoint to <see cref="Context"/> if the run records them.</summary>
    public void Checkpoint(string name)
    {
        if (Inbound.Lifetime is { RecordsCheckpoints: true } lifetime)
            Context = Context.WithCheckpoint(name, lifetime.Clock.GetUtcNow());
    }

    /// <summary>An envelope for a nested primitive: same run, deadline and cancellation, a new dispatch id.</summary>
    public WorkflowEnvelope ChildEnvelope(long callId, object? payload, WorkflowContext context, IActorRef replyTo) =>
        new(Inbound.RunId, callId, payload, context, ChildTraceParent, Inbound.LangfuseTraceId, replyTo)
        {
            Deadline = Inbound.Deadline,
            Cancellation = Inbound.Cancellation,
            Lifetime = Inbound.Lifetime,
        };

    /// <summary>
    /// Tells <paramref name="owner"/> a <see cref="RunEnded"/> when the run ends (deadline or caller cancellation) before
    /// this execution finished, so the actor that holds it fails it at once instead of waiting for an answer that may
    /// never come.
    /// </summary>
    /// <remarks>
    /// It watches the run's own end (its lifetime, which keeps the executions it watches in a list of its own), not an
    /// enclosing Timeout's token: below an expired Timeout, steps that honour their token
    /// answer at once, and what a step that ignores it answers later is the Timeout's late result.
    /// </remarks>
    internal void WatchEnd(IActorRef owner)
    {
        if (Inbound.Lifetime is { } lifetime)
        {
            lifetime.Watch(this, owner);
            return;
        }
        var token = Inbound.Cancellation;
        if (!token.CanBeCanceled) return;
        var watch = _endWatch = new EndWatch(this, owner);
        watch.Registration = token.UnsafeRegister(static state =>
        {
            var watching = (EndWatch)state!;
            watching.Owner.Tell(new RunEnded(watching.Execution), ActorRefs.NoSender);
        }, watch);
    }

    /// <summary>
    /// The failure of an execution whose token fired: the run's deadline error (naming where the run was when time ran
    /// out) or its caller's cancellation, the same exception for every primitive of the run; else the enclosing Timeout
    /// cancelled it.
    /// </summary>
    public WorkflowFailure EndFailure()
    {
        var reason = Inbound.Lifetime?.EndReason;
        return reason switch
        {
            WorkflowDeadlineExceededException deadline => WorkflowFailure.From(deadline.PrimitivePath, deadline),
            not null => WorkflowFailure.From(Node.Path, reason),
            null => WorkflowFailure.From(Node.Path, new OperationCanceledException(
                $"'{Node.Path}' was cancelled by an enclosing Timeout before it finished.", Inbound.Cancellation)),
        };
    }

    /// <summary>Ends the span with success and answers <paramref name="output"/> in <paramref name="context"/>, sent from <paramref name="self"/>; does nothing if the execution already answered.</summary>
    public void Succeed(object? output, WorkflowContext context, IActorRef self)
    {
        if (Succeeded(output, context) is { } answer) Inbound.ReplyTo.Tell(answer, self);
    }

    /// <summary>Ends the span with the error and answers <paramref name="failure"/>, sent from <paramref name="self"/>; does nothing if the execution already answered.</summary>
    public void Fail(WorkflowFailure failure, IActorRef self)
    {
        if (Failed(failure) is { } answer) Inbound.ReplyTo.Tell(answer, self);
    }

    /// <summary>Finishes with success and returns the answer instead of sending it; null if already finished.</summary>
    internal PrimitiveSucceeded? Succeeded(object? output, WorkflowContext context)
    {
        if (Inbound.Lifetime is { RecordsCheckpoints: true } lifetime)
            context = context.WithCheckpoint(Node.EndCheckpoint, lifetime.Clock.GetUtcNow());
        return Finish(null, null) ? new PrimitiveSucceeded(Inbound.RunId, Inbound.CallId, output, context) : null;
    }

    /// <summary>Finishes with a failure and returns the answer instead of sending it; null if already finished.</summary>
    internal PrimitiveFailed? Failed(WorkflowFailure failure)
    {
        if (Inbound.Lifetime is { RecordsCheckpoints: true } lifetime)
            failure = failure with { Context = (failure.Context ?? Context).WithCheckpoint(Node.EndCheckpoint, lifetime.Clock.GetUtcNow()) };
        return Finish(failure.Exception, failure.Message) ? new PrimitiveFailed(Inbound.RunId, Inbound.CallId, failure) : null;
    }

    /// <summary>Fails with an error raised by this primitive itself (not by a nested one).</summary>
    public void Fail(Exception error, IActorRef self) => Fail(WorkflowFailure.From(Node.Path, error), self);

    private bool Finish(Exception? error, string? errorMessage)
    {
        if (_finished) return false;
        _finished = true;
        _endWatch?.Registration.Dispose();
        if (WatchOwner is not null) Inbound.Lifetime?.Unwatch(this);
        Finished(Node, Inbound.Lifetime, Span, _startedAt, Context, error, errorMessage);
        return true;
    }

    /// <summary>What every execution does once when it finishes: leaves its place in the run, ends its span, records its metrics.</summary>
    internal static void Finished(PrimitiveNode node, RunLifetime? lifetime, Activity? span, long startedAt, WorkflowContext context,
        Exception? error, string? errorMessage)
    {
        lifetime?.Leave(node);
        var status = errorMessage is null ? TelemetryNames.Status.Success : TelemetryNames.Status.Error;
        if (span is not null) PrimitiveTelemetry.EndSpan(span, status, error, errorMessage);
        PrimitiveTelemetry.RecordExecution(node, context, status, PrimitiveTelemetry.Elapsed(span, startedAt));
    }
}

/// <summary>An execution waiting for its token, and the actor to tell when it fires; made only for executions that wait.</summary>
internal sealed class EndWatch(PrimitiveExecution execution, IActorRef owner)
{
    public PrimitiveExecution Execution { get; } = execution;
    public IActorRef Owner { get; } = owner;
    public CancellationTokenRegistration Registration;
}

/// <summary>The token of an execution fired before it finished; a local message from the token's callback to its owner.</summary>
internal sealed record RunEnded(PrimitiveExecution Execution);

/// <summary>
/// Answers a dispatch for which no execution could even be made (the envelope itself is broken), so its sender does
/// not wait for an answer that cannot come.
/// </summary>
internal static class UnregisteredDispatch
{
    public static void Fail(WorkflowEnvelope envelope, PrimitiveNode node, Exception error, IActorRef self) =>
        envelope.ReplyTo?.Tell(Answer(envelope, node, error), self);

    public static PrimitiveFailed Answer(WorkflowEnvelope envelope, PrimitiveNode node, Exception error)
    {
        var failure = WorkflowFailure.From(node.Path, new InvalidOperationException(
            $"'{node.Path}' could not start a run from the envelope it was sent ({error.GetType().Name}: {error.Message}); " +
            "envelopes must carry a context and a reply address.", error));
        return new PrimitiveFailed(envelope.RunId, envelope.CallId, failure);
    }
}
