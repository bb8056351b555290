using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Trace;

namespace TtaActors.Telemetry.Export.Langfuse;

/// <summary>
/// Test-only: the Langfuse exporter behind a tracer's batch processor, for specs that build their own tracer. Production
/// has one Langfuse export path, behind the telemetry actor (<c>AddTtaLlm</c> registers it with <c>AddTtaSpanExporter</c>).
/// </summary>
public static class LangfuseTracerProviderBuilderExtensions
{
    /// <summary>
    /// Sends the tracer's spans to Langfuse through a batch processor. The exporter queues and retries on its own,
    /// so the processor's export call never waits on the network; a flush of the tracer waits for delivery.
    /// </summary>
    public static TracerProviderBuilder AddLangfuseExporter(this TracerProviderBuilder builder, LangfuseExporterOptions options) =>
        builder.AddProcessor(services =>
        {
            var logger = services.GetService<ILoggerFactory>()?.CreateLogger(typeof(LangfuseExporter).FullName!);
            return new LangfuseBatchProcessor(new LangfuseExporter(options, logger: logger));
        });

    /// <summary>
    /// A batch processor whose flush also waits for the exporter's own queue: the standard one stops once it has
    /// handed spans to the exporter, which for Langfuse is before they are delivered.
    /// </summary>
    private sealed class LangfuseBatchProcessor(LangfuseExporter langfuse) : BatchActivityExportProcessor(langfuse)
    {
        protected override bool OnForceFlush(int timeoutMilliseconds)
        {
            var started = Environment.TickCount64;
            if (!base.OnForceFlush(timeoutMilliseconds)) return false;
            var remaining = timeoutMilliseconds == Timeout.Infinite
                ? Timeout.Infinite
                : (int)Math.Max(0, timeoutMilliseconds - (Environment.TickCount64 - started));
            return langfuse.ForceFlush(remaining);
        }
    }
}
