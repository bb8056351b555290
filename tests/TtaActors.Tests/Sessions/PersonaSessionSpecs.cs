using System.Diagnostics.Metrics;
using Akka.Actor;
using Akka.Configuration;
using Akka.Serialization;
using Microsoft.Data.Sqlite;
using Npgsql;
using TtaActors.Actors.Execution;
using TtaActors.Actors.Sessions;
using TtaActors.Runtime.Cluster;
using TtaActors.Telemetry;
using Xunit;
using Xunit.Abstractions;
using static TtaActors.Actors.Sessions.PersonaSessionCommands;
using static TtaActors.Actors.Sessions.PersonaSessionReplies;

namespace TtaActors.Tests.Sessions;

/// <summary>
/// The session entity against a real journal and snapshot store, with every message serialised: the same specs run on
/// SQLite and on PostgreSQL.
/// </summary>
public abstract class PersonaSessionSpecs(Config config, ITestOutputHelper output) : Akka.TestKit.Xunit2.TestKit(config, output: output)
{
    /// <summary>Null when the journal's database is there, else the reason the spec is skipped.</summary>
    protected abstract string? Unavailable { get; }

    protected abstract Task<long> CountSnapshotsAsync(string persistenceId);

    protected static string NewSessionId() => $"s-{Guid.NewGuid():N}";

    protected IActorRef Session(string id, int snapshotEvery = 100) =>
        Sys.ActorOf(PersonaSessionActor.Props(id, new PersonaSessionSettings { SnapshotEvery = snapshotEvery }));

    [SkippableFact]
    public void Switching_persona_should_change_the_current_persona_and_append_to_the_history()
    {
        Skip.If(Unavailable is not null, Unavailable);
        var id = NewSessionId();
        var session = Session(id);

        session.Tell(new SwitchPersona(id, "backend-engineer", "feature-implementation"));
        ExpectMsg<PersonaSessionState>();
        session.Tell(new SwitchPersona(id, "frontend-dev", "review"));
        var state = ExpectMsg<PersonaSessionState>();

        Assert.Equal("frontend-dev", state.Persona);
        Assert.Equal("review", state.ChatMode);
        Assert.Collection(state.Switches,
            first => Assert.Equal(("none", "backend-engineer", "feature-implementation"), (first.From, first.To, first.ChatMode)),
            second => Assert.Equal(("backend-engineer", "frontend-dev", "review"), (second.From, second.To, second.ChatMode)));
        Assert.True(state.Switches[0].At <= state.Switches[1].At);
    }

