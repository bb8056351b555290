using Akka.Actor;
using Akka.Configuration;
using Npgsql;
using TtaActors.Actors.Sessions;
using TtaActors.Runtime.Cluster;
using Xunit;
using Xunit.Abstractions;
using static TtaActors.Actors.Sessions.PersonaSessionCommands;
using static TtaActors.Actors.Sessions.PersonaSessionReplies;

namespace TtaActors.Tests.Sessions;

/// <summary>
/// A PostgreSQL journal that goes away under a live session, then comes back. Messages are not serialised here:
/// Akka.Persistence's own local write-failure messages carry the database exception and are not wire messages.
/// </summary>
public sealed class JournalOutageSpecs(PostgresServer postgres, ITestOutputHelper output)
    : Akka.TestKit.Xunit2.TestKit(
        ConfigurationFactory.ParseString("akka.actor.serialize-messages = off")
            .WithFallback(SessionTestConfig.ForJournal(JournalProvider.Postgres, postgres.ConnectionString())), output: output),
        IClassFixture<PostgresServer>
{
    [SkippableFact]
    public async Task A_journal_outage_should_refuse_changes_clearly_and_lose_no_acknowledged_event()
    {
        Skip.If(postgres.Unavailable is not null, postgres.Unavailable);
        var id = $"outage-{Guid.NewGuid():N}";
        var session = Sys.ActorOf(PersonaSessionActor.Props(id));
        session.Tell(new SwitchPersona(id, "backend-engineer", "feature-implementation"));
        ExpectMsg<PersonaSessionState>();
        session.Tell(new SetTokenBudget(id, "backend-engineer", 1000));
        ExpectMsg<PersonaSessionState>();

        await postgres.StopAsync();
        try
        {
            Watch(session);
            session.Tell(new SwitchPersona(id, "frontend-dev", "review"));
            var refused = ExpectMsg<Refused>(TimeSpan.FromSeconds(60));
            Assert.Equal(RefusalCodes.JournalUnavailable, refused.Code);
            Assert.Contains("nothing changed", refused.Message);
            Assert.Contains("Check that the database is reachable", refused.Message);
            // The entity stops rather than keep a state the journal may not have; its next message recreates it.
            ExpectTerminated(session);
        }
        finally
        {
            await postgres.StartAsync();
        }
        NpgsqlConnection.ClearAllPools();

        var recovered = await RecoverAsync(id);
        Assert.Equal(("backend-engineer", "feature-implementation"), (recovered.Persona, recovered.ChatMode));
        Assert.Single(recovered.Switches);
        Assert.Equal(1000, recovered.TokenBudgets["backend-engineer"]);
    }

    /// <summary>Starts the session until it recovers: the first attempt after a restart may meet a connection the restart broke.</summary>
    private async Task<PersonaSessionState> RecoverAsync(string id)
    {
        for (var attempt = 1; ; attempt++)
        {
            var session = Sys.ActorOf(PersonaSessionActor.Props(id));
            Watch(session);
            session.Tell(new GetSession(id));
            var answer = await ExpectMsgAsync<object>(TimeSpan.FromSeconds(60));
            if (answer is PersonaSessionState state) return state;
            Assert.IsType<Terminated>(answer);
            Assert.True(attempt < 3, $"session {id} did not recover after the journal came back ({attempt} attempts)");
        }
    }
}
