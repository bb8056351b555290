namespace TtaActors.Actors.Durable;

/// <summary>Every message of durable runs that crosses a node or is journaled (bound to <see cref="DurableRunSerializer"/>).</summary>
public interface IDurableRunMessage;

/// <summary>A value as JSON with the name of its type, so a resumed run hands the next step what the previous one returned.</summary>
public sealed record TypedJson(string Type, string Json);

/// <summary>What clients ask of a durable run; the run id is the entity id.</summary>
public static class DurableRunCommands
{
    /// <summary>A command addressed to one run (the entity id).</summary>
    public interface ICommand : IDurableRunMessage
    {
        /// <summary>The run the command is for.</summary>
        string RunId { get; }
    }

    /// <summary>
    /// Starts the run; answered with the run's view once its start is journaled, or refused. With <paramref name="AnswerBy"/>,
    /// the start counts only if it is journaled by then: one that reaches the run later is refused with
    /// <see cref="DurableRefusalCodes.StartExpired"/> and journals nothing, and one journaled later fails the run before any
    /// step executes, so a caller that gave up waiting (and told its client the run did not start) never has it run.
    /// </summary>
    /// <param name="RunId">The run.</param>
    /// <param name="Workflow">The durable workflow's name.</param>
    /// <param name="Input">The run's input.</param>
    /// <param name="ContextJson">The run's starting context as JSON.</param>
    /// <param name="TraceParent">The W3C trace parent of the run's root span.</param>
    /// <param name="TraceState">The W3C trace state.</param>
    /// <param name="Persona">The run's persona.</param>
    /// <param name="ChatMode">The run's chat mode.</param>
    /// <param name="AnswerBy">The instant by which the start must be journaled; no deadline when null.</param>
    public sealed record Start(string RunId, string Workflow, TypedJson? Input, string ContextJson, string? TraceParent, string? TraceState,
        string? Persona, string? ChatMode, DateTimeOffset? AnswerBy = null) : ICommand;

    /// <summary>Asks for the run's view; answered with <see cref="DurableRunReplies.View"/>, or refused with <see cref="DurableRefusalCodes.NotFound"/>.</summary>
    /// <param name="RunId">The run.</param>
    public sealed record Get(string RunId) : ICommand;

    /// <summary>A signal for a waiting run; <paramref name="SignalId"/> makes it idempotent.</summary>
    public sealed record Signal(string RunId, string Name, string SignalId, string? PayloadJson) : ICommand;

    /// <summary>Events after sequence number <paramref name="After"/>; with <paramref name="WaitMs"/>, held that long when there are none yet.</summary>
    public sealed record GetEvents(string RunId, long After, int Max, int WaitMs) : ICommand;

    /// <summary>Brings an unfinished run back into memory (recovery at start-up and after a node was lost); not answered.</summary>
    public sealed record Wake(string RunId) : ICommand;
}

/// <summary>What a durable run journals. The sequence number of each is its event id in <c>GET /runs/{id}/events</c>.</summary>
public static class DurableRunEvents
{
    /// <summary>An event of a run's journal.</summary>
    public interface IEvent : IDurableRunMessage
    {
        /// <summary>When the event happened.</summary>
        DateTimeOffset At { get; }
    }

    /// <summary>The run began: everything needed to resume it from its journal alone.</summary>
    /// <param name="RunId">The run.</param>
    /// <param name="Workflow">The durable workflow's name.</param>
    /// <param name="DefinitionHash">Hash of the workflow's definition; a resume refuses a changed definition.</param>
    /// <param name="Input">The run's input.</param>
    /// <param name="ContextJson">The run's starting context as JSON.</param>
    /// <param name="TraceParent">The W3C trace parent the run's spans continue.</param>
    /// <param name="TraceState">The W3C trace state.</param>
    /// <param name="Persona">The run's persona.</param>
    /// <param name="ChatMode">The run's chat mode.</param>
    /// <param name="At">When it happened.</param>
    public sealed record RunStarted(string RunId, string Workflow, string DefinitionHash, TypedJson? Input, string ContextJson, string? TraceParent,
        string? TraceState, string? Persona, string? ChatMode, DateTimeOffset At) : IEvent;

