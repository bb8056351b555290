using System.Diagnostics;
using Akka.Actor;
using Akka.Actor.Setup;
using Akka.Configuration;
using TtaActors.Actors.Sessions;
using TtaActors.Benchmarks.Harness;
using TtaActors.Runtime.Cluster;
using TtaActors.Runtime.Hosting;
using static TtaActors.Actors.Sessions.PersonaSessionCommands;

namespace TtaActors.Benchmarks.Scenarios;

/// <summary>
/// Persona session entities (<see cref="PersonaSessionActor"/>) on one node, on the runtime's journal configuration
/// (<c>hocon/persistence-sqlite.conf</c>, <c>persistence-postgres.conf</c>), for SQLite and for PostgreSQL:
/// <list type="bullet">
/// <item><c>sessions.write</c>: persona switches (one journal write each) from 64 callers over 1,000 sessions:
/// <c>steps_per_s</c> is events stored per second, with the journal batching concurrent writes;</item>
/// <item><c>sessions.live</c>: that many sessions started (each one switch, stored) and kept alive: managed heap per
/// entity after a full collection, and entities started per second;</item>
/// <item><c>sessions.recovery</c>: the actor system stopped, a new one started on the same journal, 10,000 of the
/// sessions read again: each recovers its events from the journal; sessions recovered per second.</item>
/// </list>
/// <c>sessions</c> keeps 10,000 live; <c>sessions-100k</c> keeps the 100,000 of DESIGN.md section 8. Both are opt-in.
/// </summary>
public sealed class SessionsScenario(int liveSessions) : IScenario
{
    private const int WriteSessions = 1_000;
    private const int WriteCallers = 64;
    private const int RecoveredSessions = 10_000;
    private const int InFlight = 1_000;
    private static readonly TimeSpan Ask = TimeSpan.FromSeconds(60);

    public string Name => liveSessions >= 100_000 ? "sessions-100k" : "sessions";

    public string Description =>
        $"persona session entities on SQLite and PostgreSQL: journal writes/s, {liveSessions:N0} live (heap per entity), recovery of 10,000 after a restart";

    /// <summary>Opt-in: 10,000 recoveries from SQLite take minutes on a loaded 2-core machine (README, Performance).</summary>
    public bool OptIn => true;

    public async Task RunAsync(BenchmarkSession session)
    {
        var directory = Path.Combine(Path.GetTempPath(), $"tta-bench-sessions-{Guid.NewGuid():N}");
        try
        {
            await MeasureAsync(session, "sqlite", new TtaClusterOptions { Journal = JournalProvider.Sqlite, DataDirectory = directory });
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }

        PostgresProcess postgres;
        try
        {
            postgres = await PostgresProcess.StartAsync();
        }
        catch (InvalidOperationException missing)
        {
            Console.Error.WriteLine($"  sessions on PostgreSQL skipped: {missing.Message}");
            session.Note($"sessions on PostgreSQL skipped: {missing.Message}");
            return;
        }
        await using (postgres)
        {
            var journal = await postgres.CreateDatabaseAsync($"bench_sessions_{liveSessions}");
            await MeasureAsync(session, "postgres", new TtaClusterOptions { Journal = JournalProvider.Postgres, ConnectionString = journal });
        }
    }

