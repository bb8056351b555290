using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace TtaActors.Telemetry;

/// <summary>Entry points for users' own OpenTelemetry pipelines.</summary>
public static class OpenTelemetryBuilderExtensions
{
    /// <summary>Subscribes the tracer to every span TtaActors produces.</summary>
    public static TracerProviderBuilder AddTtaActorsInstrumentation(this TracerProviderBuilder builder) =>
        builder.AddSource(TelemetryNames.SourceName);

    /// <summary>Subscribes the meter provider to every instrument TtaActors produces.</summary>
    public static MeterProviderBuilder AddTtaActorsInstrumentation(this MeterProviderBuilder builder) =>
        builder.AddMeter(TelemetryNames.SourceName);
}
