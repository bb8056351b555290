using System.Diagnostics;
using Akka.Actor;
using Akka.Event;
using TtaActors.Actors.Context;
using TtaActors.Actors.Primitives;

namespace TtaActors.Actors.Execution;

/// <summary>
/// The per-run state of a composite primitive: the execution and the dispatches it is waiting for. Each primitive adds
/// what is particular to it in a subclass.
/// </summary>
internal abstract class CompositeRun(PrimitiveNode node, WorkflowEnvelope inbound) : PrimitiveExecution(node, inbound)
{
    /// <summary>The dispatch this run waits for, or 0.</summary>
    internal long AwaitedCall;

    /// <summary>The dispatches of a fan-out this run waits for (those already answered included), or null.</summary>
    internal long[]? AwaitedCalls;
}

/// <summary>
/// A child of a composite primitive: its own actor, or a leaf step the composite runs inside its own turn (see
/// <see cref="WorkflowGraphOptions.InlineLeafSteps"/>). Either way the child has its own span, metrics and answer.
/// </summary>
internal sealed class ChildStep
{
    internal ChildStep(IActorRef actor) => Actor = actor;

    internal ChildStep(PrimitiveNode node, StepFunction function)
    {
        Node = node;
        Function = function;
    }

    /// <summary>The child's actor; null for a leaf run inline.</summary>
    public IActorRef? Actor { get; }

    /// <summary>The node of a leaf run inline.</summary>
    public PrimitiveNode? Node { get; }

    public StepFunction? Function { get; }
}

/// <summary>
/// A message a primitive sends itself about one of its runs (a backoff that is over, a time limit, a lookup that came
/// back). The base delivers it only while the run is still held, and a crash while handling it fails exactly that run.
/// </summary>
internal abstract record RunSignal(CompositeRun Run);

/// <summary>
/// The one mechanism behind every composite primitive actor: registering a dispatch, matching its answer by CallId,
/// discarding late answers, failing a run when its deadline passes or it is cancelled, and answering exactly the run a
/// crash happened in. A primitive says only what is particular to it: what to do when a run starts, when a child
/// answers, and when one of its own signals arrives.
/// </summary>
/// <remarks>
/// <para>Nothing is lost to a crash: an exception while handling a message of one run fails that run (also when it
/// happens before the run's state exists) and leaves every other run, the children and their state alone. The actor is
/// never restarted for it, and a child that throws past its own guard is resumed, not restarted.</para>
/// <para>Every answer a child gives passes through <see cref="StepCompleted"/>: the point where a durable run journals
/// the completion of a step before the primitive acts on it.</para>
/// </remarks>
internal abstract class CompositeActor<TRun> : UntypedActor where TRun : CompositeRun
{
    /// <summary>Children that throw past their own guard keep their state and their runs: they are resumed.</summary>
    private static readonly SupervisorStrategy ResumeChildren = new OneForOneStrategy(_ => Directive.Resume);

    private readonly Dictionary<long, (TRun Run, int Child)> _dispatches = new();
    private readonly DispatchCounter _held = new();

    /// <summary>
    /// The last CallId this actor gave a dispatch. An answer comes back only to the actor that dispatched it and is looked
    /// up only in its own dispatch table, so ids need to be unique per actor, not per process: a counter of the actor's
    /// own, touched only in its turn, instead of a process-wide <see cref="Interlocked"/> that every step of every run
    /// on every thread contended for.
    /// </summary>
    private long _lastCallId;
    private ILoggingAdapter? _log;

    /// <summary>Answers of leaf steps run inline in this turn, handled as if they were the next messages.</summary>
    private Queue<InlineAnswer>? _inlineAnswers;

    protected CompositeActor(PrimitiveNode node) => Node = node;

    protected PrimitiveNode Node { get; }

    protected ILoggingAdapter Log => _log ??= Context.GetLogger();

    /// <summary>The state of a run that has just arrived.</summary>
    protected abstract TRun CreateRun(WorkflowEnvelope envelope);

    /// <summary>A run has arrived (and its deadline has not passed): dispatch it, or answer it.</summary>
    protected abstract void OnStart(TRun run);

