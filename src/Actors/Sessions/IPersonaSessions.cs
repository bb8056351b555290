using TtaActors.Actors.Context;
using TtaActors.Actors.Execution;

namespace TtaActors.Actors.Sessions;

/// <summary>One persona switch in a session's history.</summary>
public sealed record PersonaSwitch(string From, string To, string? ChatMode, DateTimeOffset At);

/// <summary>What a session looks like from outside: current persona, its history, and what its runs used.</summary>
public sealed record SessionView(
    string Id,
    string? Persona,
    string? ChatMode,
    IReadOnlyList<PersonaSwitch> Switches,
    int RunsStarted,
    int RunsFinished,
    long Tokens,
    decimal CostUsd);

/// <summary>How a run in a session ended, reported back to the session so it can keep its totals.</summary>
public sealed record SessionRunOutcome(RunId RunId, bool Succeeded, long InputTokens, long OutputTokens, decimal? CostUsd);

/// <summary>
/// The persona sessions of a node, wherever their entities live (sharded across a cluster in the runtime).
/// Runs started in a session carry its persona, chat mode and session id in their context.
/// </summary>
public interface IPersonaSessions
{
    /// <summary>The session's current view; a session never used before answers an empty one.</summary>
    Task<SessionView> GetAsync(string sessionId, CancellationToken cancellation = default);

    /// <summary>Switches the session to <paramref name="persona"/> in <paramref name="chatMode"/> and answers the new view.</summary>
    /// <exception cref="PersonaSessionRefusedException">A name is malformed (<see cref="RefusalCodes.InvalidName"/>) or the journal failed.</exception>
    Task<SessionView> SwitchPersonaAsync(string sessionId, string persona, string? chatMode, CancellationToken cancellation = default);

    /// <summary>
    /// Records the start of a run of <paramref name="workflow"/> in the session and returns the context the run must
    /// use (persona, chat mode and session id stamped in); refused with an exception when a budget forbids it.
    /// </summary>
    Task<WorkflowContext> BeginRunAsync(string sessionId, string workflow, RunId runId, WorkflowContext context,
        CancellationToken cancellation = default);

    /// <summary>Adds what a run used to the totals of the persona it began with.</summary>
    /// <exception cref="PersonaSessionRefusedException">The run is not open in the session (<see cref="RefusalCodes.UnknownRun"/>) or the journal failed.</exception>
    Task CompleteRunAsync(string sessionId, SessionRunOutcome outcome, CancellationToken cancellation = default);
}
