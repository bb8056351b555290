using System.Diagnostics;
using System.Runtime.CompilerServices;
using Akka.Actor;
using TtaActors.Actors.Context;

namespace TtaActors.Actors.Execution;

/// <summary>
/// The one deadline and the one cancellation of a run, made when the run starts and carried by every envelope of the run.
/// When the deadline passes (or the caller cancels, or the graph stops), <see cref="Token"/> fires: leaf steps see it as their cancellation
/// token, and every primitive actor that holds state for the run fails it with <see cref="EndReason"/>, the same exception
/// everywhere. Nothing per step allocates a timer or a cancellation source; this object's source is the run's only one.
/// A run with its graph's default deadline has no timer of its own: the graph's one timer ends it (<see cref="RunsInFlight"/>);
/// only a run with a deadline of its own makes one. Executions that wait for the run's end are linked in the lifetime's own
/// list (<see cref="Watch"/>), not registered on the token.
/// </summary>
/// <remarks>
/// The lifetime also knows where the run is (the primitive that last started and has not finished yet), so the deadline
/// error names the place time ran out, and whether the run records timing checkpoints in its context. It is also the
/// address the root primitive answers to: the run's answer, or at the deadline its failure, completes the run's task
/// (<see cref="Completion"/>) exactly once, without the temporary actor an <c>Ask</c> would register, and without an async
/// method waiting for it: the answer is turned into the caller's result in one thread-pool work item, the lifetime itself.
/// </remarks>
public sealed class RunLifetime : MinimalActorRef, IThreadPoolWorkItem, IDisposable
{
    private readonly WorkflowGraph _graph;
    private readonly RunId _runId;
    private readonly long _callId;
    /// <summary>Builds the run's task without an async method or a completion source of its own (see <see cref="Complete"/>).</summary>
    private AsyncTaskMethodBuilder<WorkflowRunResult> _completion;
    private PrimitiveResult? _firstAnswer;
    private int _answered;
    private ActorPath? _path;
    private readonly CancellationTokenSource _source = new();
    private readonly ITimer? _timer;
    private readonly CancellationTokenRegistration _callerRegistration;
    /// <summary>The run's deadline from its start; zero for none (a deadline is always longer than zero).</summary>
    private readonly TimeSpan _timeout;

    /// <summary>UTC ticks of <see cref="Deadline"/>; zero for none (8 bytes where a nullable offset would take 24).</summary>
    private readonly long _deadlineUtcTicks;
    private PrimitiveNode _position;
    private Exception? _endReason;
    private PrimitiveExecution? _watchers;

    private RunLifetime(WorkflowGraph graph, RunId runId, long callId, TimeSpan? timeout, CancellationToken caller, bool recordCheckpoints,
        WorkflowContext runContext, Activity? span, string? traceId)
    {
        _graph = graph;
        // Made before anything can complete it: the builder makes its task on first use, and is not safe to race for it.
        _ = _completion.Task;
        _runId = runId;
        _callId = callId;
        _position = graph.RootNode;
        _timeout = timeout ?? TimeSpan.Zero;
        RecordsCheckpoints = recordCheckpoints;
        RunContext = runContext;
        Span = span;
        TraceId = traceId;
        var clock = graph.Options.Clock;
        var graphRuns = graph.Runs;
        Token = _source.Token;
        if (timeout is { } limit)
        {
            _deadlineUtcTicks = (clock.GetUtcNow() + limit).UtcTicks;
            if (graphRuns.SharedDeadline == limit)
            {
                SharesDeadline = true;
                DeadlineTimestamp = graphRuns.SharedDeadlineFromNow();
            }
            else _timer = clock.CreateTimer(static state => ((RunLifetime)state!).Expire(), this, limit, Timeout.InfiniteTimeSpan);
        }
        if (caller.CanBeCanceled) _callerRegistration = caller.UnsafeRegister(static state => ((RunLifetime)state!).CancelByCaller(), this);
        // Last: a graph stopped meanwhile ends the run right here, which needs everything above.
        if (!graphRuns.Add(this)) StopWithGraph();
    }