    /// <summary>The child dispatched as <paramref name="child"/> answered with success.</summary>
    protected abstract void OnChildSucceeded(TRun run, int child, PrimitiveSucceeded answer);

    /// <summary>The child dispatched as <paramref name="child"/> answered with a failure.</summary>
    protected abstract void OnChildFailed(TRun run, int child, PrimitiveFailed answer);

    /// <summary>One of the primitive's own <see cref="RunSignal"/>s, for a run still held.</summary>
    protected virtual void OnSignal(TRun run, RunSignal signal) => Unhandled(signal);

    /// <summary>An answer to a dispatch no run waits for any more (the run finished, or gave the dispatch up).</summary>
    protected virtual void OnLateAnswer(PrimitiveResult answer)
    {
    }

    /// <summary>Releases what a primitive keeps beside its dispatches (timers, sources) when a run ends, whichever way.</summary>
    protected virtual void OnRunFinished(TRun run)
    {
    }

    /// <summary>Messages that concern no run (commands to the primitive itself).</summary>
    protected virtual void OnCommand(object message) => Unhandled(message);

    /// <summary>
    /// Every matched answer of a child goes through here before the primitive acts on it: the hook where a durable run
    /// records that a step completed. The default hands the answer to <see cref="OnChildSucceeded"/> or
    /// <see cref="OnChildFailed"/>.
    /// </summary>
    protected virtual void StepCompleted(TRun run, int child, PrimitiveResult answer)
    {
        if (answer is PrimitiveSucceeded succeeded) OnChildSucceeded(run, child, succeeded);
        else OnChildFailed(run, child, (PrimitiveFailed)answer);
    }

    /// <summary>
    /// A leaf step run inline completed at once and with success. The default makes the answer its leaf actor would have
    /// sent and hands it to <see cref="StepCompleted"/>; a primitive that needs only the output and the context overrides
    /// this and saves that allocation on every step.
    /// </summary>
    protected virtual void InlineStepSucceeded(TRun run, int child, long callId, object? output, WorkflowContext context) =>
        StepCompleted(run, child, new PrimitiveSucceeded(run.RunId, callId, output, context));

    protected override SupervisorStrategy SupervisorStrategy() => ResumeChildren;

    protected override void PreStart() => DispatchCounter.Register(_held);

    protected override void PostStop() => DispatchCounter.Unregister(_held);

    protected sealed override void OnReceive(object message)
    {
        switch (message)
        {
            case WorkflowEnvelope envelope:
                Start(envelope);
                break;
            case PrimitiveResult answer:
                Answered(answer);
                break;
            case InlineStepFinished finished:
                if (!finished.Execution.IsFinished) Deliver(LeafStep.Finish(finished.Execution, finished.Outcome, finished.Error));
                break;
            case RunSignal { Run: TRun run } signal:
                if (run.IsFinished) break; // a timer or a lookup of a run that has already finished
                try
                {
                    OnSignal(run, signal);
                }
                catch (Exception error)
                {
                    Crashed(run, error);
                }
                break;
            case RunEnded { Execution: TRun run }:
                if (!run.IsFinished) Fail(run, run.EndFailure());
                break;
            case RunEnded { Execution: not CompositeRun } ended:
                // An inline leaf step still runs (it may ignore its token); its run's answer and span do not wait for it.
                if (!ended.Execution.IsFinished) Deliver(ended.Execution.Failed(ended.Execution.EndFailure()));
                break;
            default:
                OnCommand(message);
                break;
        }
        // Inline leaf steps answered: their answers lead to further dispatches, handled here one after another (a loop,
        // not a recursion, however long the Sequential) before the next message.
        if (_inlineAnswers is { Count: > 0 } answers)
            while (answers.TryDequeue(out var inline))
            {
                if (inline.Answer is { } answer) Answered(answer);
                else InlineSucceeded(inline.Run!, inline.Child, inline.CallId, inline.Output, inline.Context!);
            }
    }