    [SkippableFact]
    public void A_switch_should_be_counted_in_persona_switches_total_with_its_labels()
    {
        Skip.If(Unavailable is not null, Unavailable);
        var to = $"probe-{Guid.NewGuid():N}";
        var counted = new List<(long Value, Dictionary<string, object?> Tags)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == TelemetryNames.SourceName && instrument.Name == TelemetryNames.Sessions.PersonaSwitches) l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            var labels = new Dictionary<string, object?>();
            foreach (var tag in tags) labels[tag.Key] = tag.Value;
            if (Equals(labels.GetValueOrDefault(TelemetryNames.Labels.ToPersona), to)) lock (counted) counted.Add((value, labels));
        });
        listener.Start();
        var id = NewSessionId();
        var session = Session(id);

        session.Tell(new SwitchPersona(id, to, "review"));
        ExpectMsg<PersonaSessionState>();
        session.Tell(new SwitchPersona(id, to, "review"));
        ExpectMsg<PersonaSessionState>();

        lock (counted)
        {
            var (value, labels) = Assert.Single(counted);
            Assert.Equal(1, value);
            Assert.Equal("none", labels[TelemetryNames.Labels.FromPersona]);
            Assert.Equal("review", labels[TelemetryNames.Labels.ChatMode]);
        }
    }

    [SkippableFact]
    public void A_malformed_persona_name_should_be_refused_and_change_nothing()
    {
        Skip.If(Unavailable is not null, Unavailable);
        var id = NewSessionId();
        var session = Session(id);

        session.Tell(new SwitchPersona(id, "Backend Engineer!", null));
        var refused = ExpectMsg<Refused>();
        Assert.Equal(RefusalCodes.InvalidName, refused.Code);
        Assert.Contains("'Backend Engineer!' is malformed", refused.Message);

        session.Tell(new SwitchPersona(id, "backend-engineer", "bad mode"));
        Assert.Contains("chat mode name 'bad mode'", ExpectMsg<Refused>().Message);

        session.Tell(new GetSession(id));
        var state = ExpectMsg<PersonaSessionState>();
        Assert.Null(state.Persona);
        Assert.Empty(state.Switches);
    }

    [SkippableFact]
    public void A_run_should_be_refused_once_the_persona_has_used_its_token_budget()
    {
        Skip.If(Unavailable is not null, Unavailable);
        var id = NewSessionId();
        var session = Session(id);
        session.Tell(new SwitchPersona(id, "backend-engineer", "feature-implementation"));
        ExpectMsg<PersonaSessionState>();
        session.Tell(new SetTokenBudget(id, "backend-engineer", 100));
        ExpectMsg<PersonaSessionState>();

        var first = RunId.New();
        session.Tell(new BeginRun(id, "demo", first));
        var admitted = ExpectMsg<RunAdmitted>();
        Assert.Equal(("backend-engineer", "feature-implementation"), (admitted.Persona, admitted.ChatMode));
        session.Tell(new CompleteRun(id, first, true, 80, 30, 0.002m));
        Assert.Equal(110, ExpectMsg<PersonaSessionState>().UsageOf("backend-engineer").Tokens);

        session.Tell(new BeginRun(id, "demo", RunId.New()));
        var refused = ExpectMsg<Refused>();
        Assert.Equal(RefusalCodes.BudgetExceeded, refused.Code);
        Assert.Contains("has used 110 of its 100-token budget", refused.Message);

        session.Tell(new SwitchPersona(id, "frontend-dev", "review"));
        ExpectMsg<PersonaSessionState>();
        session.Tell(new BeginRun(id, "demo", RunId.New()));
        Assert.Equal("frontend-dev", ExpectMsg<RunAdmitted>().Persona);
    }

    [SkippableFact]
    public void A_run_should_count_for_the_persona_it_started_with_even_after_a_switch()
    {
        Skip.If(Unavailable is not null, Unavailable);
        var id = NewSessionId();
        var session = Session(id);
        session.Tell(new SwitchPersona(id, "backend-engineer", null));
        ExpectMsg<PersonaSessionState>();
        var run = RunId.New();
        session.Tell(new BeginRun(id, "demo", run));
        ExpectMsg<RunAdmitted>();
        session.Tell(new SwitchPersona(id, "frontend-dev", "review"));
        ExpectMsg<PersonaSessionState>();

        session.Tell(new CompleteRun(id, run, false, 10, 5, 0.5m));
        var state = ExpectMsg<PersonaSessionState>();

        Assert.Equal(new PersonaUsage(1, 10, 5, 0.5m), state.UsageOf("backend-engineer"));
        Assert.Equal(PersonaUsage.None, state.UsageOf("frontend-dev"));
        Assert.Equal((1, 1, 1), (state.RunsStarted, state.RunsFinished, state.RunsFailed));
        Assert.Empty(state.OpenRuns);

        session.Tell(new CompleteRun(id, run, true, 1, 1, 0m));
        Assert.Equal(RefusalCodes.UnknownRun, ExpectMsg<Refused>().Code);
    }

    [SkippableFact]
    public async Task Recovery_from_snapshot_and_events_should_rebuild_an_identical_state()
    {
        Skip.If(Unavailable is not null, Unavailable);
        var id = NewSessionId();
        var session = Session(id, snapshotEvery: 3);
        string[] personas = ["backend-engineer", "frontend-dev", "reviewer", "backend-engineer"];
        foreach (var persona in personas)
        {
            session.Tell(new SwitchPersona(id, persona, "review"));
            ExpectMsg<PersonaSessionState>();
            var run = RunId.New();
            session.Tell(new BeginRun(id, "demo", run));
            ExpectMsg<RunAdmitted>();
            session.Tell(new CompleteRun(id, run, true, 7, 3, 0.01m));
            ExpectMsg<PersonaSessionState>();
        }
        session.Tell(new BeginRun(id, "still-running", RunId.New()));
        ExpectMsg<RunAdmitted>();
        session.Tell(new GetSession(id));
        var before = ExpectMsg<PersonaSessionState>();

        // The snapshot store saves asynchronously: wait for the last snapshot (event 12 of 13) rather than reading
        // the table right away.
        var snapshot = await AwaitSnapshotAsync(id, expectedSequenceNr: 12);
        Assert.True(await CountSnapshotsAsync(PersonaSessionActor.PersistenceIdPrefix + id) > 0, "no snapshot is in the snapshot table");
        Assert.Equal(12, snapshot.Switches.Count + snapshot.RunsStarted + snapshot.RunsFinished);
        Watch(session);
        session.Tell(PoisonPill.Instance);
        ExpectTerminated(session);

        var recovered = Session(id, snapshotEvery: 3);
        recovered.Tell(new GetSession(id));
        var after = ExpectMsg<PersonaSessionState>();

        var serializer = Sys.Serialization.FindSerializerFor(before);
        Assert.Equal(serializer.ToBinary(before), serializer.ToBinary(after));
        Assert.Equal(13, before.Switches.Count + before.RunsStarted + before.RunsFinished);
    }

    [SkippableTheory]
    [InlineData(3, 4)]
    [InlineData(3, 7)]
    [InlineData(5, 5)]
    public async Task A_snapshot_should_be_saved_at_exactly_every_nth_event_with_the_state_after_that_event(int every, int events)
    {
        Skip.If(Unavailable is not null, Unavailable);
        var id = NewSessionId();
        var session = Session(id, snapshotEvery: every);
        string[] personas = ["p-a", "p-b"];
        for (var i = 0; i < events; i++)
        {
            session.Tell(new SwitchPersona(id, personas[i % 2], $"mode-{i}"));
            ExpectMsg<PersonaSessionState>();
        }

        var expected = events / every * every;
        var snapshot = await AwaitSnapshotAsync(id, expected);

        Assert.Equal(expected, snapshot.Switches.Count);
        Assert.Equal($"mode-{expected - 1}", snapshot.ChatMode);
        Assert.Equal(personas[(expected - 1) % 2], snapshot.Persona);
    }

    /// <summary>The latest snapshot of the session in the snapshot store, with its sequence number, or null.</summary>
    private async Task<(long SequenceNr, PersonaSessionState State)?> LatestSnapshotAsync(string sessionId)
    {
        var store = Akka.Persistence.Persistence.Instance.Apply(Sys).SnapshotStoreFor(null);
        var result = await store.Ask<Akka.Persistence.LoadSnapshotResult>(new Akka.Persistence.LoadSnapshot(
            PersonaSessionActor.PersistenceIdPrefix + sessionId, Akka.Persistence.SnapshotSelectionCriteria.Latest, long.MaxValue),
            TimeSpan.FromSeconds(10));
        return result.Snapshot is { } offer ? (offer.Metadata.SequenceNr, (PersonaSessionState)offer.Snapshot) : null;
    }

    /// <summary>
    /// Waits until the store's latest snapshot of the session is the one at <paramref name="expectedSequenceNr"/>
    /// (saving is asynchronous, so it is polled), and returns its state.
    /// </summary>
    private async Task<PersonaSessionState> AwaitSnapshotAsync(string sessionId, long expectedSequenceNr)
    {
        PersonaSessionState? state = null;
        await AwaitAssertAsync(async () =>
        {
            var latest = await LatestSnapshotAsync(sessionId);
            Assert.True(latest is not null, $"no snapshot of the session yet (expected one at event {expectedSequenceNr})");
            Assert.Equal(expectedSequenceNr, latest.Value.SequenceNr);
            state = latest.Value.State;
        }, TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(50));
        return state!;
    }

    [SkippableFact]
    public void An_unknown_command_should_be_refused_and_leave_the_session_serving()
    {
        Skip.If(Unavailable is not null, Unavailable);
        var id = NewSessionId();
        var session = Session(id);
        Watch(session);

        session.Tell(new ActorIdentity("not-a-session-command", null));
        var refused = ExpectMsg<Refused>();
        Assert.Equal(RefusalCodes.UnknownCommand, refused.Code);
        Assert.Contains("does not understand a ActorIdentity message", refused.Message);

        session.Tell(new GetSession(id));
        Assert.Equal(id, ExpectMsg<PersonaSessionState>().SessionId);
    }
}

