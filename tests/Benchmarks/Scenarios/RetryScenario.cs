using TtaActors.Actors.Execution;
using TtaActors.Actors.Primitives;
using TtaActors.Benchmarks.Harness;
using TtaActors.Benchmarks.Peers;

namespace TtaActors.Benchmarks.Scenarios;

/// <summary>
/// A Retry around a step that fails twice, with zero backoff. The same Retry whose step succeeds at once is the
/// baseline, so the difference divided by the two extra attempts is the cost of one more attempt (span, metrics,
/// the failure value, the hop back to the retry actor). A plain try/catch loop gives the same figure for code
/// that only throws and catches.
/// </summary>
public sealed class RetryScenario : IScenario
{
    private const int Failures = 2;
    private const string NoFailure = "retry.no-failure";

    public string Name => "retry";

    public string Description => "Retry around a step failing twice (zero backoff) vs the same Retry succeeding at once; cost per extra attempt";

    public async Task RunAsync(BenchmarkSession session)
    {
        var flaky = new LambdaPrimitive((input, _, _) =>
        {
            var probe = (Probe)input!;
            if (probe.Attempts++ < probe.FailFirst) throw new InvalidOperationException("transient failure");
            return new ValueTask<StepOutcome>(new StepOutcome(probe.Attempts));
        }, "flaky");
        var definition = new RetryPrimitive(flaky, new RetryPolicy { MaxRetries = 3, BackoffBase = 0, MaxBackoff = 0, Jitter = false });
        var graph = WorkflowGraph.Materialize(session.System, definition, Name,
            new WorkflowGraphOptions { ServiceName = Workloads.ServiceName });

        foreach (var traced in new[] { true, false })
        {
            var failing = await session.MeasureAsync(Name, Impl.TtaActors, traced, 1, Failures + 1, () => RunOnce(graph, Failures));
            var clean = await session.MeasureAsync(NoFailure, Impl.TtaActors, traced, 1, 1, () => RunOnce(graph, 0));
            var plainFailing = await session.MeasureAsync(Name, Impl.PlainAsync, traced, 1, Failures + 1, async () =>
                Workloads.Expect(Impl.PlainAsync, await PlainAsyncPeers.RetryAsync(0, Failures, 3).ConfigureAwait(false), 1));
            var plainClean = await session.MeasureAsync(NoFailure, Impl.PlainAsync, traced, 1, 1, async () =>
                Workloads.Expect(Impl.PlainAsync, await PlainAsyncPeers.RetryAsync(0, 0, 3).ConfigureAwait(false), 1));
            if (failing is null || clean is null || plainFailing is null || plainClean is null) continue;
            session.Note($"retry {(traced ? "traced" : "untraced")}: one extra attempt costs " +
                         $"{PerAttempt(failing, clean):0.0} us in TtaActors, {PerAttempt(plainFailing, plainClean):0.0} us in a plain try/catch loop " +
                         "(p50 difference / 2 extra attempts)");
        }
    }

    private static double PerAttempt(Measurement failing, Measurement clean) => (failing.P50Microseconds - clean.P50Microseconds) / Failures;

    private static async ValueTask RunOnce(WorkflowGraph graph, int failFirst)
    {
        var result = await graph.RunAsync(new Probe(failFirst), Workloads.NewContext()).ConfigureAwait(false);
        if (result.Failure is { } failure) throw new InvalidOperationException($"The retry run failed: {failure}");
        Workloads.Expect(Impl.TtaActors, result.Output, (object)(failFirst + 1));
    }

    /// <summary>Counts the attempts of one run; every attempt of a run gets the same input object.</summary>
    private sealed class Probe(int failFirst)
    {
        public int FailFirst { get; } = failFirst;
        public int Attempts;
    }
}
