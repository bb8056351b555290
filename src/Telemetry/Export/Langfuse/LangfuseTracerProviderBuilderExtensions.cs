using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Trace;

namespace TtaActors.Telemetry.Export.Langfuse;

public static class LangfuseTracerProviderBuilderExtensions
{
    /// <summary>
    /// Sends the tracer's spans to Langfuse through a batch processor. The exporter queues and retries on its own,
    /// so the processor's export call never waits on the network.
    /// </summary>
    public static TracerProviderBuilder AddLangfuseExporter(this TracerProviderBuilder builder, LangfuseExporterOptions options) =>
        builder.AddProcessor(services =>
        {
            var logger = services.GetService<ILoggerFactory>()?.CreateLogger(typeof(LangfuseExporter).FullName!);
            return new BatchActivityExportProcessor(new LangfuseExporter(options, logger: logger));
        });
}
