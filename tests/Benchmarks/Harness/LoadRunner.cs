using System.Diagnostics;

namespace TtaActors.Benchmarks.Harness;

/// <summary>What one measurement produced before it is labelled: runs, wall time, latencies and allocations.</summary>
public sealed record LoadResult(long Runs, TimeSpan Elapsed, LatencyHistogram Latencies, long AllocatedBytes, TimeSpan ProcessorTime)
{
    /// <summary>
    /// Processor time of the whole process per run (every thread: actors, exporter, GC). Other processes on a
    /// shared machine stretch wall-clock figures; they barely move this one.
    /// </summary>
    public double ProcessorMicrosecondsPerRun => Runs == 0 ? double.NaN : ProcessorTime.TotalMicroseconds / Runs;

    public double RunsPerSecond => Runs / Elapsed.TotalSeconds;
    public double AllocatedBytesPerRun => Runs == 0 ? double.NaN : (double)AllocatedBytes / Runs;
}

/// <summary>
/// Drives one workload with a fixed number of concurrent callers: a warm-up phase (JIT, tiering, pools, caches),
/// then a measured phase. Each caller awaits one run at a time, so concurrency is the number of runs in flight.
/// </summary>
public static class LoadRunner
{
    private const int WarmingUp = 0;
    private const int Measuring = 1;
    private const int Stopping = 2;

    public static async Task<LoadResult> RunAsync(Func<ValueTask> run, int concurrency, TimeSpan warmup, TimeSpan duration)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(concurrency, 1);
        var phase = new StrongBox<int>(WarmingUp);
        var histograms = Enumerable.Range(0, concurrency).Select(_ => new LatencyHistogram()).ToArray();
        var callers = histograms.Select(h => Task.Run(() => CallerAsync(run, phase, h))).ToArray();

        await WhileRunning(callers, warmup).ConfigureAwait(false);
        using var process = Process.GetCurrentProcess();
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        var processorBefore = process.TotalProcessorTime;
        var started = Stopwatch.GetTimestamp();
        Volatile.Write(ref phase.Value, Measuring);

        await WhileRunning(callers, duration).ConfigureAwait(false);
        Volatile.Write(ref phase.Value, Stopping);
        var elapsed = Stopwatch.GetElapsedTime(started);
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        process.Refresh();
        var processor = process.TotalProcessorTime - processorBefore;
        await Task.WhenAll(callers).ConfigureAwait(false);

        var all = new LatencyHistogram();
        foreach (var histogram in histograms) all.Add(histogram);
        return new LoadResult(all.Count, elapsed, all, allocated, processor);
    }

    /// <summary>Waits for <paramref name="period"/>, but surfaces a failing caller at once instead of measuring nothing.</summary>
    private static async Task WhileRunning(Task[] callers, TimeSpan period)
    {
        var elapsed = Task.Delay(period);
        var firstFault = Task.WhenAny(callers);
        if (await Task.WhenAny(elapsed, firstFault).ConfigureAwait(false) == firstFault) await (await firstFault.ConfigureAwait(false)).ConfigureAwait(false);
    }

    private static async Task CallerAsync(Func<ValueTask> run, StrongBox<int> phase, LatencyHistogram histogram)
    {
        while (true)
        {
            var current = Volatile.Read(ref phase.Value);
            if (current == Stopping) return;
            var started = Stopwatch.GetTimestamp();
            await run().ConfigureAwait(false);
            // Only runs that started and finished inside the measured phase: those are the runs its wall time counts.
            if (current == Measuring && Volatile.Read(ref phase.Value) == Measuring) histogram.RecordTicks(Stopwatch.GetTimestamp() - started);
        }
    }

    private sealed class StrongBox<T>(T value)
    {
        public T Value = value;
    }
}
