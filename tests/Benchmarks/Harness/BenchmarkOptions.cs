using System.Globalization;

namespace TtaActors.Benchmarks.Harness;

/// <summary>Command line: <c>[--scenario NAME]... [--impl NAME]... [--seconds N] [--warmup N] [--telemetry both|traces|metrics] [--json] [--list]</c>.</summary>
public sealed record BenchmarkOptions
{
    public IReadOnlyList<string> Scenarios { get; init; } = [];

    /// <summary>Only these implementations (e.g. <c>ttaactors</c> while profiling); empty measures all.</summary>
    public IReadOnlyList<string> Impls { get; init; } = [];

    /// <summary>Measured seconds per configuration; the default keeps a full run under five minutes.</summary>
    public double Seconds { get; init; } = 2.5;

    /// <summary>Warm-up seconds per configuration (JIT tiering, pools, the SDK's first allocations).</summary>
    public double WarmupSeconds { get; init; } = 1;

    /// <summary>Only the JSON lines on standard output (progress still goes to standard error).</summary>
    public bool JsonOnly { get; init; }

    public bool List { get; init; }

    /// <summary>Which half of the pipeline a traced measurement opens; both by default, one to split costs while profiling.</summary>
    public TelemetryParts Telemetry { get; init; } = TelemetryParts.TracesAndMetrics;

    public TimeSpan Duration => TimeSpan.FromSeconds(Seconds);
    public TimeSpan Warmup => TimeSpan.FromSeconds(WarmupSeconds);

    public const string Usage =
        "usage: dotnet run -c Release --project tests/Benchmarks -- [--scenario NAME]... [--impl NAME]... [--seconds N] [--warmup N] [--telemetry both|traces|metrics] [--json] [--list]";

    public static BenchmarkOptions Parse(IReadOnlyList<string> args)
    {
        var options = new BenchmarkOptions();
        var scenarios = new List<string>();
        var impls = new List<string>();
        for (var i = 0; i < args.Count; i++)
        {
            switch (args[i])
            {
                case "--scenario" or "-s":
                    scenarios.AddRange(Value(args, ref i).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
                    break;
                case "--impl":
                    impls.AddRange(Value(args, ref i).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
                    break;
                case "--seconds":
                    options = options with { Seconds = PositiveSeconds(args, ref i, "--seconds") };
                    break;
                case "--warmup":
                    options = options with { WarmupSeconds = PositiveSeconds(args, ref i, "--warmup") };
                    break;
                case "--telemetry":
                    var parts = Value(args, ref i);
                    options = options with
                    {
                        Telemetry = parts switch
                        {
                            "both" => TelemetryParts.TracesAndMetrics,
                            "traces" => TelemetryParts.Traces,
                            "metrics" => TelemetryParts.Metrics,
                            _ => throw new ArgumentException($"--telemetry takes both, traces or metrics; '{parts}' is none of them."),
                        },
                    };
                    break;
                case "--json":
                    options = options with { JsonOnly = true };
                    break;
                case "--list":
                    options = options with { List = true };
                    break;
                default:
                    throw new ArgumentException($"Unknown argument '{args[i]}'.\n{Usage}");
            }
        }
        return options with { Scenarios = scenarios, Impls = impls };
    }

    private static string Value(IReadOnlyList<string> args, ref int i)
    {
        if (i + 1 >= args.Count) throw new ArgumentException($"'{args[i]}' needs a value.\n{Usage}");
        return args[++i];
    }

    private static double PositiveSeconds(IReadOnlyList<string> args, ref int i, string name)
    {
        var text = Value(args, ref i);
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) || seconds <= 0)
            throw new ArgumentException($"{name} takes a positive number of seconds; '{text}' is not one.");
        return seconds;
    }
}

[Flags]
public enum TelemetryParts
{
    Traces = 1,
    Metrics = 2,
    TracesAndMetrics = Traces | Metrics,
}
