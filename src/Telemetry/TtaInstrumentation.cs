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

    public static readonly Gauge<int> CircuitBreakerState = Meter.CreateGauge<int>(
        TelemetryNames.Catalog.Metrics.CircuitBreakerState,
        unit: null,
        description: "State of a circuit breaker: 0 closed, 1 half-open, 2 open.");

    public static readonly Counter<long> CircuitBreakerTransitions = Meter.CreateCounter<long>(
        TelemetryNames.Catalog.Metrics.CircuitBreakerTransitions,
        unit: null,
        description: "Circuit breaker state transitions, by from_state and to_state.");

    public static readonly Counter<long> CacheHits = Meter.CreateCounter<long>(
        TelemetryNames.Catalog.Metrics.CacheHits,
        unit: null,
        description: "Cache primitive lookups answered from the cache.");

    public static readonly Counter<long> CacheMisses = Meter.CreateCounter<long>(
        TelemetryNames.Catalog.Metrics.CacheMisses,
        unit: null,
        description: "Cache primitive lookups that ran the inner primitive.");

    public static readonly Counter<long> TimeoutLateResults = Meter.CreateCounter<long>(
        TelemetryNames.Catalog.Metrics.TimeoutLateResults,
        unit: null,
        description: "Answers of inner runs that arrived after their Timeout expired and were discarded.");
    public static readonly Counter<long> PersonaSwitches = Meter.CreateCounter<long>(
        TelemetryNames.Sessions.PersonaSwitches,
        unit: null,
        description: "Persona switches in persona sessions, by previous and new persona and chat mode.");

    public static readonly UpDownCounter<long> PersonaSessionsActive = Meter.CreateUpDownCounter<long>(
        TelemetryNames.Sessions.PersonaSessionsActive,
        unit: null,
        description: "Persona session entities live in memory on this node.");
}