    /// <summary>A lifetime for a run of <paramref name="graph"/> that starts now; <paramref name="timeout"/> null runs without a deadline.</summary>
    /// <remarks>The run ends with <see cref="WorkflowGraphStoppedException"/> when the graph stops, and at the graph's default
    /// deadline by the graph's one timer (<see cref="RunsInFlight"/>).</remarks>
    /// <param name="graph">The run's graph.</param>
    /// <param name="runId">The run.</param>
    /// <param name="callId">The dispatch id of the run's envelope to its root primitive.</param>
    /// <param name="timeout">The run's deadline from now; null for none.</param>
    /// <param name="caller">The caller's token: cancelling it fails the run.</param>
    /// <param name="recordCheckpoints">Whether executions record their checkpoints in the context.</param>
    /// <param name="runContext">The context the run starts with (its result's context when a failure carries none).</param>
    /// <param name="span">The run's root span, ended when the run answers; null when untraced.</param>
    /// <param name="traceId">The run's trace id, for its result.</param>
    internal static RunLifetime Start(WorkflowGraph graph, RunId runId, long callId, TimeSpan? timeout, CancellationToken caller,
        bool recordCheckpoints, WorkflowContext runContext, Activity? span, string? traceId) =>
        new(graph, runId, callId, timeout, caller, recordCheckpoints, runContext, span, traceId);

    /// <summary>The run's result: completed once, when the root answers or the run ends first.</summary>
    internal Task<WorkflowRunResult> Completion => _completion.Task;

    /// <summary>The run.</summary>
    internal RunId RunId => _runId;

    /// <summary>The context the run started with.</summary>
    internal WorkflowContext RunContext { get; }

    /// <summary>The run's root span; null when untraced.</summary>
    internal Activity? Span { get; }

    /// <summary>The run's trace id; null when untraced.</summary>
    internal string? TraceId { get; }

    /// <summary>Whether the graph's shared timer ends the run at its deadline (it has the graph's default deadline).</summary>
    internal bool SharesDeadline { get; }

    /// <summary>The clock's timestamp of the deadline, for the graph's shared timer.</summary>
    internal long DeadlineTimestamp { get; }

    /// <summary>The run's place in its graph's list of runs in flight (<see cref="RunsInFlight"/>, under its lock).</summary>
    internal RunLifetime? ListPrevious, ListNext;

    /// <summary>Whether the run is in its graph's list of runs in flight (under its lock).</summary>
    internal bool Listed;

    /// <summary>Fires when the run ends before it answered: at its deadline, when the caller cancels, or when its graph stops.</summary>
    public CancellationToken Token { get; }

    /// <summary>When the run fails with <see cref="WorkflowDeadlineExceededException"/>; null for a run without a deadline.</summary>
    public DateTimeOffset? Deadline => _deadlineUtcTicks == 0 ? null : new DateTimeOffset(_deadlineUtcTicks, TimeSpan.Zero);

    /// <summary>The clock of the deadline and of checkpoint timestamps.</summary>
    public TimeProvider Clock => _graph.Options.Clock;

    /// <summary>Where streaming LLM steps send their text (<see cref="RunOptions.TextSink"/>); null for most runs.</summary>
    public Llm.ILlmTextSink? TextSink { get; internal set; }

    /// <summary>Whether primitives record timing checkpoints in the run's context (<see cref="RunOptions.RecordCheckpoints"/>).</summary>
    public bool RecordsCheckpoints { get; }

    /// <summary>Why the run ended before it finished (deadline or caller cancellation); null while it may go on.</summary>
    public Exception? EndReason => Volatile.Read(ref _endReason);

    /// <summary>The primitive the run is in: the one that started last and has not finished.</summary>
    public PrimitiveNode Position => Volatile.Read(ref _position);

    internal void Enter(PrimitiveNode node) => Volatile.Write(ref _position, node);

    internal void Leave(PrimitiveNode node)
    {
        if (node.Parent is { } parent) Interlocked.CompareExchange(ref _position, parent, node);
    }

    internal void Expire()
    {
        var where = Position.Path;
        End(new WorkflowDeadlineExceededException(_graph.Name, where, _timeout));
    }

    private void CancelByCaller() =>
        End(new OperationCanceledException(
            $"Workflow '{_graph.Name}' was cancelled by its caller while at '{Position.Path}'.", Token));

    internal void StopWithGraph() => End(new WorkflowGraphStoppedException(_graph.Name, Position.Path));

