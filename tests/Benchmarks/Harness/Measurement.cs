using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace TtaActors.Benchmarks.Harness;

/// <summary>
/// One measured configuration, in the schema of DESIGN.md section 8, plus <c>cpu_us_per_run</c>: processor time per
/// run, the figure that stays comparable when other processes load the machine.
/// </summary>
public sealed record Measurement(
    [property: JsonPropertyName("scenario")] string Scenario,
    [property: JsonPropertyName("impl")] string Impl,
    [property: JsonPropertyName("traced")] bool Traced,
    [property: JsonPropertyName("concurrency")] int Concurrency,
    [property: JsonPropertyName("workflows_per_s")] double WorkflowsPerSecond,
    [property: JsonPropertyName("steps_per_s")] double StepsPerSecond,
    [property: JsonPropertyName("p50_us")] double P50Microseconds,
    [property: JsonPropertyName("p99_us")] double P99Microseconds,
    [property: JsonPropertyName("alloc_bytes_per_run")] double AllocatedBytesPerRun,
    [property: JsonPropertyName("cpu_us_per_run")] double ProcessorMicrosecondsPerRun)
{
    private static readonly JsonSerializerOptions Json = new() { NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals };

    public string ToJson() => JsonSerializer.Serialize(this with
    {
        WorkflowsPerSecond = Math.Round(WorkflowsPerSecond, 1),
        StepsPerSecond = Math.Round(StepsPerSecond, 1),
        P50Microseconds = Math.Round(P50Microseconds, 1),
        P99Microseconds = Math.Round(P99Microseconds, 1),
        AllocatedBytesPerRun = Math.Round(AllocatedBytesPerRun),
        ProcessorMicrosecondsPerRun = Math.Round(ProcessorMicrosecondsPerRun, 1),
    }, Json);

    public static string Format(double value) => value switch
    {
        double.NaN => "-",
        >= 100 => value.ToString("N0", CultureInfo.InvariantCulture),
        _ => value.ToString("0.0", CultureInfo.InvariantCulture),
    };
}
