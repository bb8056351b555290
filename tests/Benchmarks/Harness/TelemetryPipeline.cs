using System.Diagnostics;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using TtaActors.Benchmarks.Peers;
using TtaActors.Telemetry;

namespace TtaActors.Benchmarks.Harness;

/// <summary>
/// What "fully traced and metered" means in this benchmark: a real OpenTelemetry SDK pipeline that samples every
/// span of TtaActors and of the peers into a batching exporter, and aggregates every TtaActors instrument into
/// metric points that a reader collects. Only the final export is a no-op, so the cost measured is everything a
/// production process pays up to the wire. While no pipeline is open nothing listens, which is the untraced variant.
/// </summary>
public sealed class TelemetryPipeline : IDisposable
{
    /// <summary>The source name the Microsoft Agent Framework workflows report under when their OpenTelemetry option is on.</summary>
    public const string AgentFrameworkSourceName = "Microsoft.Agents.AI.Workflows";

    private readonly TracerProvider? _tracing;
    private readonly MeterProvider? _metering;
    private readonly CountingSpanExporter _spans = new();
    private readonly CountingMetricExporter _metrics = new();

    private TelemetryPipeline(TelemetryParts parts)
    {
        if (parts.HasFlag(TelemetryParts.Traces)) _tracing = Sdk.CreateTracerProviderBuilder()
            .AddTtaActorsInstrumentation()
            .AddSource(PeerTelemetry.SourceName)
            .AddSource(AgentFrameworkSourceName)
            .SetSampler(new AlwaysOnSampler())
            .AddProcessor(new BatchActivityExportProcessor(_spans))
            .Build();
        if (parts.HasFlag(TelemetryParts.Metrics)) _metering = Sdk.CreateMeterProviderBuilder()
            .AddTtaActorsInstrumentation()
            .AddReader(new PeriodicExportingMetricReader(_metrics, exportIntervalMilliseconds: 1000))
            .Build();
    }

    /// <summary>Opens a pipeline for a traced measurement, or nothing for an untraced one.</summary>
    public static TelemetryPipeline? Open(bool traced, TelemetryParts parts) => traced ? new TelemetryPipeline(parts) : null;

    public long SpansExported => _spans.Exported;

    public long MetricPointsCollected => _metrics.Points;

    public void Dispose()
    {
        _tracing?.ForceFlush();
        _metering?.ForceFlush();
        _tracing?.Dispose();
        _metering?.Dispose();
    }

    private sealed class CountingSpanExporter : BaseExporter<Activity>
    {
        private long _exported;

        public long Exported => Interlocked.Read(ref _exported);

        public override ExportResult Export(in Batch<Activity> batch)
        {
            Interlocked.Add(ref _exported, batch.Count);
            return ExportResult.Success;
        }
    }

    /// <summary>Reads every metric point the SDK aggregated, as an exporter serialising them would.</summary>
    private sealed class CountingMetricExporter : BaseExporter<Metric>
    {
        private long _points;

        public long Points => Interlocked.Read(ref _points);

        public override ExportResult Export(in Batch<Metric> batch)
        {
            long points = 0;
            foreach (var metric in batch)
            {
                foreach (ref readonly var point in metric.GetMetricPoints())
                {
                    foreach (var tag in point.Tags) _ = tag.Value;
                    points++;
                }
            }
            Interlocked.Add(ref _points, points);
            return ExportResult.Success;
        }
    }
}