    private void End(Exception reason)
    {
        if (Interlocked.CompareExchange(ref _endReason, reason, null) is not null) return;
        try
        {
            _source.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The run answered while its deadline fired; nothing holds state for it any more.
        }
        TellWatchers();
        // Every primitive holding the run answers this same error; the caller need not wait for the root to say so.
        var path = reason is WorkflowDeadlineExceededException deadline ? deadline.PrimitivePath : Position.Path;
        Complete(new PrimitiveFailed(_runId, _callId, WorkflowFailure.From(path, reason)));
    }

    /// <summary>
    /// The first answer (the root's, or the run's end) becomes the caller's result on a thread-pool thread, never on the
    /// thread it arrives on (a primitive actor's turn, a timer's callback): the lifetime queues itself as the work item,
    /// so neither that nor the caller's continuation, which then runs in the same work item, allocates anything.
    /// </summary>
    private void Complete(PrimitiveResult answer)
    {
        if (Interlocked.Exchange(ref _answered, 1) != 0) return;
        _firstAnswer = answer;
        ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: true);
    }

    /// <summary>The queued completion (<see cref="Complete"/>): the graph turns the answer into the result, and the run's task completes with it.</summary>
    void IThreadPoolWorkItem.Execute()
    {
        WorkflowRunResult result;
        try
        {
            result = _graph.Finish(this, _firstAnswer!);
        }
        catch (Exception error)
        {
            _completion.SetException(error);
            return;
        }
        _completion.SetResult(result);
    }

    /// <summary>
    /// Tells <paramref name="owner"/> a <see cref="RunEnded"/> for <paramref name="execution"/> when the run ends before the
    /// execution finished (at once if it has ended already). The execution is linked in the run's own list: no callback
    /// registration and no object per watch.
    /// </summary>
    internal void Watch(PrimitiveExecution execution, IActorRef owner)
    {
        // The source is this lifetime's own (its token does not hand it out), so it doubles as the lock of the list.
        lock (_source)
        {
            if (EndReason is null)
            {
                execution.WatchOwner = owner;
                execution.WatchNext = _watchers;
                if (_watchers is not null) _watchers.WatchPrevious = execution;
                _watchers = execution;
                return;
            }
        }
        owner.Tell(new RunEnded(execution), ActorRefs.NoSender);
    }

    /// <summary>Stops watching <paramref name="execution"/> (it finished); nothing if it is not watched.</summary>
    internal void Unwatch(PrimitiveExecution execution)
    {
        lock (_source)
        {
            if (execution.WatchOwner is null) return;
            var previous = execution.WatchPrevious;
            var next = execution.WatchNext;
            if (previous is not null) previous.WatchNext = next;
            else _watchers = next;
            if (next is not null) next.WatchPrevious = previous;
            execution.WatchPrevious = execution.WatchNext = null;
            execution.WatchOwner = null;
        }
    }

    /// <summary>The run has ended (<see cref="EndReason"/> is set): every execution still watched is told so, once.</summary>
    private void TellWatchers()
    {
        List<(PrimitiveExecution Execution, IActorRef Owner)>? told = null;
        lock (_source)
        {
            for (var watched = _watchers; watched is not null;)
            {
                var next = watched.WatchNext;
                (told ??= []).Add((watched, watched.WatchOwner!));
                watched.WatchPrevious = watched.WatchNext = null;
                watched.WatchOwner = null;
                watched = next;
            }
            _watchers = null;
        }
        if (told is null) return;
        foreach (var (execution, owner) in told) owner.Tell(new RunEnded(execution), ActorRefs.NoSender);
    }

    /// <summary>Completes the run when the root's answer to the run's dispatch arrives; any other message is ignored.</summary>
    protected override void TellInternal(object message, IActorRef sender)
    {
        if (message is PrimitiveResult answer && answer.CallId == _callId) Complete(answer);
    }

    /// <summary>A temporary path, made on first use.</summary>
    public override ActorPath Path => _path ??= _graph.Provider.TempPath();

    /// <summary>The provider of the actor system the run is in.</summary>
    public override IActorRefProvider Provider => _graph.Provider;

    /// <summary>Stops the deadline and leaves the graph's runs in flight; called once the run has answered its caller.</summary>
    public void Dispose()
    {
        _graph.Runs.Remove(this);
        _timer?.Dispose();
        _callerRegistration.Dispose();
        _source.Dispose();
    }
}
