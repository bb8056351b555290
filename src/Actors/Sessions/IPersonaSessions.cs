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
    Task<SessionView> GetAsync(string sessionId, CancellationToken cancellation = default);

    Task<SessionView> SwitchPersonaAsync(string sessionId, string persona, string? chatMode, CancellationToken cancellation = default);

    /// <summary>
    /// Records the start of a run of <paramref name="workflow"/> in the session and returns the context the run must
    /// use (persona, chat mode and session id stamped in); refused with an exception when a budget forbids it.
    /// </summary>
    Task<WorkflowContext> BeginRunAsync(string sessionId, string workflow, RunId runId, WorkflowContext context,
        CancellationToken cancellation = default);

    Task CompleteRunAsync(string sessionId, SessionRunOutcome outcome, CancellationToken cancellation = default);
}
