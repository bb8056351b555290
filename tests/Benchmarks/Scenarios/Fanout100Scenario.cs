using Akka.Actor;
using TtaActors.Actors.Execution;
using TtaActors.Actors.Primitives;
using TtaActors.Benchmarks.Harness;
using TtaActors.Benchmarks.Peers;

namespace TtaActors.Benchmarks.Scenarios;

/// <summary>
/// A Parallel of 100 trivial branches, traced and metered: latency of the whole fan-out and fan-in, and
/// throughput, against a hand-written Akka.NET scatter-gather, an Agent Framework fan-out/barrier workflow and
/// Task.WhenAll.
/// </summary>
public sealed class Fanout100Scenario : IScenario
{
    private const int Branches = 100;
    private static readonly int[] CallerCounts = [1, 16];

    public string Name => "fanout100";

    public string Description => "Parallel of 100 trivial branches vs Akka.NET scatter-gather, Agent Framework fan-out/fan-in, Task.WhenAll";

    public async Task RunAsync(BenchmarkSession session)
    {
        var definition = new ParallelPrimitive(
            Enumerable.Range(0, Branches).Select(i => (Primitive)Lambda.From<int, int>(value => value + 1, $"branch-{i}")));
        var graph = WorkflowGraph.Materialize(session.System, definition, Name,
            new WorkflowGraphOptions { ServiceName = Workloads.ServiceName });
        var scatter = AkkaPeers.FanOut(session.System, Branches, "fanout100-scatter");
        var agentFramework = AgentFrameworkPeers.FanOut(Branches, traced: true);
        const bool traced = true;

        foreach (var callers in CallerCounts)
        {
            await session.MeasureAsync(Name, Impl.TtaActors, traced, callers, Branches, async () =>
            {
                var result = await graph.RunAsync(0, Workloads.NewContext()).ConfigureAwait(false);
                if (result.Failure is { } failure) throw new InvalidOperationException($"The fanout100 run failed: {failure}");
                Workloads.Expect(Impl.TtaActors, ((object?[])result.Output!).Length, Branches);
            });
            await session.MeasureAsync(Name, Impl.AkkaChain, traced, callers, Branches, async () =>
                Workloads.Expect(Impl.AkkaChain, (await scatter.Ask<int[]>(new AkkaPeers.Hop(0, default)).ConfigureAwait(false)).Length, Branches));
            await session.MeasureAsync(Name, Impl.AgentFramework, traced, callers, Branches, async () =>
                Workloads.Expect(Impl.AgentFramework, (await AgentFrameworkPeers.RunAsync<int[]>(agentFramework, 0).ConfigureAwait(false)).Length, Branches));
            await session.MeasureAsync(Name, Impl.PlainAsync, traced, callers, Branches, async () =>
                Workloads.Expect(Impl.PlainAsync, (await PlainAsyncPeers.FanOutAsync(0, Branches).ConfigureAwait(false)).Length, Branches));
        }
    }
}