    /// <summary>
    /// What <see cref="Answered"/> does for a synchronous inline success, without its answer object: such a dispatch is
    /// never in the dispatch table (it completed before anything could wait for it), so the run's awaited call says
    /// whether the run still waits for it.
    /// </summary>
    private void InlineSucceeded(TRun run, int child, long callId, object? output, WorkflowContext context)
    {
        if (run.IsFinished || run.AwaitedCall != callId)
        {
            OnLateAnswer(new PrimitiveSucceeded(run.RunId, callId, output, context));
            return;
        }
        run.AwaitedCall = 0;
        try
        {
            InlineStepSucceeded(run, child, callId, output, context);
        }
        catch (Exception error)
        {
            Crashed(run, error);
        }
    }

    private void Answered(PrimitiveResult answer)
    {
        if (!_dispatches.Remove(answer.CallId, out var dispatch))
        {
            OnLateAnswer(answer);
            return;
        }
        if (dispatch.Run.AwaitedCall == answer.CallId) dispatch.Run.AwaitedCall = 0;
        try
        {
            StepCompleted(dispatch.Run, dispatch.Child, answer);
        }
        catch (Exception error)
        {
            Crashed(dispatch.Run, error);
        }
    }

    /// <summary>
    /// The child for <paramref name="definition"/> at <paramref name="node"/>: a leaf step of user code is run inside this
    /// actor's turn when the graph allows it (<see cref="WorkflowGraphOptions.InlineLeafSteps"/>), saving the two messages
    /// of a dispatch; anything else gets its own child actor named <paramref name="actorName"/>.
    /// </summary>
    /// <remarks>Only for composites where a leaf that runs long may hold up the composite's other runs; Parallel (whose
    /// branches must run side by side) and Timeout (whose timer must fire while its inner step runs) spawn actors.</remarks>
    protected ChildStep SpawnChild(Primitive definition, PrimitiveNode node, string actorName) =>
        node.InlinesLeaves && definition.InlineStep is { } function
            ? new ChildStep(node, function)
            : new ChildStep(Context.ActorOf(definition.CreateProps(node), actorName));

    /// <summary>Sends <paramref name="input"/> to a child and waits for its answer, matched by a new CallId.</summary>
    protected void Dispatch(TRun run, int child, ChildStep target, object? input, WorkflowContext context)
    {
        if (target.Actor is { } actor) actor.Tell(Register(run, child, input, context));
        else if (run.HasEnded || run.RecordsCheckpoints) RunInline(target.Node!, target.Function!, Register(run, child, input, context));
        else RunInline(run, child, target.Node!, target.Function!, input, context);
    }

    /// <summary>Sends a registered envelope to a child, or runs the child's leaf step with it here.</summary>
    protected void Send(ChildStep target, WorkflowEnvelope envelope)
    {
        if (target.Actor is { } actor) actor.Tell(envelope);
        else RunInline(target.Node!, target.Function!, envelope);
    }

    /// <summary>
    /// Runs a leaf step inside this turn, under its own span and with its own metrics, exactly as its actor would: its
    /// answer is handled after the current message, through <see cref="StepCompleted"/> like any other; an asynchronous
    /// step answers with a message to this actor when it completes.
    /// </summary>
    private void RunInline(PrimitiveNode node, StepFunction function, WorkflowEnvelope envelope)
    {
        var previous = Activity.Current;
        PrimitiveExecution? execution = null;
        try
        {
            execution = new PrimitiveExecution(node, envelope, leaveSpanCurrent: true);
            if (execution.HasEnded)
            {
                Deliver(execution.Failed(execution.EndFailure()));
                return;
            }
            var pending = function(envelope.Payload, envelope.Context, envelope.Cancellation);
            if (pending.IsCompletedSuccessfully)
            {
                Deliver(LeafStep.Finish(execution, pending.Result, null));
                return;
            }
            AwaitInline(execution, pending);
        }
        catch (Exception error)
        {
            Deliver(execution is null ? UnregisteredDispatch.Answer(envelope, node, error) : LeafStep.Finish(execution, default, error));
        }
        finally
        {
            Activity.Current = previous;
        }
    }