    /// <summary>A step is about to be executed; journaled again (same key) when a resume executes it again.</summary>
    public sealed record StepStarted(int Index, string Path, string IdempotencyKey, int Attempt, DateTimeOffset At) : IEvent;

    /// <summary>A step finished; a resume starts after the last completed step with its output.</summary>
    /// <param name="Index">The step's position in the workflow (from 0).</param>
    /// <param name="Path">The step's primitive path.</param>
    /// <param name="Output">The step's output.</param>
    /// <param name="ContextJson">The context the step ended with, as JSON.</param>
    /// <param name="DurationMs">How long the step took, in milliseconds.</param>
    /// <param name="At">When it happened.</param>
    public sealed record StepCompleted(int Index, string Path, TypedJson? Output, string ContextJson, double DurationMs, DateTimeOffset At) : IEvent;

    /// <summary>The run began to wait for a signal or an approval; it holds no memory while it waits.</summary>
    /// <param name="Index">The wait step's position.</param>
    /// <param name="Path">The wait step's primitive path.</param>
    /// <param name="Signals">The signal names that end the wait.</param>
    /// <param name="IsApproval">Whether the wait is a human approval (its event is <c>approval_requested</c>).</param>
    /// <param name="Prompt">What the waiting run shows a person.</param>
    /// <param name="PayloadJson">Data shown with the prompt, as JSON.</param>
    /// <param name="TimeoutAt">When the wait times out; null for never.</param>
    /// <param name="At">When it happened.</param>
    public sealed record WaitStarted(int Index, string Path, IReadOnlyList<string> Signals, bool IsApproval, string? Prompt, string? PayloadJson,
        DateTimeOffset? TimeoutAt, DateTimeOffset At) : IEvent;

    /// <summary>A signal ended the wait; its payload is the wait step's output.</summary>
    /// <param name="Index">The wait step's position.</param>
    /// <param name="Name">The signal's name.</param>
    /// <param name="SignalId">The sender's id of the signal, which makes a repeat a duplicate.</param>
    /// <param name="PayloadJson">The signal's payload as JSON.</param>
    /// <param name="At">When it happened.</param>
    public sealed record SignalReceived(int Index, string Name, string SignalId, string? PayloadJson, DateTimeOffset At) : IEvent;

    /// <summary>A wait passed its timeout without a signal.</summary>
    /// <param name="Index">The wait step's position.</param>
    /// <param name="TakesBranch">Whether the run goes on with the wait's timeout branch (else the run fails).</param>
    /// <param name="At">When it happened.</param>
    public sealed record WaitTimedOut(int Index, bool TakesBranch, DateTimeOffset At) : IEvent;

    /// <summary>A streaming LLM step began a message (TEXT_MESSAGE_START).</summary>
    public sealed record TextMessageStarted(string MessageId, string Path, DateTimeOffset At) : IEvent;

    /// <summary>
    /// Text of a streaming LLM step's message, coalesced from its deltas into chunks of about
    /// <see cref="DurableRunSettings.TextChunkChars"/> characters (TEXT_MESSAGE_CONTENT), so the journal is not written per token.
    /// </summary>
    public sealed record TextMessageContent(string MessageId, string Delta, DateTimeOffset At) : IEvent;

    /// <summary>The message is complete (TEXT_MESSAGE_END).</summary>
    public sealed record TextMessageEnded(string MessageId, DateTimeOffset At) : IEvent;

    /// <summary>The run succeeded.</summary>
    /// <param name="Output">The run's output.</param>
    /// <param name="At">When it happened.</param>
    public sealed record RunSucceeded(TypedJson? Output, DateTimeOffset At) : IEvent;

