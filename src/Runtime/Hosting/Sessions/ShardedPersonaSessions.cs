using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Hosting;
using TtaActors.Actors.Context;
using TtaActors.Actors.Execution;
using TtaActors.Actors.Sessions;
using TtaActors.Telemetry;
using static TtaActors.Actors.Sessions.PersonaSessionCommands;
using static TtaActors.Actors.Sessions.PersonaSessionReplies;

namespace TtaActors.Runtime.Sessions;

/// <summary>Key of the persona session shard region in the <see cref="ActorRegistry"/>.</summary>
public sealed class PersonaSessionRegion;

/// <summary>
/// <see cref="IPersonaSessions"/> over the shard region: each call is one message to the session's entity, wherever
/// in the cluster it lives. Refusals become <see cref="PersonaSessionRefusedException"/>; a session that does not answer
/// in time becomes a <see cref="TimeoutException"/> that says what to check.
/// </summary>
public sealed class ShardedPersonaSessions(ActorRegistry registry, TimeSpan? askTimeout = null) : IPersonaSessions
{
    /// <summary>How long a call waits for the session's entity when not told otherwise.</summary>
    public static readonly TimeSpan DefaultAskTimeout = TimeSpan.FromSeconds(15);

    private readonly TimeSpan _askTimeout = askTimeout ?? DefaultAskTimeout;

    /// <inheritdoc/>
    public async Task<SessionView> GetAsync(string sessionId, CancellationToken cancellation = default) =>
        (await StateAsync(new GetSession(sessionId), cancellation).ConfigureAwait(false)).ToView();

    /// <summary>The full state of a session, with usage and budgets per persona.</summary>
    public Task<PersonaSessionState> GetStateAsync(string sessionId, CancellationToken cancellation = default) =>
        StateAsync(new GetSession(sessionId), cancellation);

    /// <inheritdoc/>
    public async Task<SessionView> SwitchPersonaAsync(string sessionId, string persona, string? chatMode, CancellationToken cancellation = default) =>
        (await StateAsync(new SwitchPersona(sessionId, persona, chatMode), cancellation).ConfigureAwait(false)).ToView();

    /// <inheritdoc/>
    public async Task<WorkflowContext> BeginRunAsync(string sessionId, string workflow, RunId runId, WorkflowContext context,
        CancellationToken cancellation = default)
    {
        var admitted = await AskAsync<RunAdmitted>(new BeginRun(sessionId, workflow, runId), cancellation).ConfigureAwait(false);
        return context with
        {
            SessionId = sessionId,
            Persona = admitted.Persona,
            ChatMode = admitted.ChatMode,
            SessionBudget = admitted.BudgetTokens is { } max
                ? new SessionTokenBudget(sessionId, admitted.Persona ?? TelemetryNames.NoPersona, max, admitted.UsedTokens)
                : null,
        };
    }

    /// <inheritdoc/>
    public Task CompleteRunAsync(string sessionId, SessionRunOutcome outcome, CancellationToken cancellation = default) =>
        StateAsync(new CompleteRun(sessionId, outcome.RunId, outcome.Succeeded, outcome.InputTokens, outcome.OutputTokens, outcome.CostUsd ?? 0m),
            cancellation);

    /// <summary>Sets (or with null removes) a persona's token budget in a session.</summary>
    public Task<PersonaSessionState> SetTokenBudgetAsync(string sessionId, string persona, long? maxTokens, CancellationToken cancellation = default) =>
        StateAsync(new SetTokenBudget(sessionId, persona, maxTokens), cancellation);

    /// <summary>The ids of the sessions whose entities are live on this node.</summary>
    public async Task<IReadOnlyList<string>> LocalSessionIdsAsync(CancellationToken cancellation = default)
    {
        var region = await RegionAsync(cancellation).ConfigureAwait(false);
        var state = await region.Ask<CurrentShardRegionState>(GetShardRegionState.Instance, _askTimeout, cancellation).ConfigureAwait(false);
        return state.Shards.SelectMany(shard => shard.EntityIds).ToList();
    }

    private Task<PersonaSessionState> StateAsync(ICommand command, CancellationToken cancellation) =>
        AskAsync<PersonaSessionState>(command, cancellation);

    private async Task<T> AskAsync<T>(ICommand command, CancellationToken cancellation)
    {
        if (PersonaNames.SessionIdProblem(command.SessionId) is { } problem)
            throw new PersonaSessionRefusedException(command.SessionId, RefusalCodes.InvalidName, problem);
        var region = await RegionAsync(cancellation).ConfigureAwait(false);
        object answer;
        try
        {
            answer = await region.Ask<object>(command, _askTimeout, cancellation).ConfigureAwait(false);
        }
        catch (AskTimeoutException error)
        {
            throw new TimeoutException(
                $"Session '{command.SessionId}' did not answer {command.GetType().Name} within {_askTimeout.TotalSeconds:0.#} s: the node hosting " +
                "it may be unreachable, its shard may be moving to another node, or the journal may be down. Retry shortly; check " +
                "the cluster members and the database if it persists.", error);
        }
        return answer switch
        {
            T expected => expected,
            Refused refused => throw new PersonaSessionRefusedException(refused.SessionId, refused.Code, refused.Message),
            _ => throw new InvalidOperationException(
                $"Session '{command.SessionId}' answered {command.GetType().Name} with {answer.GetType().Name} instead of {typeof(T).Name}."),
        };
    }

    private Task<IActorRef> RegionAsync(CancellationToken cancellation) => registry.GetAsync<PersonaSessionRegion>(cancellation);
}