/// <summary>A SQLite journal file shared by the specs of one class (each spec uses its own sessions).</summary>
public sealed class SqliteJournalFile : IDisposable
{
    public string File { get; } = SessionTestConfig.TempSqliteFile();

    public string ConnectionString => $"Data Source={File}";

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        foreach (var suffix in new[] { "", "-wal", "-shm" }) System.IO.File.Delete(File + suffix);
    }
}

public sealed class SqlitePersonaSessionSpecs(SqliteJournalFile journal, ITestOutputHelper output)
    : PersonaSessionSpecs(SessionTestConfig.ForJournal(JournalProvider.Sqlite, journal.ConnectionString), output),
        IClassFixture<SqliteJournalFile>
{
    protected override string? Unavailable => null;

    [Fact]
    public async Task A_session_should_recover_while_another_connection_holds_the_write_lock()
    {
        var id = NewSessionId();
        var session = Session(id);
        session.Tell(new SwitchPersona(id, "frontend-dev", "review"));
        ExpectMsg<PersonaSessionState>();
        Watch(session);
        session.Tell(PoisonPill.Instance);
        ExpectTerminated(session);

        // A writer in the middle of a transaction. Journal and snapshot reads must not need its lock: with the plugin's
        // default read isolation every read began with BEGIN IMMEDIATE and waited for it (up to the 30 s command timeout).
        await using var writer = new SqliteConnection(journal.ConnectionString);
        await writer.OpenAsync();
        await using var lockHolder = writer.CreateCommand();
        lockHolder.CommandText = "BEGIN IMMEDIATE;";
        await lockHolder.ExecuteNonQueryAsync();
        try
        {
            var recovered = Session(id);
            recovered.Tell(new GetSession(id));
            Assert.Equal("frontend-dev", ExpectMsg<PersonaSessionState>(TimeSpan.FromSeconds(10)).PersonaKey);
        }
        finally
        {
            lockHolder.CommandText = "ROLLBACK;";
            await lockHolder.ExecuteNonQueryAsync();
        }
    }

    protected override async Task<long> CountSnapshotsAsync(string persistenceId)
    {
        await using var connection = new SqliteConnection(journal.ConnectionString);
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM snapshot WHERE persistence_id = $id";
        command.Parameters.AddWithValue("$id", persistenceId);
        return (long)(await command.ExecuteScalarAsync())!;
    }
}

public sealed class PostgresPersonaSessionSpecs(PostgresServer postgres, ITestOutputHelper output)
    : PersonaSessionSpecs(SessionTestConfig.ForJournal(JournalProvider.Postgres, postgres.ConnectionString()), output),
        IClassFixture<PostgresServer>
{
    protected override string? Unavailable => postgres.Unavailable;

    protected override async Task<long> CountSnapshotsAsync(string persistenceId)
    {
        await using var connection = new NpgsqlConnection(postgres.ConnectionString());
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT COUNT(*) FROM snapshot WHERE persistence_id = @id", connection);
        command.Parameters.AddWithValue("id", persistenceId);
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
