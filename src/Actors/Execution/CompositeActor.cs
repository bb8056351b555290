using Akka.Actor;
using Akka.Event;
using TtaActors.Actors.Context;

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
    private ILoggingAdapter? _log;

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
                if (!_dispatches.Remove(answer.CallId, out var dispatch))
                {
                    OnLateAnswer(answer);
                    break;
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
            default:
                OnCommand(message);
                break;
        }
    }

    /// <summary>Sends <paramref name="input"/> to a child and waits for its answer, matched by a new CallId.</summary>
    /// <param name="child">What the primitive calls this dispatch (a step or branch index, a role); handed back with the answer.</param>
    protected void Dispatch(TRun run, int child, IActorRef target, object? input, WorkflowContext context) =>
        target.Tell(Register(run, child, input, context));

    /// <summary>Registers a dispatch without sending it yet, for a primitive that changes the envelope first.</summary>
    protected WorkflowEnvelope Register(TRun run, int child, object? input, WorkflowContext context)
    {
        var callId = WorkflowEnvelope.NextCallId();
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
            var callId = WorkflowEnvelope.NextCallId();
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
