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

    public string Name => "seq10-durable";

    public string Description => "10-step Sequential as a durable run (start, each step and the outcome journaled in SQLite) vs in memory";

    public async Task RunAsync(BenchmarkSession session)
    {
        // The runtime's own journal configuration (hocon/persistence-sqlite.conf, WAL), as `tta` runs it.
        var directory = Path.Combine(Path.GetTempPath(), $"tta-bench-durable-{Guid.NewGuid():N}");
        var journal = TtaClusterHostingExtensions.JournalConfig(new TtaClusterOptions { Journal = JournalProvider.Sqlite, DataDirectory = directory });
        using var system = ActorSystem.Create("seq10-durable", journal.WithFallback(session.System.Settings.Config));
        try
        {
            var definition = new SequentialPrimitive(
                Enumerable.Range(0, Steps).Select(i => (Primitive)Lambda.From<int, int>(value => value + 1, $"step-{i}")));
            var catalog = new Catalog(DurableWorkflowDefinition.Create(Name, definition,
                (step, name) => WorkflowGraph.Materialize(system, step, name, new WorkflowGraphOptions { ServiceName = Workloads.ServiceName })));
            var inMemory = WorkflowGraph.Materialize(system, definition, "seq10", new WorkflowGraphOptions { ServiceName = Workloads.ServiceName });
            var settings = new DurableRunSettings { KeepFinished = TimeSpan.Zero };
            long writes = 0, runs = 0;

            foreach (var callers in Workloads.CallerCounts)
            {
                await session.MeasureAsync(Name, Impl.TtaActors, true, callers, Steps, async () =>
                {
                    var runId = RunId.New().ToString();
                    var entity = system.ActorOf(DurableRunActor.Props(runId, catalog, settings));
                    var view = await entity.Ask<View>(new Start(runId, Name, DurableJson.From(0), DurableJson.Context(Workloads.NewContext()),
                        null, null, null, null), TimeSpan.FromSeconds(30)).ConfigureAwait(false);
                    while (view.Status is "running")
                    {
                        var events = await entity.Ask<Events>(new GetEvents(runId, view.LastEventId, 1000, 30_000), TimeSpan.FromSeconds(40))
                            .ConfigureAwait(false);
                        if (events.Finished) view = await entity.Ask<View>(new Get(runId), TimeSpan.FromSeconds(30)).ConfigureAwait(false);
                        else if (events.Items.Count > 0) view = view with { LastEventId = events.Items[^1].Id };
                    }
                    if (view.Status != "succeeded") throw new InvalidOperationException($"The seq10-durable run {view.Status}: {view.ErrorMessage}");
                    Workloads.Expect(Impl.TtaActors, view.Output?.Json, Steps.ToString());
                    Interlocked.Add(ref writes, view.LastEventId);
                    Interlocked.Increment(ref runs);
                });
                await session.MeasureAsync("seq10-durable/in-memory", Impl.TtaActors, true, callers, Steps, async () =>
                {
                    var result = await inMemory.RunAsync(0, Workloads.NewContext()).ConfigureAwait(false);
                    Workloads.Expect(Impl.TtaActors, result.Output, (object)Steps);
                });
            }
            if (runs > 0)
                session.Note($"seq10-durable: {(double)writes / runs:0.0} journal writes per run (start, {Steps} x step started + step completed, outcome)");
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
