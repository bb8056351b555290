using TtaActors.Actors.Execution;

namespace TtaActors.Actors.Sessions;

/// <summary>What can be asked of a persona session entity. Every command names its session, which is its sharding key.</summary>
public static class PersonaSessionCommands
{
    public interface ICommand : IPersonaSessionMessage
    {
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
    public interface IEvent : IPersonaSessionMessage;

    public sealed record PersonaSwitched(string From, string To, string? ChatMode, DateTimeOffset At) : IEvent;

    public sealed record RunStarted(RunId RunId, string Workflow, string Persona, string? ChatMode, DateTimeOffset At) : IEvent;

    public sealed record RunFinished(RunId RunId, bool Succeeded, long InputTokens, long OutputTokens, decimal CostUsd, DateTimeOffset At)
        : IEvent;

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
    public const string InvalidName = "invalid-name";
    public const string BudgetExceeded = "budget-exceeded";
    public const string UnknownCommand = "unknown-command";
    public const string UnknownRun = "unknown-run";
    public const string JournalUnavailable = "journal-unavailable";
}

/// <summary>A session refused a command; the message says what and what to do.</summary>
public sealed class PersonaSessionRefusedException(string sessionId, string code, string message) : Exception(message)
{
    public string SessionId { get; } = sessionId;
    public string Code { get; } = code;
}