    /// <summary>The run failed.</summary>
    /// <param name="PrimitivePath">The primitive that failed.</param>
    /// <param name="ErrorType">The original error's type name.</param>
    /// <param name="Message">The original error's message.</param>
    /// <param name="At">When it happened.</param>
    public sealed record RunFailed(string PrimitivePath, string ErrorType, string Message, DateTimeOffset At) : IEvent;
}

/// <summary>The answers of a durable run.</summary>
public static class DurableRunReplies
{
    /// <summary>A durable run's status as the API reports it: running, waiting, succeeded or failed.</summary>
    public sealed record View(string RunId, string Workflow, string Status, TypedJson? Output, string? ErrorPath, string? ErrorType,
        string? ErrorMessage, string? TraceId, string? Persona, string? ChatMode, DateTimeOffset StartedAt, DateTimeOffset? FinishedAt,
        int StepsCompleted, IReadOnlyList<string> AwaitedSignals, long LastEventId) : IDurableRunMessage;

    /// <summary>The answer to a <see cref="DurableRunCommands.Signal"/> the run took.</summary>
    /// <param name="RunId">The run.</param>
    /// <param name="Name">The signal's name.</param>
    /// <param name="SignalId">The signal's id.</param>
    /// <param name="Duplicate">True when a signal with this id had been taken before (nothing changed).</param>
    public sealed record SignalAccepted(string RunId, string Name, string SignalId, bool Duplicate) : IDurableRunMessage;

    /// <summary>One event as AG-UI JSON, with its id (the journal sequence number).</summary>
    public sealed record Event(long Id, string Json) : IDurableRunMessage;

    /// <summary>The answer to <see cref="DurableRunCommands.GetEvents"/>.</summary>
    /// <param name="RunId">The run.</param>
    /// <param name="Items">The events, oldest first.</param>
    /// <param name="Finished">True when the run has ended, so no more events will come.</param>
    public sealed record Events(string RunId, IReadOnlyList<Event> Items, bool Finished) : IDurableRunMessage;

    /// <summary>A command the run did not carry out.</summary>
    /// <param name="RunId">The run.</param>
    /// <param name="Code">Why: one of <see cref="DurableRefusalCodes"/>.</param>
    /// <param name="Message">What happened and what to do, for the caller.</param>
    /// <param name="AwaitedSignals">With <see cref="DurableRefusalCodes.NotAwaited"/>: the signals the run does wait for.</param>
    public sealed record Refused(string RunId, string Code, string Message, IReadOnlyList<string>? AwaitedSignals = null) : IDurableRunMessage;
}

/// <summary>Why a durable run refused a command; the node API maps each to a status.</summary>
public static class DurableRefusalCodes
{
    /// <summary>No run has this id.</summary>
    public const string NotFound = "not-found";
    /// <summary>A run with this id has already started.</summary>
    public const string AlreadyStarted = "already-started";
    /// <summary>The run has ended; it takes no more signals.</summary>
    public const string Finished = "finished";
    /// <summary>The run does not wait for that signal now.</summary>
    public const string NotAwaited = "not-awaited";
    /// <summary>The node has no durable workflow of that name.</summary>
    public const string UnknownWorkflow = "unknown-workflow";
    /// <summary>The journal (the persistence store) failed; try again later.</summary>
    public const string JournalUnavailable = "journal-unavailable";
    /// <summary>The node that hosts the run is still loading its workflows; try again in a moment.</summary>
    public const string NotReady = "not-ready";
    /// <summary>The start reached the run, or was journaled, after the instant its caller had to be answered by; nothing ran.</summary>
    public const string StartExpired = "start-expired";
}

/// <summary>A durable run refused a command (see <see cref="DurableRefusalCodes"/>).</summary>
public sealed class DurableRunRefusedException(DurableRunReplies.Refused refused) : InvalidOperationException(refused.Message)
{
    /// <summary>Why the run refused: one of <see cref="DurableRefusalCodes"/>.</summary>
    public string Code => Refused.Code;
    /// <summary>The refusal as the run answered it.</summary>
    public DurableRunReplies.Refused Refused { get; } = refused;
}
