using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Reflection;

namespace TtaActors.Telemetry;

/// <summary>The one <see cref="ActivitySource"/>, the one <see cref="Meter"/> and every instrument.</summary>
public static class TtaInstrumentation
{
    private static readonly string Version =
        typeof(TtaInstrumentation).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? "0.0.0";

    public static readonly ActivitySource ActivitySource = new(TelemetryNames.SourceName, Version);

    public static readonly Meter Meter = new(TelemetryNames.SourceName, Version);

    /// <summary>
    /// Bucket boundaries for primitive durations: trivial steps take microseconds, LLM calls take seconds,
    /// so the range spans both (the SDK's default buckets are meant for milliseconds).
    /// </summary>
    public static readonly IReadOnlyList<double> DurationBuckets =
    [
        0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120,
    ];

    public static readonly Histogram<double> PrimitiveExecutionDuration = Meter.CreateHistogram(
        TelemetryNames.Metrics.PrimitiveExecutionDuration,
        unit: "s",
        description: "Duration of one primitive execution.",
        tags: null,
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets });

    public static readonly Counter<long> PrimitiveExecutions = Meter.CreateCounter<long>(
        TelemetryNames.Metrics.PrimitiveExecutions,
        unit: null,
        description: "Number of primitive executions, by outcome.");

    public static readonly Counter<long> PersonaSwitches = Meter.CreateCounter<long>(
        TelemetryNames.Sessions.PersonaSwitches,
        unit: null,
        description: "Persona switches in persona sessions, by previous and new persona and chat mode.");

    public static readonly UpDownCounter<long> PersonaSessionsActive = Meter.CreateUpDownCounter<long>(
        TelemetryNames.Sessions.PersonaSessionsActive,
        unit: null,
        description: "Persona session entities live in memory on this node.");
}
