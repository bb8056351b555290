using Akka.Actor;
using TtaActors.Actors.Execution;
using TtaActors.Actors.Primitives;
using TtaActors.Benchmarks.Harness;
using TtaActors.Benchmarks.Peers;

namespace TtaActors.Benchmarks.Scenarios;

/// <summary>
/// The headline target of DESIGN.md section 8: a 10-step Sequential of trivial steps, traced and metered, against
/// a bare Akka.NET chain, a Microsoft Agent Framework workflow and plain async methods; untraced variants too.
/// </summary>
public sealed class Seq10Scenario : IScenario
{
    private const int Steps = 10;

    /// <summary>What a run answers, boxed once: the check of each answer is the harness's, not an allocation of the run.</summary>
    private static readonly object ExpectedOutput = Steps;

    public string Name => "seq10";

    public string Description => "10-step Sequential of trivial steps vs bare Akka.NET chain, Agent Framework workflow, plain async";

    public async Task RunAsync(BenchmarkSession session)
    {
        var definition = new SequentialPrimitive(
            Enumerable.Range(0, Steps).Select(i => (Primitive)Lambda.From<int, int>(value => value + 1, $"step-{i}")));
        var graph = WorkflowGraph.Materialize(session.System, definition, Name,
            new WorkflowGraphOptions { ServiceName = Workloads.ServiceName });
        var chain = AkkaPeers.Chain(session.System, Steps, "seq10-chain");
        var agentFramework = new Dictionary<bool, Microsoft.Agents.AI.Workflows.Workflow>
        {
            [true] = AgentFrameworkPeers.Chain(Steps, traced: true),
            [false] = AgentFrameworkPeers.Chain(Steps, traced: false),
        };

        foreach (var traced in new[] { true, false })
        {
            foreach (var callers in Workloads.CallerCounts)
            {
                await session.MeasureAsync(Name, Impl.TtaActors, traced, callers, Steps, async () =>
                {
                    var result = await graph.RunAsync(0, Workloads.NewContext()).ConfigureAwait(false);
                    if (result.Failure is { } failure) throw new InvalidOperationException($"The seq10 run failed: {failure}");
                    Workloads.Expect(Impl.TtaActors, result.Output, ExpectedOutput);
                });
                await session.MeasureAsync(Name, Impl.AkkaChain, traced, callers, Steps, async () =>
                    Workloads.Expect(Impl.AkkaChain, await chain.Ask<int>(new AkkaPeers.Hop(0, default)).ConfigureAwait(false), Steps));
                var workflow = agentFramework[traced];
                await session.MeasureAsync(Name, Impl.AgentFramework, traced, callers, Steps, async () =>
                    Workloads.Expect(Impl.AgentFramework, await AgentFrameworkPeers.RunAsync<int>(workflow, 0).ConfigureAwait(false), Steps));
                await session.MeasureAsync(Name, Impl.PlainAsync, traced, callers, Steps, async () =>
                    Workloads.Expect(Impl.PlainAsync, await PlainAsyncPeers.SequenceAsync(0, Steps).ConfigureAwait(false), Steps));
            }
        }

        foreach (var traced in new[] { true, false })
        {
            foreach (var callers in Workloads.CallerCounts)
            {
                var ours = session.Find(Name, Impl.TtaActors, traced, callers);
                var akka = session.Find(Name, Impl.AkkaChain, traced, callers);
                var maf = session.Find(Name, Impl.AgentFramework, traced, callers);
                if (ours is null || akka is null || maf is null) continue;
                var vsAkka = ours.WorkflowsPerSecond / akka.WorkflowsPerSecond;
                var vsMaf = ours.WorkflowsPerSecond / maf.WorkflowsPerSecond;
                // The same ratios from processor time per run, which other processes on the machine disturb far less.
                var cpuVsAkka = akka.ProcessorMicrosecondsPerRun / ours.ProcessorMicrosecondsPerRun;
                var cpuVsMaf = maf.ProcessorMicrosecondsPerRun / ours.ProcessorMicrosecondsPerRun;
                var label = $"seq10 {(traced ? "traced" : "untraced")} x{callers}";
                session.Note(traced
                    ? $"{label}: throughput {vsAkka:0.00}x the bare Akka.NET chain (target >= 0.5x: {Verdict(vsAkka >= 0.5)}), " +
                      $"{vsMaf:0.0}x the Agent Framework workflow (target >= 10x: {Verdict(vsMaf >= 10)}); " +
                      $"by cpu per run {cpuVsAkka:0.00}x and {cpuVsMaf:0.0}x"
                    : $"{label}: throughput {vsAkka:0.00}x the bare Akka.NET chain, {vsMaf:0.0}x the Agent Framework workflow; " +
                      $"by cpu per run {cpuVsAkka:0.00}x and {cpuVsMaf:0.0}x (no target)");
            }
        }
    }

    private static string Verdict(bool met) => met ? "met" : "NOT met";
}
