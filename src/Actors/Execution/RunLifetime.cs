using System.Threading.Tasks.Sources;
using Akka.Actor;

namespace TtaActors.Actors.Execution;

/// <summary>
/// The one deadline and the one cancellation of a run, made when the run starts and carried by every envelope of the run.
/// When the deadline passes (or the caller cancels, or the graph stops), <see cref="Token"/> fires: leaf steps see it as their cancellation
/// token, and every primitive actor that holds state for the run fails it with <see cref="EndReason"/>, the same exception
/// everywhere. Nothing per step allocates a timer or a cancellation source; this object is the run's only one.
/// </summary>
/// <remarks>
/// The lifetime also knows where the run is (the primitive that last started and has not finished yet), so the deadline
/// error names the place time ran out, and whether the run records timing checkpoints in its context. It is also the
/// address the root primitive answers to: the run's answer, or at the deadline its failure, completes
/// <see cref="Answer"/> exactly once, without the temporary actor an <c>Ask</c> would register.
/// </remarks>
public sealed class RunLifetime : MinimalActorRef, IValueTaskSource<PrimitiveResult>, IDisposable
{
    private readonly IActorRefProvider _provider;
    private readonly RunId _runId;
    private readonly long _callId;
    private ManualResetValueTaskSourceCore<PrimitiveResult> _answer = new() { RunContinuationsAsynchronously = true };
    private int _answered;
    private ActorPath? _path;
    private readonly CancellationTokenSource? _source;
    private readonly ITimer? _timer;
    private readonly CancellationTokenRegistration _callerRegistration;
    private readonly CancellationTokenRegistration _graphRegistration;
    private readonly string _workflowName;
    private readonly TimeSpan? _timeout;
    private PrimitiveNode _position;
    private Exception? _endReason;

    private RunLifetime(IActorRefProvider provider, RunId runId, long callId, string workflowName, PrimitiveNode root, TimeSpan? timeout,
        CancellationToken caller, TimeProvider clock, bool recordCheckpoints, CancellationToken graphStopping)
    {
        _provider = provider;
        _runId = runId;
        _callId = callId;
        _workflowName = workflowName;
        _position = root;
        _timeout = timeout;
        Clock = clock;
        RecordsCheckpoints = recordCheckpoints;
        if (timeout is null && !caller.CanBeCanceled && !graphStopping.CanBeCanceled) return;

        _source = new CancellationTokenSource();
        Token = _source.Token;
        if (timeout is { } limit)
        {
            Deadline = clock.GetUtcNow() + limit;
            _timer = clock.CreateTimer(static state => ((RunLifetime)state!).Expire(), this, limit, Timeout.InfiniteTimeSpan);
        }
        if (caller.CanBeCanceled) _callerRegistration = caller.UnsafeRegister(static state => ((RunLifetime)state!).CancelByCaller(), this);
        // Last: a graph stopped meanwhile ends the run right here, which needs everything above.
        if (graphStopping.CanBeCanceled)
            _graphRegistration = graphStopping.UnsafeRegister(static state => ((RunLifetime)state!).StopWithGraph(), this);
    }

    /// <summary>A lifetime for a run that starts now; <paramref name="timeout"/> null runs without a deadline.</summary>
    /// <param name="callId">The dispatch id of the run's envelope to its root primitive.</param>
    /// <param name="graphStopping">Fires when the run's graph stops: the run then fails with <see cref="WorkflowGraphStoppedException"/>.</param>
    /// <param name="provider">The actor system's provider (the lifetime is a temporary actor reference the root answers to).</param>
    /// <param name="runId">The run.</param>
    /// <param name="workflowName">The workflow's name, for the deadline's error.</param>
    /// <param name="root">The root primitive, where the run starts.</param>
    /// <param name="timeout">The run's deadline from now; null for none.</param>
    /// <param name="caller">The caller's token: cancelling it fails the run.</param>
    /// <param name="clock">Clock of the deadline timer.</param>
    /// <param name="recordCheckpoints">Whether executions record their checkpoints in the context.</param>
    internal static RunLifetime Start(IActorRefProvider provider, RunId runId, long callId, string workflowName, PrimitiveNode root,
        TimeSpan? timeout, CancellationToken caller, TimeProvider clock, bool recordCheckpoints, CancellationToken graphStopping = default) =>
        new(provider, runId, callId, workflowName, root, timeout, caller, clock, recordCheckpoints, graphStopping);

    /// <summary>Completes once: with the root primitive's answer, or with the run's failure when it ends first.</summary>
    internal ValueTask<PrimitiveResult> Answer => new(this, _answer.Version);

    /// <summary>Fires at the deadline or when the caller cancels; never fires for a run with neither.</summary>
    public CancellationToken Token { get; }

    /// <summary>When the run fails with <see cref="WorkflowDeadlineExceededException"/>; null for a run without a deadline.</summary>
    public DateTimeOffset? Deadline { get; }

    /// <summary>The clock of the deadline and of checkpoint timestamps.</summary>
    public TimeProvider Clock { get; }

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

    private void Expire()
    {
        var where = Position.Path;
        End(new WorkflowDeadlineExceededException(_workflowName, where, _timeout!.Value));
    }

    private void CancelByCaller() =>
        End(new OperationCanceledException(
            $"Workflow '{_workflowName}' was cancelled by its caller while at '{Position.Path}'.", Token));

    private void StopWithGraph() => End(new WorkflowGraphStoppedException(_workflowName, Position.Path));

    private void End(Exception reason)
    {
        if (Interlocked.CompareExchange(ref _endReason, reason, null) is not null) return;
        try
        {
            _source!.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The run answered while its deadline fired; nothing holds state for it any more.
        }
        // Every primitive holding the run answers this same error; the caller need not wait for the root to say so.
        var path = reason is WorkflowDeadlineExceededException deadline ? deadline.PrimitivePath : Position.Path;
        Complete(new PrimitiveFailed(_runId, _callId, WorkflowFailure.From(path, reason)));
    }

    private void Complete(PrimitiveResult answer)
    {
        if (Interlocked.Exchange(ref _answered, 1) == 0) _answer.SetResult(answer);
    }

    /// <summary>Completes the run when the root's answer to the run's dispatch arrives; any other message is ignored.</summary>
    protected override void TellInternal(object message, IActorRef sender)
    {
        if (message is PrimitiveResult answer && answer.CallId == _callId) Complete(answer);
    }

    /// <summary>A temporary path, made on first use.</summary>
    public override ActorPath Path => _path ??= _provider.TempPath();

    /// <summary>The provider of the actor system the run is in.</summary>
    public override IActorRefProvider Provider => _provider;

    PrimitiveResult IValueTaskSource<PrimitiveResult>.GetResult(short token) => _answer.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource<PrimitiveResult>.GetStatus(short token) => _answer.GetStatus(token);

    void IValueTaskSource<PrimitiveResult>.OnCompleted(Action<object?> continuation, object? state, short token,
        ValueTaskSourceOnCompletedFlags flags) => _answer.OnCompleted(continuation, state, token, flags);

    /// <summary>Stops the timer; called once the run has answered its caller.</summary>
    public void Dispose()
    {
        _timer?.Dispose();
        _callerRegistration.Dispose();
        _graphRegistration.Dispose();
        _source?.Dispose();
    }
}
