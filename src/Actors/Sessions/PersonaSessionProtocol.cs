using TtaActors.Actors.Execution;

namespace TtaActors.Actors.Sessions;

/// <summary>What can be asked of a persona session entity. Every command names its session, which is its sharding key.</summary>
public static class PersonaSessionCommands
{
    /// <summary>A command addressed to one session entity.</summary>
    public interface ICommand : IPersonaSessionMessage
    {
        /// <summary>The session the command is for (the entity id and sharding key).</summary>
        string SessionId { get; }
    }

    /// <summary>Answered with the session's <see cref="PersonaSessionState"/>.</summary>
    public sealed record GetSession(string SessionId) : ICommand;

    /// <summary>Answered with the new state, or <see cref="PersonaSessionReplies.Refused"/> for a malformed name.</summary>
    public sealed record SwitchPersona(string SessionId, string Persona, string? ChatMode) : ICommand;

    /// <summary>
    /// Answered with <see cref="PersonaSessionReplies.RunAdmitted"/> (the persona and chat mode the run must carry), or
    /// <see cref="PersonaSessionReplies.Refused"/> when the current persona's token budget is used up.
    /// </summary>
    public sealed record BeginRun(string SessionId, string Workflow, RunId RunId) : ICommand;

    /// <summary>Answered with the new state; the run's tokens and cost count for the persona it started with.</summary>
    public sealed record CompleteRun(string SessionId, RunId RunId, bool Succeeded, long InputTokens, long OutputTokens, decimal CostUsd)
        : ICommand;

    /// <summary>Sets (or with null removes) the token budget of one persona in this session; answered with the new state.</summary>
    public sealed record SetTokenBudget(string SessionId, string Persona, long? MaxTokens) : ICommand;
}

/// <summary>The events a session persists; its state is a fold over them.</summary>
public static class PersonaSessionEvents
{
    /// <summary>An event of a session's journal.</summary>
    public interface IEvent : IPersonaSessionMessage;

    /// <summary>The session's persona changed.</summary>
    /// <param name="From">The persona before (<see cref="Telemetry.TelemetryNames.NoPersona"/> when there was none).</param>
    /// <param name="To">The new persona.</param>
    /// <param name="ChatMode">The chat mode from now on.</param>
    /// <param name="At">When it happened.</param>
    public sealed record PersonaSwitched(string From, string To, string? ChatMode, DateTimeOffset At) : IEvent;

    /// <summary>A run began in the session.</summary>
    /// <param name="RunId">The run.</param>
    /// <param name="Workflow">The workflow run.</param>
    /// <param name="Persona">The persona whose totals the run counts for.</param>
    /// <param name="ChatMode">The chat mode the run carries.</param>
    /// <param name="At">When it happened.</param>
    public sealed record RunStarted(RunId RunId, string Workflow, string Persona, string? ChatMode, DateTimeOffset At) : IEvent;

    /// <summary>A run of the session ended; its use is added to the totals of the persona it started with.</summary>
    /// <param name="RunId">The run.</param>
    /// <param name="Succeeded">Whether the run succeeded.</param>
    /// <param name="InputTokens">LLM input tokens the run used.</param>
    /// <param name="OutputTokens">LLM output tokens the run used.</param>
    /// <param name="CostUsd">What the run's LLM calls cost, in USD.</param>
    /// <param name="At">When it happened.</param>
    public sealed record RunFinished(RunId RunId, bool Succeeded, long InputTokens, long OutputTokens, decimal CostUsd, DateTimeOffset At)
        : IEvent;

    /// <summary>A persona's token budget in the session was set or removed.</summary>
    /// <param name="Persona">The persona.</param>
    /// <param name="MaxTokens">The budget in tokens; null removes it.</param>
    /// <param name="At">When it happened.</param>
    public sealed record TokenBudgetSet(string Persona, long? MaxTokens, DateTimeOffset At) : IEvent;
}

/// <summary>Answers of a session other than its state.</summary>
public static class PersonaSessionReplies
{
    /// <summary>
    /// A run may start; <see cref="BudgetTokens"/> is the persona's token budget (null: none) and <see cref="UsedTokens"/>
    /// what it has used, so each LLM call of the run can be held to what is left.
    /// </summary>
    public sealed record RunAdmitted(string SessionId, RunId RunId, string? Persona, string? ChatMode, long? BudgetTokens = null,
        long UsedTokens = 0) : IPersonaSessionMessage;

    /// <summary>A command the session did not carry out; <see cref="Code"/> is one of <see cref="RefusalCodes"/>.</summary>
    public sealed record Refused(string SessionId, string Code, string Message) : IPersonaSessionMessage;
}

/// <summary>Why a session refused a command.</summary>
public static class RefusalCodes
{
    /// <summary>A persona or chat mode name is malformed (see <see cref="PersonaNames"/>).</summary>
    public const string InvalidName = "invalid-name";
    /// <summary>The current persona has used its token budget.</summary>
    public const string BudgetExceeded = "budget-exceeded";
    /// <summary>The session does not know the message.</summary>
    public const string UnknownCommand = "unknown-command";
    /// <summary>The run to complete was never begun in the session, or was completed already.</summary>
    public const string UnknownRun = "unknown-run";
    /// <summary>The journal did not store the event; nothing changed.</summary>
    public const string JournalUnavailable = "journal-unavailable";
}

/// <summary>A session refused a command; the message says what and what to do.</summary>
public sealed class PersonaSessionRefusedException(string sessionId, string code, string message) : Exception(message)
{
    /// <summary>The session that refused.</summary>
    public string SessionId { get; } = sessionId;
    /// <summary>Why: one of <see cref="RefusalCodes"/>.</summary>
    public string Code { get; } = code;
}
