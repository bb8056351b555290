using System.Diagnostics;
using Akka.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using TtaActors.Telemetry.ActorMetrics;
using TtaActors.Telemetry.Export;

namespace TtaActors.Runtime.Hosting;

/// <summary>
/// Registration of the telemetry pipeline: the telemetry actor and its exporters, OTLP for traces, metrics and logs,
/// the counting mailboxes, and Akka's logging routed to Microsoft.Extensions.Logging.
/// </summary>
public static class TelemetryHosting
{
    /// <summary>
    /// Registers the telemetry pipeline with every exporter registered through <see cref="AddTtaSpanExporter"/>, plus
    /// OTLP when <paramref name="otlp"/> (default: from the <c>OTEL_*</c> variables) is set. Bounds and timings come
    /// from <paramref name="pipelineOptions"/>, else from the <c>tta.telemetry</c> section of <c>hocon/base.conf</c>.
    /// </summary>
    public static IServiceCollection AddTtaTelemetryPipeline(this IServiceCollection services, TtaRuntimeOptions options,
        OtlpSettings? otlp = null, TelemetryPipelineOptions? pipelineOptions = null)
    {
        try
        {
            otlp ??= OtlpSettings.FromEnvironment();
        }
        catch (OtlpConfigurationException error)
        {
            throw new TtaConfigurationException(error.Message);
        }

        try
        {
            pipelineOptions ??= TelemetryPipelineConfig.FromConfig(HoconFiles.Load("base.conf"));
        }
        catch (Akka.Configuration.ConfigurationException error)
        {
            throw new TtaConfigurationException($"hocon/base.conf: {error.Message}", error);
        }

        if (otlp is { Traces: true }) services.AddTtaSpanExporter(OtlpSettings.ExporterName, _ => otlp.CreateTraceExporter().Exporter);

        services.AddSingleton(sp => new TelemetryPipeline(
            sp.GetServices<NamedExporter>(),
            pipelineOptions,
            ResourceBuilder.CreateEmpty().AddTtaActorsResource(options),
            options.ServiceName));
        services.ConfigureOpenTelemetryTracerProvider((sp, tracing) =>
        {
            // With no exporter configured, finished spans are not queued at all.
            var pipeline = sp.GetRequiredService<TelemetryPipeline>();
            if (pipeline.Exporters.Count > 0) tracing.AddProcessor(pipeline.Processor);
        });

        if (otlp is { Metrics: true })
            services.ConfigureOpenTelemetryMeterProvider(metrics => metrics.AddOtlpExporter((exporter, _) => otlp.Configure(exporter, "metrics")));

        services.AddOpenTelemetry().WithLogging(
            logs =>
            {
                if (otlp is { Logs: true }) logs.AddOtlpExporter(exporter => otlp.Configure(exporter, "logs"));
            },
            logOptions =>
            {
                // Akka log events carry the Activity that was current where they were written (the step's span while
                // user code runs); this puts its trace and span id on the log record.
                logOptions.AddAkkaTraceCorrelation();
                logOptions.IncludeScopes = true;
                logOptions.IncludeFormattedMessage = true;
            });
        services.Configure<LoggerFactoryOptions>(factory =>
            factory.ActivityTrackingOptions = ActivityTrackingOptions.TraceId | ActivityTrackingOptions.SpanId);
        return services;
    }

    /// <summary>
    /// Adds a span exporter behind the telemetry actor: it receives every finished span in batches, off the workflow
    /// path, with retries and the pipeline's memory bound. <paramref name="name"/> labels its metrics.
    /// </summary>
    public static IServiceCollection AddTtaSpanExporter(this IServiceCollection services, string name,
        Func<IServiceProvider, BaseExporter<Activity>> exporter) =>
        services.AddSingleton(sp => new NamedExporter(name, exporter(sp)));

    /// <summary>
    /// Akka side of the pipeline: counting mailboxes labelled with the workspace, Akka logs to
    /// Microsoft.Extensions.Logging, the telemetry actor started with the actor system (and flushed by its
    /// coordinated shutdown), and cluster and sharding gauges when the system runs the cluster provider.
    /// </summary>
    public static AkkaConfigurationBuilder WithTtaTelemetry(this AkkaConfigurationBuilder builder, IServiceProvider services,
        TtaRuntimeOptions options) =>
        builder
            .AddHocon(InstrumentedMailboxConfig.For(options.ServiceName), HoconAddMode.Prepend)
            .ConfigureLoggers(loggers =>
            {
                loggers.ClearLoggers();
                loggers.AddLoggerFactory();
            })
            .AddStartup((system, _) =>
            {
                services.GetRequiredService<TelemetryPipeline>().Start(system);
                if (ClusterTelemetry.IsClustered(system)) ClusterTelemetry.Start(system);
            });
}
