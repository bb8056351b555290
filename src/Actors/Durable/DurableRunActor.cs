using System.Diagnostics;
using System.Text.Json;
using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using Akka.Persistence.Journal;
using TtaActors.Actors.Context;
using TtaActors.Actors.Execution;
using TtaActors.Telemetry;
using TtaActors.Telemetry.Llm;
using static TtaActors.Actors.Durable.DurableRunCommands;
using static TtaActors.Actors.Durable.DurableRunEvents;
using static TtaActors.Actors.Durable.DurableRunReplies;

namespace TtaActors.Actors.Durable;

/// <summary>Settings shared by every durable run entity of a node.</summary>
public sealed record DurableRunSettings
{
    /// <summary>The clock of waits, timeouts and event times; the system clock by default.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>How long a finished run stays in memory for readers of its events before it passivates.</summary>
    public TimeSpan KeepFinished { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// What the entity sends its parent to leave memory (the shard's <c>Passivate</c>); null for an entity without a shard,
    /// which stops itself.
    /// </summary>
    public object? PassivateMessage { get; init; }

    /// <summary>The deadline of each step's execution; null takes the step graph's default deadline.</summary>
    public TimeSpan? StepTimeout { get; init; }

    /// <summary>
    /// What of a wait's prompt and a signal's payload reaches the wait and signal spans: the node's content capture policy
    /// (the LLM steps' one on a node), so secrets are redacted and capture off records neither; the journal keeps both whole.
    /// </summary>
    public CapturePolicy Capture { get; init; } = CapturePolicy.Default;

    /// <summary>
    /// A streaming LLM step's text is journaled (TEXT_MESSAGE_CONTENT) once this many characters have arrived (or
    /// <see cref="TextFlushInterval"/> after its first unwritten delta, or at the message's end), not per token.
    /// </summary>
    public int TextChunkChars
    {
        get => _textChunkChars;
        init => _textChunkChars = value is >= 1 and <= MaxTextChunkChars
            ? value
            : throw new ArgumentOutOfRangeException(nameof(TextChunkChars), value, $"TextChunkChars must be between 1 and {MaxTextChunkChars}.");
    }

    private readonly int _textChunkChars = DefaultTextChunkChars;

    /// <summary>The longest a delta waits in memory before it is journaled.</summary>
    public TimeSpan TextFlushInterval { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary><see cref="TextChunkChars"/> when not set: 512.</summary>
    public const int DefaultTextChunkChars = 512;
    /// <summary>The largest <see cref="TextChunkChars"/> allowed: 64 KiB.</summary>
    public const int MaxTextChunkChars = 64 * 1024;
}

/// <summary>
/// One durable run, event-sourced and sharded by run id. It journals its start (input, context, trace parent, definition
/// hash), each top-level step's start and completion (output and context records), waits, signals and its outcome, and
/// executes the next step only after the previous completion is in the journal. Recovered on any node, it goes on from
/// the first step not completed: completed steps are never executed again, a step in flight is executed again with the
/// same idempotency key.
/// </summary>
public sealed class DurableRunActor : ReceivePersistentActor, IWithTimers
{
    /// <summary>The persistence id of a run is this prefix and the run id.</summary>
    public const string PersistenceIdPrefix = "durable-run-";

    /// <summary>The journal tag of lifecycle events (start, wait, signal, outcome): what <c>GET /runs?status=</c> and recovery read.</summary>
    public const string LifecycleTag = "tta-durable-run";

    private const string WaitTimer = "wait";
    private const string PollTimer = "poll";
    private const string PassivateTimer = "passivate";
    private const string TextTimer = "text";

    private readonly string _runId;
    private readonly IDurableWorkflowCatalog _catalog;
    private readonly DurableRunSettings _settings;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly List<(long Id, IEvent Event)> _events = [];
    private readonly HashSet<string> _signalIds = new(StringComparer.Ordinal);
    private readonly List<(IActorRef Reader, GetEvents Request, DateTimeOffset Until)> _readers = [];

    private RunStarted? _start;
    private DurableWorkflowDefinition? _definition;
    private WorkflowContext _context = WorkflowContext.Create();
    private object? _lastOutput;
    private TypedJson? _lastOutputJson;
    private int _completed;
    private WaitStarted? _waiting;
    private bool _timedOut;
    private IEvent? _end;
    private IActorRef? _starter;
    private bool _stepInFlight;
    private long _executing;
    private int _startJournaled = -1;
    private readonly System.Text.StringBuilder _text = new();
    private string? _textMessage;

    /// <param name="runId">The run this entity is (its entity id).</param>
    /// <param name="catalog">Where the run's workflow definition is found.</param>
    /// <param name="settings">The node's durable run settings.</param>
    public DurableRunActor(string runId, IDurableWorkflowCatalog catalog, DurableRunSettings settings)
    {
        _runId = runId;
        _catalog = catalog;
        _settings = settings;
        PersistenceId = PersistenceIdPrefix + runId;

        Recover<IEvent>(e => Apply(e, LastSequenceNr));
        Recover<RecoveryCompleted>(_ => Recovered());

        Command<Start>(Begin);
        Command<Get>(_ => Answer(View()));
        Command<Signal>(OnSignal);
        Command<GetEvents>(OnGetEvents);
        Command<Wake>(_ =>
        {
            if (_start is null) PassivateNow();
        });
        Command<StepDone>(OnStepDone);
        Command<TextStarted>(OnTextStarted);
        Command<TextDelta>(OnTextDelta);
        Command<TextEnded>(OnTextEnded);
        Command<TextFlush>(_ => FlushText());
        Command<WaitExpired>(OnWaitExpired);
        Command<PollTick>(_ => ExpireReaders());
        Command<PassivateNowMessage>(_ => PassivateNow());
        Command<CatalogCheck>(_ => Recovered());
    }

    /// <summary><see cref="PersistenceIdPrefix"/> and the run id.</summary>
    public override string PersistenceId { get; }

    /// <summary>Set by Akka for the wait, poll and passivation timers.</summary>
    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>
    /// The props of the entity of run <paramref name="runId"/>. A producer rather than <c>Props.Create(() =&gt; new ...)</c>:
    /// that form compiles an expression tree for every argument of every Props made, and a node makes one per durable run
    /// (see <c>PersonaSessionActor.Props</c>).
    /// </summary>
    /// <param name="runId">The run.</param>
    /// <param name="catalog">Where the run's workflow definition is found.</param>
    /// <param name="settings">The node's settings; the defaults when null.</param>
    public static Props Props(string runId, IDurableWorkflowCatalog catalog, DurableRunSettings? settings = null) =>
        Akka.Actor.Props.CreateBy(new Producer(runId, catalog, settings ?? new DurableRunSettings()));

    private sealed class Producer(string runId, IDurableWorkflowCatalog catalog, DurableRunSettings settings) : IIndirectActorProducer
    {
        public Type ActorType => typeof(DurableRunActor);

        public ActorBase Produce() => new DurableRunActor(runId, catalog, settings);

        public void Release(ActorBase actor) { }
    }

    private DateTimeOffset Now() => _settings.Time.GetUtcNow();

    // ---- state -------------------------------------------------------------------------------------------------------

    private void Apply(IEvent @event, long sequenceNr)
    {
        switch (@event)
        {
            case RunStarted started:
                _start = started;
                _context = DurableJson.Context(started.ContextJson);
                _lastOutputJson = started.Input;
                _lastOutput = DurableJson.Read(started.Input);
                break;
            case StepCompleted step:
                _completed = step.Index + 1;
                _lastOutputJson = step.Output;
                _lastOutput = DurableJson.Read(step.Output);
                _context = DurableJson.Context(step.ContextJson);
                _waiting = null;
                _timedOut = false;
                break;
            case WaitStarted wait:
                _waiting = wait;
                break;
            case SignalReceived signal:
                _signalIds.Add(signal.SignalId);
                break;
            case WaitTimedOut:
                _timedOut = true;
                break;
            case RunSucceeded or RunFailed:
                _end = @event;
                break;
        }
        _events.Add((sequenceNr, @event));
    }

    private void Recovered()
    {
        if (_start is null) return;
        if (_end is not null)
        {
            SchedulePassivation();
            return;
        }
        if (!_catalog.Ready)
        {
            // The node is still loading its workflows; the run goes on once it has them.
            Timers.StartSingleTimer("catalog", CatalogCheck.Instance, TimeSpan.FromMilliseconds(500));
            return;
        }
        _definition = _catalog.Find(_start.Workflow);
        if (_definition is null)
        {
            Fail(_start.Workflow, new InvalidOperationException(
                $"Durable run {_runId} of workflow '{_start.Workflow}' cannot be resumed on this node: no durable workflow of that name is " +
                "registered here. Load the same workflows on every node."));
            return;
        }
        if (_definition.Hash != _start.DefinitionHash)
        {
            Fail(_start.Workflow, new DefinitionChangedException(_start.Workflow, _start.DefinitionHash, _definition.Hash));
            return;
        }
        _log.Info("Durable run {0} of '{1}' resumed at step {2} of {3}", _runId, _start.Workflow, _completed, _definition.Steps.Count);
        Continue();
    }

    /// <summary>
    /// Journals the events in one write (each tagged when it is a lifecycle event), then applies them, tells readers, and
    /// goes on. The journal writes the events of one call together, so a step's completion and the next step's start (or
    /// the run's outcome) cost one round trip to the database, not two.
    /// </summary>
    private void Record(IReadOnlyList<IEvent> events, Action? then = null)
    {
        var stored = events.Select(e => e is RunStarted or WaitStarted or SignalReceived or RunSucceeded or RunFailed
            ? new Tagged(e, [LifecycleTag])
            : (object)e).ToList();
        var applied = 0;
        PersistAll(stored, persisted =>
        {
            Apply(persisted is Tagged tagged ? (IEvent)tagged.Payload : (IEvent)persisted, LastSequenceNr);
            if (++applied < stored.Count) return;
            AnswerReaders();
            if (_end is not null) Finished();
            then?.Invoke();
        });
    }

    private void Record(IEvent @event, Action? then = null) => Record([@event], then);

    /// <summary>
    /// The event journaled with the completion of the step before <paramref name="index"/>: the start of step
    /// <paramref name="index"/> (remembered in <see cref="_startJournaled"/>, so <see cref="Continue"/> executes it without
    /// journaling it again), or the run's success after the last step; null when that step waits for a signal.
    /// </summary>
    private IEvent? Following(int index, TypedJson? output)
    {
        var steps = _definition!.Steps;
        if (index >= steps.Count) return new RunSucceeded(output, Now());
        var step = steps[index];
        if (step.Wait is not null) return null;
        return new StepStarted(step.Index, step.Path, DurableRunContext.KeyOf(_runId, step.Path, 1), 1, Now());
    }

    private void RecordWithFollowing(IEvent @event, int next, TypedJson? output, Action? then)
    {
        var following = Following(next, output);
        if (following is null)
        {
            Record(@event, then);
            return;
        }
        Record([@event, following], () =>
        {
            if (following is StepStarted) _startJournaled = next;
            then?.Invoke();
        });
    }

    // ---- commands ----------------------------------------------------------------------------------------------------

    private void Begin(Start start)
    {
        if (_start is not null)
        {
            Answer(new Refused(_runId, DurableRefusalCodes.AlreadyStarted, $"Durable run {_runId} has already started."));
            return;
        }
        if (!_catalog.Ready)
        {
            Answer(new Refused(_runId, DurableRefusalCodes.NotReady,
                $"The node that hosts run {_runId} is still loading its workflows; start the run again in a moment."));
            PassivateNow();
            return;
        }
        _definition = _catalog.Find(start.Workflow);
        if (_definition is null)
        {
            Answer(new Refused(_runId, DurableRefusalCodes.UnknownWorkflow,
                $"No durable workflow '{start.Workflow}' is registered on the node that hosts run {_runId}; load the same workflows on every node."));
            PassivateNow();
            return;
        }
        if (start.AnswerBy is { } answerBy && Now() is var arrived && arrived > answerBy)
        {
            // The caller has given up (or is about to): it tells its client the run did not start, so it must not.
            Answer(new Refused(_runId, DurableRefusalCodes.StartExpired,
                $"Durable run {_runId} was not started: its start reached the run at {arrived:O}, after {answerBy:O}, the instant its caller " +
                "had to be answered by (the node or the journal was slow). Nothing was journaled and nothing ran; start it again."));
            PassivateNow();
            return;
        }
        _starter = Sender;
        var started = new RunStarted(_runId, start.Workflow, _definition.Hash, start.Input, start.ContextJson, start.TraceParent, start.TraceState,
            start.Persona, start.ChatMode, Now());
        RecordWithFollowing(started, 0, start.Input, () =>
        {
            if (start.AnswerBy is { } deadline && Now() is var journaled && journaled > deadline)
            {
                StartedTooLate(deadline, journaled);
                return;
            }
            _starter?.Tell(View());
            _starter = null;
            Continue();
        });
    }

    /// <summary>
    /// The start was journaled after its caller's deadline, so the caller may have told its client that the run did not
    /// start: the run fails before its first step executes, and the starter (if it still waits) is refused.
    /// </summary>
    private void StartedTooLate(DateTimeOffset deadline, DateTimeOffset journaled)
    {
        var error = new StartExpiredException(_runId, deadline, journaled);
        _starter?.Tell(new Refused(_runId, DurableRefusalCodes.StartExpired, error.Message));
        _starter = null;
        Fail(_start!.Workflow, error);
    }

    private void OnSignal(Signal signal)
    {
        if (_start is null)
        {
            Answer(NotFound());
            return;
        }
        if (_signalIds.Contains(signal.SignalId))
        {
            Answer(new SignalAccepted(_runId, signal.Name, signal.SignalId, Duplicate: true));
            return;
        }
        if (_end is not null)
        {
            Answer(new Refused(_runId, DurableRefusalCodes.Finished, $"Run {_runId} has finished ({StatusOf()}); it takes no more signals."));
            return;
        }
        var awaited = Awaited();
        if (!awaited.Contains(signal.Name))
        {
            Answer(new Refused(_runId, DurableRefusalCodes.NotAwaited, awaited.Count == 0
                ? $"Run {_runId} is not waiting for a signal now (it is {StatusOf()}); signal '{signal.Name}' was not taken."
                : $"Run {_runId} is not waiting for signal '{signal.Name}'; it waits for {string.Join(", ", awaited)}.", awaited));
            return;
        }
        var wait = _waiting!;
        var step = _definition!.Steps[wait.Index];
        var reply = Sender;
        Timers.Cancel(WaitTimer);
        var received = new SignalReceived(wait.Index, signal.Name, signal.SignalId, signal.PayloadJson, Now());
        Record(received, () =>
        {
            reply.Tell(new SignalAccepted(_runId, signal.Name, signal.SignalId, Duplicate: false));
            var output = signal.PayloadJson is null ? null : new TypedJson(typeof(System.Text.Json.Nodes.JsonNode).AssemblyQualifiedName!, signal.PayloadJson);
            Signalled(step, received);
            RecordWithFollowing(new StepCompleted(wait.Index, step.Path, output, DurableJson.Context(_context), (received.At - wait.At).TotalMilliseconds,
                Now()), wait.Index + 1, output, Continue);
        });
    }

    private void OnGetEvents(GetEvents request)
    {
        if (_start is null)
        {
            Answer(NotFound());
            return;
        }
        var items = EventsAfter(request.After, request.Max);
        if (items.Count > 0 || _end is not null || request.WaitMs <= 0)
        {
            Answer(new Events(_runId, items, _end is not null));
            return;
        }
        _readers.Add((Sender, request, Now() + TimeSpan.FromMilliseconds(Math.Min(request.WaitMs, 60_000))));
        if (!Timers.IsTimerActive(PollTimer)) Timers.StartPeriodicTimer(PollTimer, PollTick.Instance, TimeSpan.FromMilliseconds(500));
    }

    private List<Event> EventsAfter(long after, int max)
    {
        var items = new List<Event>();
        var threadId = _runId;
        foreach (var (id, @event) in _events)
        {
            if (id <= after) continue;
            if (items.Count >= Math.Clamp(max, 1, 1000)) break;
            items.Add(new Event(id, AgUiEvents.ToJson(@event, _runId, threadId).ToJsonString()));
        }
        return items;
    }

    private void AnswerReaders()
    {
        if (_readers.Count == 0) return;
        foreach (var (reader, request, _) in _readers)
            reader.Tell(new Events(_runId, EventsAfter(request.After, request.Max), _end is not null));
        _readers.Clear();
        Timers.Cancel(PollTimer);
    }

    private void ExpireReaders()
    {
        var now = Now();
        for (var i = _readers.Count - 1; i >= 0; i--)
        {
            if (_readers[i].Until > now) continue;
            _readers[i].Reader.Tell(new Events(_runId, [], _end is not null));
            _readers.RemoveAt(i);
        }
        if (_readers.Count == 0) Timers.Cancel(PollTimer);
    }

    // ---- execution ---------------------------------------------------------------------------------------------------

    /// <summary>Goes on from the first step not completed: finishes, waits, or executes it.</summary>
    private void Continue()
    {
        if (_end is not null || _stepInFlight || _definition is null || _start is null) return;
        try
        {
            var steps = _definition.Steps;
            if (_completed >= steps.Count)
            {
                Record(new RunSucceeded(_lastOutputJson, Now()));
                return;
            }
            var step = steps[_completed];
            if (step.Wait is { } wait)
            {
                if (_waiting?.Index == step.Index)
                {
                    if (_timedOut) Execute(step, step.TimeoutGraph!, step.Path + "/on-timeout");
                    else ArmWaitTimer(_waiting);
                    return;
                }
                var request = wait.Request(_lastOutput, _context);
                var at = Now();
                Record(new WaitStarted(step.Index, step.Path, wait.Signals, wait.IsApproval, request.Prompt, request.Payload?.ToJsonString(),
                    wait.Timeout is { } limit ? at + limit : null, at), () =>
                {
                    WaitSpan(step, _waiting!);
                    ArmWaitTimer(_waiting!);
                });
                return;
            }
            if (_startJournaled == step.Index)
            {
                // Its start went into the journal with the previous step's completion.
                _startJournaled = -1;
                Execute(step, step.Graph!, step.Path, startJournaled: true);
                return;
            }
            var key = DurableRunContext.KeyOf(_runId, step.Path, 1);
            // A step resumed after recovery does not wait for its start to be stored: the journal keeps the order (its
            // completion is written after it), and a step lost before its start was stored is executed again all the same.
            var stepStarted = new StepStarted(step.Index, step.Path, key, 1, Now());
            PersistAsync(stepStarted, _ =>
            {
                Apply(stepStarted, LastSequenceNr);
                AnswerReaders();
            });
            Execute(step, step.Graph!, step.Path, startJournaled: false);
        }
        catch (Exception error)
        {
            Fail(_definition.Steps.ElementAtOrDefault(_completed)?.Path ?? _start.Workflow, error);
        }
    }

    private void Execute(DurableStep step, WorkflowGraph graph, string path, bool startJournaled = false)
    {
        var key = DurableRunContext.KeyOf(_runId, path, 1);
        var dispatched = _context.CreateChild().WithMetadata(DurableRunContext.IdempotencyKeyMetadata, key);
        var executions = _events.Count(e => e.Event is StepStarted s && s.Index == step.Index) + (startJournaled ? 0 : 1);
        var previous = Activity.Current;
        var span = StartSpan("durable.step " + path, span =>
        {
            span.SetTag(TelemetryNames.Durable.StepPath, path);
            span.SetTag("durable.idempotency_key", key);
            span.SetTag("durable.resumed", executions > 1);
        });
        var started = Stopwatch.GetTimestamp();
        var execution = ++_executing;
        _stepInFlight = true;
        try
        {
            var options = new RunOptions
            {
                RunId = new RunId(Guid.Parse(_runId)),
                Timeout = _settings.StepTimeout,
                LangfuseTraceId = TraceParent.ParseW3C(_start!.TraceParent).IsEmpty ? null : TraceParent.ParseW3C(_start.TraceParent).TraceId.ToHexString(),
                TextSink = new TextSink(Self, execution),
            };
            graph.RunAsync(_lastOutput, dispatched, options).PipeTo(Self,
                success: result => new StepDone(execution, step, path, dispatched, result, null, span, started),
                failure: error => new StepDone(execution, step, path, dispatched, null, error, span, started));
        }
        finally
        {
            Activity.Current = previous;
        }
    }

    private void OnStepDone(StepDone done)
    {
        if (done.Execution != _executing || _end is not null) return;
        _stepInFlight = false;
        EndText();
        var failure = done.Result?.Failure
                      ?? (done.Error is { } error ? WorkflowFailure.From(done.Path, error) : null);
        if (done.Span is { } span)
        {
            PrimitiveTelemetry.EndSpan(span, failure is null ? TelemetryNames.Status.Success : TelemetryNames.Status.Error,
                failure?.Exception, failure?.ToString());
        }
        if (failure is not null)
        {
            Record(new RunFailed(failure.PrimitivePath, failure.ErrorType, failure.Message, Now()));
            return;
        }
        TypedJson? output;
        try
        {
            output = DurableJson.From(done.Result!.Output);
        }
        catch (NotSupportedException unwritable)
        {
            Fail(done.Path, unwritable);
            return;
        }
        var context = _context.AbsorbRecords(done.Result.Context, done.Dispatched);
        var value = done.Result.Output;
        RecordWithFollowing(new StepCompleted(done.Step.Index, done.Path, output, DurableJson.Context(context),
            Stopwatch.GetElapsedTime(done.StartedAt).TotalMilliseconds, Now()), done.Step.Index + 1, output, () =>
        {
            // The next step gets the object the step returned, not its JSON copy, while the run stays on this node.
            _lastOutput = value;
            Continue();
        });
    }

    // ---- streamed text ------------------------------------------------------------------------------------------------
    // Deltas are journaled with PersistAsync: the step goes on streaming while they are written, and the journal keeps
    // their order before the step's completion. A step executed again after a resume streams a new message.

    private bool IsCurrent(long execution) => execution == _executing && _stepInFlight && _end is null;

    private void OnTextStarted(TextStarted started)
    {
        if (!IsCurrent(started.Execution)) return;
        EndText();
        _textMessage = started.MessageId;
        JournalText(new TextMessageStarted(started.MessageId, started.StepPath, Now()));
    }

    private void OnTextDelta(TextDelta delta)
    {
        if (!IsCurrent(delta.Execution) || delta.MessageId != _textMessage) return;
        _text.Append(delta.Text);
        while (_text.Length >= _settings.TextChunkChars) JournalChunk(_settings.TextChunkChars);
        if (_text.Length > 0 && !Timers.IsTimerActive(TextTimer)) Timers.StartSingleTimer(TextTimer, TextFlush.Instance, _settings.TextFlushInterval);
    }

    private void OnTextEnded(TextEnded ended)
    {
        if (IsCurrent(ended.Execution) && ended.MessageId == _textMessage) EndText();
    }

    private void FlushText()
    {
        if (_textMessage is not null && _text.Length > 0) JournalChunk(_text.Length);
    }

    /// <summary>Journals the first <paramref name="length"/> characters buffered, never splitting a surrogate pair.</summary>
    private void JournalChunk(int length)
    {
        if (length < _text.Length && char.IsHighSurrogate(_text[length - 1]) && length > 1) length--;
        var chunk = _text.ToString(0, length);
        _text.Remove(0, length);
        if (_text.Length == 0) Timers.Cancel(TextTimer);
        JournalText(new TextMessageContent(_textMessage!, chunk, Now()));
    }

    private void EndText()
    {
        if (_textMessage is null) return;
        FlushText();
        JournalText(new TextMessageEnded(_textMessage, Now()));
        _textMessage = null;
        _text.Clear();
        Timers.Cancel(TextTimer);
    }

    private void JournalText(IEvent @event) => PersistAsync(@event, _ =>
    {
        Apply(@event, LastSequenceNr);
        AnswerReaders();
    });

    private void ArmWaitTimer(WaitStarted wait)
    {
        if (wait.TimeoutAt is not { } at) return;
        var delay = at - Now();
        // A very long wait re-checks every 20 days (the scheduler's longest delay is about 24.8 days).
        var step = delay <= TimeSpan.Zero ? TimeSpan.Zero : delay > TimeSpan.FromDays(20) ? TimeSpan.FromDays(20) : delay;
        Timers.StartSingleTimer(WaitTimer, new WaitExpired(wait.Index), step);
    }

    private void OnWaitExpired(WaitExpired expired)
    {
        if (_end is not null || _waiting is not { } wait || wait.Index != expired.Index || _completed != wait.Index || _timedOut) return;
        if (wait.TimeoutAt is { } at && at > Now())
        {
            ArmWaitTimer(wait);
            return;
        }
        var step = _definition!.Steps[wait.Index];
        var branch = step.TimeoutGraph is not null;
        Record(new WaitTimedOut(wait.Index, branch, Now()), () =>
        {
            if (branch) Execute(step, step.TimeoutGraph!, step.Path + "/on-timeout");
            else Fail(step.Path, new SignalTimeoutException(step.Name, wait.Signals, step.Wait!.Timeout!.Value));
        });
    }

    private void Fail(string path, Exception error)
    {
        var failure = WorkflowFailure.From(path, error);
        Record(new RunFailed(failure.PrimitivePath, failure.ErrorType, failure.Message, Now()));
    }

    private void Finished()
    {
        Timers.Cancel(WaitTimer);
        _log.Info("Durable run {0} of '{1}' {2}", _runId, _start?.Workflow, StatusOf());
        SchedulePassivation();
    }

    // ---- telemetry ---------------------------------------------------------------------------------------------------

    /// <summary>A span of this run, a child of the run's root span (from the journaled trace parent), also after a resume.</summary>
    private Activity? StartSpan(string name, Action<Activity> tag)
    {
        var source = TtaInstrumentation.ActivitySource;
        if (!source.HasListeners() || _start is null) return null;
        var parent = TraceParent.ParseW3C(_start.TraceParent, _start.TraceState);
        var span = source.StartActivity(name, ActivityKind.Internal, parent.ToActivityContext());
        if (span is null) return null;
        if (span.IsAllDataRequested)
        {
            span.SetTag(TelemetryNames.Attributes.WorkflowName, _start.Workflow);
            span.SetTag(TelemetryNames.Attributes.WorkflowRunId, _runId);
            if (_start.Persona is not null) span.SetTag(TelemetryNames.Attributes.Persona, _start.Persona);
            if (_start.ChatMode is not null) span.SetTag(TelemetryNames.Attributes.ChatMode, _start.ChatMode);
            PrimitiveTelemetry.TagRunTrace(span, _start.Workflow, _context);
            tag(span);
        }
        return span;
    }

    private void WaitSpan(DurableStep step, WaitStarted wait)
    {
        using var span = StartSpan($"durable.{(wait.IsApproval ? AgUiEvents.ApprovalRequested : AgUiEvents.SignalAwaited)} {step.Path}", span =>
        {
            span.SetTag(TelemetryNames.Durable.StepPath, step.Path);
            span.SetTag(TelemetryNames.Durable.Signals, string.Join(",", wait.Signals));
            if (_settings.Capture.Apply(wait.Prompt) is { } prompt) span.SetTag(TelemetryNames.Durable.WaitPrompt, prompt);
        });
    }

    private void Signalled(DurableStep step, SignalReceived signal)
    {
        using var span = StartSpan($"durable.{AgUiEvents.SignalReceivedName} {step.Path}", span =>
        {
            span.SetTag(TelemetryNames.Durable.StepPath, step.Path);
            span.SetTag(TelemetryNames.Durable.Signal, signal.Name);
            span.SetTag(TelemetryNames.Durable.SignalId, signal.SignalId);
            if (_settings.Capture.Apply(signal.PayloadJson) is { } payload)
            {
                span.SetTag(TelemetryNames.Durable.SignalPayload,
                    payload.Length > TelemetryNames.Durable.SignalPayloadMaxChars ? payload[..TelemetryNames.Durable.SignalPayloadMaxChars] : payload);
            }
        });
    }

    // ---- answers -----------------------------------------------------------------------------------------------------

    private IReadOnlyList<string> Awaited() =>
        _end is null && _waiting is { } wait && wait.Index == _completed && !_timedOut ? wait.Signals : [];

    private string StatusOf() => _end switch
    {
        RunSucceeded => "succeeded",
        RunFailed => "failed",
        _ => Awaited().Count > 0 ? "waiting" : "running",
    };

    private object View()
    {
        if (_start is null) return NotFound();
        var failed = _end as RunFailed;
        var trace = TraceParent.ParseW3C(_start.TraceParent);
        return new View(_runId, _start.Workflow, StatusOf(), (_end as RunSucceeded)?.Output, failed?.PrimitivePath, failed?.ErrorType,
            failed?.Message, trace.IsEmpty ? null : trace.TraceId.ToHexString(), _start.Persona, _start.ChatMode, _start.At, _end?.At, _completed,
            Awaited(), _events.Count == 0 ? 0 : _events[^1].Id);
    }

    private Refused NotFound()
    {
        // Nothing was journaled under this id: leave memory (and the remembered entities) at once.
        Self.Tell(PassivateNowMessage.Instance);
        return new Refused(_runId, DurableRefusalCodes.NotFound, $"No durable run '{_runId}' has been started.");
    }

    private void Answer(object reply) => Sender.Tell(reply);

    private void SchedulePassivation() => Timers.StartSingleTimer(PassivateTimer, PassivateNowMessage.Instance, _settings.KeepFinished);

    private void PassivateNow()
    {
        if (_settings.PassivateMessage is { } passivate) Context.Parent.Tell(passivate);
        else Context.Stop(Self);
    }

    /// <summary>A start that was not journaled is refused with <see cref="DurableRefusalCodes.JournalUnavailable"/>; any other write failure is logged and stops the run until it is woken again.</summary>
    protected override void OnPersistFailure(Exception cause, object @event, long sequenceNr)
    {
        if (_starter is not null)
        {
            _starter.Tell(new Refused(_runId, DurableRefusalCodes.JournalUnavailable,
                $"Durable run {_runId} was not started: the journal did not store its start ({cause.Message}). Nothing ran; check that the " +
                "database is reachable and start it again."));
            _starter = null;
        }
        else
        {
            _log.Error(cause, "Durable run {0}: the journal did not store {1}; the run stops here and resumes from its journal when it is woken again.",
                _runId, (@event as Tagged?)?.Payload.GetType().Name ?? @event.GetType().Name);
        }
        base.OnPersistFailure(cause, @event, sequenceNr);
    }

    /// <summary>Logs the failure; the run stays stopped until it is woken again.</summary>
    protected override void OnRecoveryFailure(Exception reason, object? message = null)
    {
        _log.Error(reason, "Durable run {0} could not be recovered from the journal ({1}); it stays stopped until it is woken again.", _runId, reason.Message);
        base.OnRecoveryFailure(reason, message);
    }

    private sealed record StepDone(long Execution, DurableStep Step, string Path, WorkflowContext Dispatched, WorkflowRunResult? Result,
        Exception? Error, Activity? Span, long StartedAt);

    private sealed record WaitExpired(int Index);

    private sealed record TextStarted(long Execution, string MessageId, string StepPath);

    private sealed record TextDelta(long Execution, string MessageId, string Text);

    private sealed record TextEnded(long Execution, string MessageId);

    private sealed class TextFlush
    {
        public static readonly TextFlush Instance = new();
    }

    /// <summary>A step execution's streamed text, told to the entity from the thread that reads the provider's stream.</summary>
    private sealed class TextSink(IActorRef entity, long execution) : Llm.ILlmTextSink
    {
        public void Started(string messageId, string stepPath) => entity.Tell(new TextStarted(execution, messageId, stepPath));

        public void Delta(string messageId, string text) => entity.Tell(new TextDelta(execution, messageId, text));

        public void Ended(string messageId) => entity.Tell(new TextEnded(execution, messageId));
    }

    private sealed class PollTick
    {
        public static readonly PollTick Instance = new();
    }

    private sealed class CatalogCheck
    {
        public static readonly CatalogCheck Instance = new();
    }

    private sealed class PassivateNowMessage
    {
        public static readonly PassivateNowMessage Instance = new();
    }
}
