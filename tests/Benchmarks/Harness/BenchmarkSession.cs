using Akka.Actor;
using Akka.Configuration;

namespace TtaActors.Benchmarks.Harness;

/// <summary>
/// What every scenario shares in one process: the options, one actor system configured like the runtime's, and
/// the collected measurements. Measurements are printed as they finish (JSON on standard output).
/// </summary>
public sealed class BenchmarkSession : IAsyncDisposable
{
    private readonly List<Measurement> _measurements = [];
    private readonly List<string> _notes = [];

    public BenchmarkSession(BenchmarkOptions options)
    {
        Options = options;
        System = ActorSystem.Create("bench", LoadBaseConfig());
    }

    public BenchmarkOptions Options { get; }

    /// <summary>Shared by TtaActors graphs and the bare Akka.NET peers, so both run on the same dispatcher.</summary>
    public ActorSystem System { get; }

    public IReadOnlyList<Measurement> Measurements => _measurements;

    public IReadOnlyList<string> Notes => _notes;

    /// <summary>
    /// Measures one workload. <paramref name="run"/> performs one complete run and throws if its result is wrong;
    /// the telemetry pipeline is open for the whole measurement when <paramref name="traced"/> is set.
    /// Null when <c>--impl</c> leaves <paramref name="impl"/> out.
    /// </summary>
    public async Task<Measurement?> MeasureAsync(string scenario, string impl, bool traced, int concurrency, int stepsPerRun,
        Func<ValueTask> run)
    {
        if (Options.Impls.Count > 0 && !Options.Impls.Contains(impl)) return null;
        Console.Error.Write($"  {scenario,-18} {impl,-16} {(traced ? "traced" : "untraced"),-8} x{concurrency,-3} ... ");
        // Start every measurement from a quiet heap: garbage and finalisers left by building the workloads or by the
        // previous measurement must not be collected on this one's time.
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        LoadResult result;
        using (TelemetryPipeline.Open(traced, Options.Telemetry))
        {
            result = await LoadRunner.RunAsync(run, concurrency, Options.Warmup, Options.Duration).ConfigureAwait(false);
        }
        var measurement = new Measurement(scenario, impl, traced, concurrency,
            result.RunsPerSecond, result.RunsPerSecond * stepsPerRun,
            result.Latencies.PercentileMicroseconds(0.50), result.Latencies.PercentileMicroseconds(0.99),
            result.AllocatedBytesPerRun, result.ProcessorMicrosecondsPerRun)
        {
            MeanMicroseconds = result.Latencies.MeanMicroseconds,
        };
        Console.Error.WriteLine($"{Measurement.Format(measurement.WorkflowsPerSecond)} runs/s");
        Console.Out.WriteLine(measurement.ToJson());
        _measurements.Add(measurement);
        return measurement;
    }

    /// <summary>
    /// Records a measurement a scenario took itself (a one-off time, figures of other processes): printed and
    /// tabled like those of <see cref="MeasureAsync"/>. Null when <c>--impl</c> leaves its impl out.
    /// </summary>
    public Measurement? Record(Measurement measurement)
    {
        if (Options.Impls.Count > 0 && !Options.Impls.Contains(measurement.Impl)) return null;
        Console.Out.WriteLine(measurement.ToJson());
        _measurements.Add(measurement);
        return measurement;
    }

    /// <summary>A derived figure (a ratio, an overhead) printed under the table.</summary>
    public void Note(string note) => _notes.Add(note);

    public Measurement? Find(string scenario, string impl, bool traced, int concurrency) =>
        _measurements.LastOrDefault(m => m.Scenario == scenario && m.Impl == impl && m.Traced == traced && m.Concurrency == concurrency);

    public async ValueTask DisposeAsync() => await System.Terminate().ConfigureAwait(false);

    private static Config LoadBaseConfig()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "hocon", "base.conf");
        if (!File.Exists(path))
            throw new FileNotFoundException($"The runtime's HOCON file '{path}' is missing; rebuild tests/Benchmarks so it is copied.", path);
        return StandardErrorLogger.Config.WithFallback(ConfigurationFactory.ParseString(File.ReadAllText(path)));
    }
}
