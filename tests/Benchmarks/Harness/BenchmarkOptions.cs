using System.Globalization;

namespace TtaActors.Benchmarks.Harness;

/// <summary>Command line: <c>[--scenario NAME]... [--seconds N] [--warmup N] [--json] [--list]</c>.</summary>
public sealed record BenchmarkOptions
{
    public IReadOnlyList<string> Scenarios { get; init; } = [];

    /// <summary>Measured seconds per configuration; the default keeps a full run under five minutes.</summary>
    public double Seconds { get; init; } = 2.5;

    /// <summary>Warm-up seconds per configuration (JIT tiering, pools, the SDK's first allocations).</summary>
    public double WarmupSeconds { get; init; } = 1;

    /// <summary>Only the JSON lines on standard output (progress still goes to standard error).</summary>
    public bool JsonOnly { get; init; }

    public bool List { get; init; }

    public TimeSpan Duration => TimeSpan.FromSeconds(Seconds);
    public TimeSpan Warmup => TimeSpan.FromSeconds(WarmupSeconds);

    public const string Usage =
        "usage: dotnet run -c Release --project tests/Benchmarks -- [--scenario NAME]... [--seconds N] [--warmup N] [--json] [--list]";

    public static BenchmarkOptions Parse(IReadOnlyList<string> args)
    {
        var options = new BenchmarkOptions();
        var scenarios = new List<string>();
        for (var i = 0; i < args.Count; i++)
        {
            switch (args[i])
            {
                case "--scenario" or "-s":
                    scenarios.AddRange(Value(args, ref i).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
                    break;
                case "--seconds":
                    options = options with { Seconds = PositiveSeconds(args, ref i, "--seconds") };
                    break;
                case "--warmup":
                    options = options with { WarmupSeconds = PositiveSeconds(args, ref i, "--warmup") };
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
        return options with { Scenarios = scenarios };
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