    /// <summary>A step run inline that did not complete synchronously answers this actor by one message when it does.</summary>
    private void AwaitInline(PrimitiveExecution execution, ValueTask<StepOutcome> pending)
    {
        execution.WatchEnd(Self);
        pending.AsTask().ContinueWith(
            static (task, state) =>
            {
                var (exec, actor) = ((PrimitiveExecution, IActorRef))state!;
                actor.Tell(task.IsCompletedSuccessfully
                    ? new InlineStepFinished(exec, task.Result, null)
                    : new InlineStepFinished(exec, default, LeafStep.ErrorOf(task)));
            },
            (execution, Self),
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    /// <summary>
    /// The common case of <see cref="RunInline(PrimitiveNode, StepFunction, WorkflowEnvelope)"/> without its allocations: a
    /// run that records no checkpoints and has not ended. The step gets its span, metrics and place in the run as there;
    /// only a step that does not complete synchronously gets an envelope and an execution, made when it turns out so.
    /// </summary>
    private void RunInline(TRun run, int child, PrimitiveNode node, StepFunction function, object? input, WorkflowContext context)
    {
        // Registered in the dispatch table only if the step does not complete at once: until then nothing else runs in
        // this actor, so nothing can look the dispatch up.
        var callId = ++_lastCallId;
        run.AwaitedCall = callId;
        var lifetime = run.Inbound.Lifetime;
        var previous = Activity.Current;
        var span = PrimitiveTelemetry.StartPrimitiveSpan(node, run.ChildTraceParent, context, leaveCurrent: true);
        var startedAt = PrimitiveTelemetry.StartedAt(span);
        try
        {
            lifetime?.Enter(node);
            ValueTask<StepOutcome> pending;
            try
            {
                pending = function(input, context, run.Inbound.Cancellation);
            }
            catch (Exception error)
            {
                var failure = WorkflowFailure.From(node.Path, error);
                PrimitiveExecution.Finished(node, lifetime, span, startedAt, context, failure.Exception, failure.Message);
                _dispatches.Add(callId, (run, child));
                Deliver(new PrimitiveFailed(run.RunId, callId, failure));
                return;
            }
            if (pending.IsCompletedSuccessfully)
            {
                var outcome = pending.Result;
                PrimitiveExecution.Finished(node, lifetime, span, startedAt, context, null, null);
                (_inlineAnswers ??= new Queue<InlineAnswer>()).Enqueue(new InlineAnswer(null, run, child, callId, outcome.Output, outcome.Context ?? context));
                return;
            }
            _dispatches.Add(callId, (run, child));
            var execution = new PrimitiveExecution(node, run.ChildEnvelope(callId, input, context, Self), span, startedAt);
            AwaitInline(execution, pending);
        }
        finally
        {
            Activity.Current = previous;
        }
    }

    private void Deliver(PrimitiveResult? answer)
    {
        if (answer is not null) (_inlineAnswers ??= new Queue<InlineAnswer>()).Enqueue(new InlineAnswer(answer, null, 0, 0, null, null));
    }

    /// <summary>An answer of a leaf run inline: an answer object, or the parts of a synchronous success (no object made).</summary>
    private readonly record struct InlineAnswer(PrimitiveResult? Answer, TRun? Run, int Child, long CallId, object? Output, WorkflowContext? Context);

    /// <summary>Sends <paramref name="input"/> to a child and waits for its answer, matched by a new CallId.</summary>
    /// <param name="child">What the primitive calls this dispatch (a step or branch index, a role); handed back with the answer.</param>
    /// <param name="run">The run's state in this actor.</param>
    /// <param name="target">The child actor to send to.</param>
    /// <param name="input">The child's input.</param>
    /// <param name="context">The context the child runs in.</param>
    protected void Dispatch(TRun run, int child, IActorRef target, object? input, WorkflowContext context) =>
        target.Tell(Register(run, child, input, context));

    /// <summary>Registers a dispatch without sending it yet, for a primitive that changes the envelope first.</summary>
    protected WorkflowEnvelope Register(TRun run, int child, object? input, WorkflowContext context)
    {
        var callId = ++_lastCallId;
        _dispatches.Add(callId, (run, child));
        run.AwaitedCall = callId;
        return run.ChildEnvelope(callId, input, context, Self);
    }

    /// <summary>Sends the same input to every target at once; answers come back with the target's index.</summary>
    protected void DispatchAll(TRun run, IActorRef[] targets, object? input, WorkflowContext context)
    {
        var calls = run.AwaitedCalls = new long[targets.Length];
        for (var i = 0; i < targets.Length; i++)
        {
            var callId = ++_lastCallId;
            calls[i] = callId;
            _dispatches.Add(callId, (run, i));
            targets[i].Tell(run.ChildEnvelope(callId, input, context, Self));
        }
    }

    /// <summary>Stops waiting for the run's dispatch; its answer, when it comes, is a late answer.</summary>
    protected long Abandon(TRun run)
    {
        var callId = run.AwaitedCall;
        if (callId != 0) _dispatches.Remove(callId);
        run.AwaitedCall = 0;
        return callId;
    }

    /// <summary>
    /// Whether more work may be started for the run; if not, the run has been failed with its deadline or cancellation
    /// error (or with <paramref name="failure"/>, when given).
    /// </summary>
    protected bool MayGoOn(TRun run, WorkflowFailure? failure = null)
    {
        if (!run.HasEnded) return true;
        Fail(run, failure ?? run.EndFailure());
        return false;
    }

    protected void Succeed(TRun run, object? output, WorkflowContext context)
    {
        if (!Release(run)) return;
        run.Succeed(output, context, Self);
    }

    protected void Fail(TRun run, WorkflowFailure failure)
    {
        if (!Release(run)) return;
        run.Fail(failure, Self);
    }

    /// <summary>Fails with an error raised by this primitive itself (not by a nested one).</summary>
    protected void Fail(TRun run, Exception error) => Fail(run, WorkflowFailure.From(Node.Path, error));

    private void Start(WorkflowEnvelope envelope)
    {
        TRun run;
        try
        {
            run = CreateRun(envelope);
        }
        catch (Exception error)
        {
            Log.Error(error, "'{0}' could not start a run from the envelope of run {1}", Node.Path, envelope.RunId);
            UnregisteredDispatch.Fail(envelope, Node, error, Self);
            return;
        }
        _held.Add(1);
        try
        {
            if (!MayGoOn(run)) return;
            run.WatchEnd(Self);
            OnStart(run);
        }
        catch (Exception error)
        {
            Crashed(run, error);
        }
    }

    private void Crashed(TRun run, Exception error)
    {
        Log.Error(error, "'{0}' crashed while handling run {1}; that run fails, every other run goes on", Node.Path, run.RunId);
        Fail(run, error);
    }

    /// <summary>Drops every piece of state of the run; false if it had already finished.</summary>
    private bool Release(TRun run)
    {
        if (run.IsFinished) return false;
        if (run.AwaitedCall != 0) _dispatches.Remove(run.AwaitedCall);
        if (run.AwaitedCalls is { } calls)
            foreach (var callId in calls) _dispatches.Remove(callId);
        _held.Add(-1);
        try
        {
            OnRunFinished(run);
        }
        catch (Exception error)
        {
            Log.Error(error, "'{0}' failed to release the state of run {1}", Node.Path, run.RunId);
        }
        return true;
    }
}

/// <summary>An asynchronous leaf step run inline completed; a local message from its continuation to the composite.</summary>
internal sealed record InlineStepFinished(PrimitiveExecution Execution, StepOutcome Outcome, Exception? Error);

/// <summary>How a leaf step's outcome becomes its answer, the same for a leaf actor and for a leaf run inline.</summary>
internal static class LeafStep
{
    /// <summary>Finishes <paramref name="execution"/> with the step's outcome, or with <paramref name="error"/> when it threw.</summary>
    public static PrimitiveResult? Finish(PrimitiveExecution execution, StepOutcome outcome, Exception? error)
    {
        if (error is null) return execution.Succeeded(outcome.Output, outcome.Context ?? execution.Context);
        error = Unwrap(error);
        // A step that gave up because its run ended answers the run's one deadline (or cancellation) error.
        return error is OperationCanceledException && execution.HasEnded
            ? execution.Failed(execution.EndFailure())
            : execution.Failed(WorkflowFailure.From(execution.Node.Path, error));
    }

    /// <summary>The error of a faulted or cancelled step task.</summary>
    public static Exception ErrorOf(Task task) =>
        (Exception?)task.Exception ?? new OperationCanceledException("The step was cancelled.");

    private static Exception Unwrap(Exception error) =>
        error is AggregateException { InnerExceptions.Count: 1 } aggregate ? aggregate.InnerExceptions[0] : error;
}