    private async Task MeasureAsync(BenchmarkSession session, string provider, TtaClusterOptions options)
    {
        var impl = $"{Impl.TtaActors}-{provider}";
        if (session.Options.Impls.Count > 0 && !session.Options.Impls.Contains(impl) && !session.Options.Impls.Contains(Impl.TtaActors)) return;
        // A node's journal: its HOCON and, for SQLite, its connection setup (synchronous=NORMAL, calls off the plugin actors).
        // TTA_BENCH_SESSIONS_HOCON over it measures another setting against the shipped one (e.g. max-concurrent-recoveries).
        var config = TtaClusterHostingExtensions.JournalConfig(options).WithFallback(StandardErrorLogger.Config).WithFallback(HoconFiles.Load("base.conf"));
        if (Environment.GetEnvironmentVariable("TTA_BENCH_SESSIONS_HOCON") is { Length: > 0 } extra)
            config = ConfigurationFactory.ParseString(extra).WithFallback(config);
        var actorSystemSetup = TtaClusterHostingExtensions.JournalSetup(options) is { } journalSetup
            ? ActorSystemSetup.Create(BootstrapSetup.Create().WithConfig(config), journalSetup)
            : ActorSystemSetup.Create(BootstrapSetup.Create().WithConfig(config));

        var system = ActorSystem.Create("tta-sessions", actorSystemSetup);
        var entities = new Dictionary<string, IActorRef>(liveSessions);
        try
        {
            // Journal write throughput: every call persists one PersonaSwitched event before it is answered.
            var writers = Enumerable.Range(0, WriteSessions).Select(i => Start(system, entities, $"w-{i}")).ToArray();
            // The first write creates the journal's tables: not part of any figure.
            await writers[0].Ask<object>(new SwitchPersona("w-0", "frontend-dev", null), Ask);
            await ForEachAsync(writers.Length, i => writers[i].Ask<object>(new GetSession($"w-{i}"), Ask));
            long next = 0;
            await session.MeasureAsync("sessions.write", impl, false, WriteCallers, 1, async () =>
            {
                var n = Interlocked.Increment(ref next);
                var i = (int)(n % WriteSessions);
                var persona = (n / WriteSessions) % 2 == 0 ? "backend-engineer" : "frontend-dev";
                var answer = await writers[i].Ask<object>(new SwitchPersona($"w-{i}", persona, null), Ask).ConfigureAwait(false);
                if (answer is not PersonaSessionState) throw new InvalidOperationException($"Session w-{i} answered {answer}.");
            });

            // Live sessions: started, one switch stored each, kept in memory.
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            var heapBefore = GC.GetTotalMemory(forceFullCollection: true);
            Console.Error.Write($"  {"sessions.live",-18} {impl,-16} {liveSessions:N0} ... ");
            var live = Enumerable.Range(0, liveSessions).Select(i => $"s-{i}").ToArray();
            var startCost = Cost.Start();
            var started = Stopwatch.StartNew();
            await ForEachAsync(live.Length, async i =>
            {
                var answer = await Start(system, entities, live[i]).Ask<object>(new SwitchPersona(live[i], "backend-engineer", "feature-implementation"), Ask);
                if (answer is not PersonaSessionState { Persona: "backend-engineer" }) throw new InvalidOperationException($"Session {live[i]} answered {answer}.");
            });
            var startElapsed = started.Elapsed;
            var (startAlloc, startCpu) = startCost.PerRun(liveSessions);
            var heapAfter = GC.GetTotalMemory(forceFullCollection: true);
            var perEntity = (double)(heapAfter - heapBefore) / liveSessions;
            Console.Error.WriteLine($"{perEntity:N0} B per entity, {liveSessions / startElapsed.TotalSeconds:N0} started/s");
            session.Record(new Measurement("sessions.live", impl, false, InFlight, liveSessions / startElapsed.TotalSeconds, liveSessions / startElapsed.TotalSeconds,
                double.NaN, double.NaN, startAlloc, startCpu)
            {
                Extras = [new("live_sessions", liveSessions), new("heap_bytes_per_entity", perEntity), new("heap_bytes", heapAfter)],
            });
            GC.KeepAlive(entities);
        }
        finally
        {
            await system.Terminate();
        }

        // Restart: a new actor system on the same journal; each read recovers the session from its events.
        var restarted = ActorSystem.Create("tta-sessions", actorSystemSetup);
        try
        {
            var fresh = new Dictionary<string, IActorRef>(RecoveredSessions);
            var ids = Enumerable.Range(0, Math.Min(RecoveredSessions, liveSessions)).Select(i => $"s-{i}").ToArray();
            // The journal's connection and tables are warmed by one session that is not counted.
            await Start(restarted, fresh, "w-0").Ask<object>(new GetSession("w-0"), Ask);
            Console.Error.Write($"  {"sessions.recovery",-18} {impl,-16} {ids.Length:N0} ... ");
            var recoveryCost = Cost.Start();
            var clock = Stopwatch.StartNew();
            await ForEachAsync(ids.Length, async i =>
            {
                var answer = await Start(restarted, fresh, ids[i]).Ask<object>(new GetSession(ids[i]), Ask);
                if (answer is not PersonaSessionState { Persona: "backend-engineer", Switches.Count: 1 })
                    throw new InvalidOperationException($"Session {ids[i]} recovered as {answer}, not with its one switch.");
            });
            var elapsed = clock.Elapsed;
            var (recoveryAlloc, recoveryCpu) = recoveryCost.PerRun(ids.Length);
            Console.Error.WriteLine($"{ids.Length / elapsed.TotalSeconds:N0} sessions/s");
            session.Record(new Measurement("sessions.recovery", impl, false, InFlight, ids.Length / elapsed.TotalSeconds, ids.Length / elapsed.TotalSeconds,
                double.NaN, double.NaN, recoveryAlloc, recoveryCpu)
            {
                Extras = [new("sessions_recovered", ids.Length), new("recovery_s", elapsed.TotalSeconds)],
            });
        }
        finally
        {
            await restarted.Terminate();
        }
    }

    private static IActorRef Start(ActorSystem system, Dictionary<string, IActorRef> entities, string id)
    {
        lock (entities)
        {
            if (!entities.TryGetValue(id, out var entity)) entities[id] = entity = system.ActorOf(PersonaSessionActor.Props(id), id);
            return entity;
        }
    }

    /// <summary>
    /// Allocation and processor time of the whole process from <see cref="Start"/> on, per session: the figures that stay
    /// comparable when other processes load the machine (wall-clock rates then measure the machine's share).
    /// </summary>
    private readonly record struct Cost(long AllocatedBytes, TimeSpan ProcessorTime)
    {
        public static Cost Start() => new(GC.GetTotalAllocatedBytes(precise: true), Process.GetCurrentProcess().TotalProcessorTime);

        public (double AllocatedBytes, double ProcessorMicroseconds) PerRun(int runs) =>
            ((double)(GC.GetTotalAllocatedBytes(precise: true) - AllocatedBytes) / runs,
                (Process.GetCurrentProcess().TotalProcessorTime - ProcessorTime).TotalMicroseconds / runs);
    }

    /// <summary>Runs <paramref name="action"/> for 0..count-1 with <see cref="InFlight"/> at a time.</summary>
    private static Task ForEachAsync(int count, Func<int, Task> action) =>
        Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = InFlight }, async (i, _) => await action(i));
}
