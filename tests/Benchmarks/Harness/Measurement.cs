using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace TtaActors.Benchmarks.Harness;

/// <summary>
/// One measured configuration, in the schema of DESIGN.md section 8, plus <c>cpu_us_per_run</c>: processor time per
/// run, the figure that stays comparable when other processes load the machine, and <c>mean_us</c> and
/// <c>in_flight</c>: the exact mean latency and mean x runs/s, which Little's law makes the number of callers.
/// </summary>
public sealed record Measurement(
    string Scenario,
    string Impl,
    bool Traced,
    int Concurrency,
    double WorkflowsPerSecond,
    double StepsPerSecond,
    double P50Microseconds,
    double P99Microseconds,
    double AllocatedBytesPerRun,
    double ProcessorMicrosecondsPerRun)
{
    /// <summary>The exact mean latency of a run (a sum, not bucket midpoints).</summary>
    public double MeanMicroseconds { get; init; } = double.NaN;

    /// <summary>
    /// Runs in flight on average, by Little's law: mean latency x runs per second. With closed-loop callers it equals
    /// the number of callers; a figure far from it means the latencies were not measured over the runs counted.
    /// </summary>
    public double InFlight => MeanMicroseconds * WorkflowsPerSecond / 1_000_000;

    /// <summary>Figures of a scenario beyond the shared schema (e.g. <c>failover_s</c>, <c>dropped</c>), written after the others.</summary>
    public IReadOnlyList<KeyValuePair<string, double>> Extras { get; init; } = [];

    /// <summary>One JSON line. Written by hand: reflection-based serialisation emits code at run time, and its
    /// clean-up on the finaliser thread would compete with the next measurement.</summary>
    public string ToJson()
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("scenario", Scenario);
            json.WriteString("impl", Impl);
            json.WriteBoolean("traced", Traced);
            json.WriteNumber("concurrency", Concurrency);
            Number(json, "workflows_per_s", WorkflowsPerSecond, 1);
            Number(json, "steps_per_s", StepsPerSecond, 1);
            Number(json, "p50_us", P50Microseconds, 1);
            Number(json, "p99_us", P99Microseconds, 1);
            Number(json, "mean_us", MeanMicroseconds, 1);
            Number(json, "in_flight", InFlight, 1);
            Number(json, "alloc_bytes_per_run", AllocatedBytesPerRun, 0);
            Number(json, "cpu_us_per_run", ProcessorMicrosecondsPerRun, 1);
            foreach (var (name, value) in Extras) Number(json, name, value, 3);
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static void Number(Utf8JsonWriter json, string name, double value, int decimals)
    {
        if (double.IsFinite(value)) json.WriteNumber(name, Math.Round(value, decimals));
        else json.WriteNull(name);
    }

    public static string Format(double value) => value switch
    {
        double.NaN => "-",
        >= 100 => value.ToString("N0", CultureInfo.InvariantCulture),
        _ => value.ToString("0.0", CultureInfo.InvariantCulture),
    };
}
