using Akka.Actor;
using TtaActors.Actors.Durable;
using TtaActors.Actors.Execution;
using TtaActors.Actors.Primitives;
using TtaActors.Benchmarks.Harness;
using TtaActors.Runtime.Cluster;
using static TtaActors.Actors.Durable.DurableRunCommands;
using static TtaActors.Actors.Durable.DurableRunReplies;

namespace TtaActors.Benchmarks.Scenarios;

/// <summary>
/// seq10 as a durable run (durability: steps): the same ten trivial steps, each one's start and completion journaled in
/// SQLite (the embedded default) before the next runs, beside in-memory seq10 in the same process. Prints the journal
/// writes per run. The entity is the durable run actor itself, without cluster sharding (one node, no routing hop).
/// </summary>
public sealed class Seq10DurableScenario : IScenario
{
    private const int Steps = 10;

    /// <summary>One caller (the latency of a run's journal round trips) and eight (what batching of concurrent writes gives).</summary>
    private static readonly int[] CallerCounts = [1, 8];

    public string Name => "seq10-durable";

    public string Description => "10-step Sequential as a durable run (start, each step and the outcome journaled in SQLite) vs in memory";

    public async Task RunAsync(BenchmarkSession session)
    {
        // synchronous=NORMAL is what `tta node` runs with; FULL (SQLite's own default, one fsync per commit) shows what it saves.
        foreach (var synchronous in new[] { SqliteSynchronous.Normal, SqliteSynchronous.Full })
            await MeasureAsync(session, synchronous, synchronous == SqliteSynchronous.Normal ? Name : Name + "/sync-full").ConfigureAwait(false);
    }

    private async Task MeasureAsync(BenchmarkSession session, SqliteSynchronous synchronous, string scenario)
    {
        // The runtime's own journal configuration (hocon/persistence-sqlite.conf, WAL, the connection setup of a node).
        var directory = Path.Combine(Path.GetTempPath(), $"tta-bench-durable-{Guid.NewGuid():N}");
        var options = new TtaClusterOptions { Journal = JournalProvider.Sqlite, DataDirectory = directory, SqliteSynchronous = synchronous };
        var journal = TtaClusterHostingExtensions.JournalConfig(options);
        using var system = ActorSystem.Create("seq10-durable", BootstrapSetup.Create()
            .WithConfig(journal.WithFallback(session.System.Settings.Config))
            .And(TtaClusterHostingExtensions.JournalSetup(options)!));
        try
        {
            var definition = new SequentialPrimitive(
                Enumerable.Range(0, Steps).Select(i => (Primitive)Lambda.From<int, int>(value => value + 1, $"step-{i}")));
            var catalog = new Catalog(DurableWorkflowDefinition.Create(Name, definition,
                (step, name) => WorkflowGraph.Materialize(system, step, name, new WorkflowGraphOptions { ServiceName = Workloads.ServiceName })));
            var inMemory = WorkflowGraph.Materialize(system, definition, "seq10", new WorkflowGraphOptions { ServiceName = Workloads.ServiceName });
            // A finished run stays a moment for the caller's last Get (at zero it could passivate before the Get arrives).
            var settings = new DurableRunSettings { KeepFinished = TimeSpan.FromSeconds(5) };
            long events = 0, runs = 0;

            async ValueTask RunOnceAsync()
            {
                var runId = RunId.New().ToString();
                var entity = system.ActorOf(DurableRunActor.Props(runId, catalog, settings));
                var view = await entity.Ask<View>(new Start(runId, Name, DurableJson.From(0), DurableJson.Context(Workloads.NewContext()),
                    null, null, null, null), TimeSpan.FromSeconds(30)).ConfigureAwait(false);
                while (view.Status is "running")
                {
                    var read = await entity.Ask<Events>(new GetEvents(runId, view.LastEventId, 1000, 30_000), TimeSpan.FromSeconds(40))
                        .ConfigureAwait(false);
                    if (read.Finished) view = await entity.Ask<View>(new Get(runId), TimeSpan.FromSeconds(30)).ConfigureAwait(false);
                    else if (read.Items.Count > 0) view = view with { LastEventId = read.Items[^1].Id };
                }
                if (view.Status != "succeeded") throw new InvalidOperationException($"The seq10-durable run {view.Status}: {view.ErrorMessage}");
                Workloads.Expect(Impl.TtaActors, view.Output?.Json, Steps.ToString());
                Interlocked.Add(ref events, view.LastEventId);
                Interlocked.Increment(ref runs);
            }

            // The first run creates the journal's tables (auto-initialize) and takes seconds; the warm-up is too short for it.
            await RunOnceAsync().ConfigureAwait(false);
            (events, runs) = (0, 0);
            foreach (var callers in CallerCounts)
            {
                await session.MeasureAsync(scenario, Impl.TtaActors, true, callers, Steps, RunOnceAsync);
                if (synchronous == SqliteSynchronous.Normal)
                {
                    await session.MeasureAsync("seq10-durable/in-memory", Impl.TtaActors, true, callers, Steps, async () =>
                    {
                        var result = await inMemory.RunAsync(0, Workloads.NewContext()).ConfigureAwait(false);
                        Workloads.Expect(Impl.TtaActors, result.Output, (object)Steps);
                    });
                }
            }
            if (runs > 0)
            {
                session.Note($"{scenario}: {(double)events / runs:0.0} journaled events per run (start, {Steps} x step started + step completed, " +
                             $"outcome) in {Steps + 1} journal writes (a step's completion goes with the next step's start, the last one with the outcome)");
            }
        }
        finally
        {
            await system.Terminate().ConfigureAwait(false);
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(directory, recursive: true);
        }
    }

    private sealed class Catalog(DurableWorkflowDefinition definition) : IDurableWorkflowCatalog
    {
        public bool Ready => true;
        public DurableWorkflowDefinition? Find(string workflow) => workflow == definition.Name ? definition : null;
    }
}
