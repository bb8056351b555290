namespace TtaActors.Actors.Durable;

/// <summary>Every message of durable runs that crosses a node or is journaled (bound to <see cref="DurableRunSerializer"/>).</summary>
public interface IDurableRunMessage;

/// <summary>A value as JSON with the name of its type, so a resumed run hands the next step what the previous one returned.</summary>
public sealed record TypedJson(string Type, string Json);

/// <summary>What clients ask of a durable run; the run id is the entity id.</summary>
public static class DurableRunCommands
{
    public interface ICommand : IDurableRunMessage
    {
        string RunId { get; }
    }

    /// <summary>Starts the run; answered with the run's view once its start is journaled, or refused.</summary>
    public sealed record Start(string RunId, string Workflow, TypedJson? Input, string ContextJson, string? TraceParent, string? TraceState,
        string? Persona, string? ChatMode) : ICommand;

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
    public interface IEvent : IDurableRunMessage
    {
        DateTimeOffset At { get; }
    }

    public sealed record RunStarted(string RunId, string Workflow, string DefinitionHash, TypedJson? Input, string ContextJson, string? TraceParent,
        string? TraceState, string? Persona, string? ChatMode, DateTimeOffset At) : IEvent;

    /// <summary>A step is about to be executed; journaled again (same key) when a resume executes it again.</summary>
    public sealed record StepStarted(int Index, string Path, string IdempotencyKey, int Attempt, DateTimeOffset At) : IEvent;

    public sealed record StepCompleted(int Index, string Path, TypedJson? Output, string ContextJson, double DurationMs, DateTimeOffset At) : IEvent;

    public sealed record WaitStarted(int Index, string Path, IReadOnlyList<string> Signals, bool IsApproval, string? Prompt, string? PayloadJson,
        DateTimeOffset? TimeoutAt, DateTimeOffset At) : IEvent;

    public sealed record SignalReceived(int Index, string Name, string SignalId, string? PayloadJson, DateTimeOffset At) : IEvent;

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

    public sealed record RunSucceeded(TypedJson? Output, DateTimeOffset At) : IEvent;

    public sealed record RunFailed(string PrimitivePath, string ErrorType, string Message, DateTimeOffset At) : IEvent;
}

/// <summary>The answers of a durable run.</summary>
public static class DurableRunReplies
{
    /// <summary>A durable run's status as the API reports it: running, waiting, succeeded or failed.</summary>
    public sealed record View(string RunId, string Workflow, string Status, TypedJson? Output, string? ErrorPath, string? ErrorType,
        string? ErrorMessage, string? TraceId, string? Persona, string? ChatMode, DateTimeOffset StartedAt, DateTimeOffset? FinishedAt,
        int StepsCompleted, IReadOnlyList<string> AwaitedSignals, long LastEventId) : IDurableRunMessage;

    public sealed record SignalAccepted(string RunId, string Name, string SignalId, bool Duplicate) : IDurableRunMessage;

    /// <summary>One event as AG-UI JSON, with its id (the journal sequence number).</summary>
    public sealed record Event(long Id, string Json) : IDurableRunMessage;

    public sealed record Events(string RunId, IReadOnlyList<Event> Items, bool Finished) : IDurableRunMessage;

    public sealed record Refused(string RunId, string Code, string Message, IReadOnlyList<string>? AwaitedSignals = null) : IDurableRunMessage;
}

/// <summary>Why a durable run refused a command; the node API maps each to a status.</summary>
public static class DurableRefusalCodes
{
    public const string NotFound = "not-found";
    public const string AlreadyStarted = "already-started";
    public const string Finished = "finished";
    public const string NotAwaited = "not-awaited";
    public const string UnknownWorkflow = "unknown-workflow";
    public const string JournalUnavailable = "journal-unavailable";
    public const string NotReady = "not-ready";
}

/// <summary>A durable run refused a command (see <see cref="DurableRefusalCodes"/>).</summary>
public sealed class DurableRunRefusedException(DurableRunReplies.Refused refused) : InvalidOperationException(refused.Message)
{
    public string Code => Refused.Code;
    public DurableRunReplies.Refused Refused { get; } = refused;
}
