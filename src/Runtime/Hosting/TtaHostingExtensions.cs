using Akka.Configuration;
using Akka.Actor;
using Akka.Hosting;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using TtaActors.Telemetry;

namespace TtaActors.Runtime.Hosting;

/// <summary>Registration of the runtime: one chain that reads like a table of contents.</summary>
public static class TtaHostingExtensions
{
    /// <summary>The name of the node's actor system (in its addresses, <c>akka.tcp://tta@HOST:PORT</c>).</summary>
    public const string ActorSystemName = "tta";

    /// <summary>
    /// Adds the actor system (configured from <c>hocon/base.conf</c>), the OpenTelemetry pipelines with TtaActors
    /// instrumentation and the Prometheus endpoint, and the <see cref="TtaRuntime"/> facade.
    /// </summary>
    /// <param name="akka">Further actor system configuration (cluster, sharded sessions), applied after the base HOCON.</param>
    /// <param name="hocon">The node's effective HOCON, for the <c>tta.llm</c> settings (default: <c>hocon/base.conf</c>).</param>
    /// <param name="services">The application's services.</param>
    /// <param name="options">Service name, metrics endpoint and label bounds.</param>
    /// <param name="tracing">More configuration of the tracer provider (processors, exporters).</param>
    public static IServiceCollection AddTtaActors(this IServiceCollection services, TtaRuntimeOptions options,
        Action<TracerProviderBuilder>? tracing = null, Action<AkkaConfigurationBuilder>? akka = null, Config? hocon = null)
    {
        MetricsEndpoint.EnsurePortFree(options.MetricsHost, options.MetricsPort);
        LabelValueBound.SetLimitForAll(options.MetricLabelValues);
        services.AddSingleton(options);
        services.AddTtaTelemetryPipeline(options);
        services.AddAkka(ActorSystemName, (builder, sp) =>
        {
            builder.AddHocon(HoconFiles.Load("base.conf"), HoconAddMode.Prepend).WithTtaTelemetry(sp, options);
            akka?.Invoke(builder);
        });

        services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddTtaActorsResource(options))
            .WithTracing(builder =>
            {
                builder.AddTtaActorsInstrumentation();
                tracing?.Invoke(builder);
            })
            .WithMetrics(builder =>
            {
                builder.AddTtaActorsInstrumentation();
                // CPU, memory, GC, thread pool and JIT of this process (process_* and dotnet_* on the scrape).
                builder.AddRuntimeInstrumentation().AddProcessInstrumentation();
                // No response cache: a scrape right after a run shows that run.
                if (options.MetricsPort != 0) builder.AddPrometheusExporter(exporter => exporter.ScrapeResponseCacheDurationMilliseconds = 0);
            });
        services.AddHostedService(_ => new BuildInfoRegistration(options.ServiceName));
        if (options.MetricsPort != 0)
            services.AddHostedService(sp => new MetricsEndpoint(options, sp.GetRequiredService<MeterProvider>()));

        services.AddTtaLlm(options, config: hocon ?? HoconFiles.Load("base.conf"));
        services.AddSingleton(sp => new TtaRuntime(sp.GetRequiredService<ActorSystem>(), options)
        {
            TraceContent = sp.GetRequiredService<Actors.Llm.LlmSettings>().Capture,
        });
        return services;
    }

    /// <summary>The resource attributes of DESIGN.md section 4.</summary>
    public static ResourceBuilder AddTtaActorsResource(this ResourceBuilder resource, TtaRuntimeOptions options) =>
        resource
            .AddService(options.ServiceName,
                serviceVersion: typeof(TtaHostingExtensions).Assembly.GetName().Version?.ToString(3),
                autoGenerateServiceInstanceId: true)
            .AddAttributes([new KeyValuePair<string, object>("deployment.environment.name", options.Environment)]);

    /// <summary>Reports the workspace in <c>tta_build_info</c> while the host runs.</summary>
    private sealed class BuildInfoRegistration(string serviceName) : Microsoft.Extensions.Hosting.IHostedService, IDisposable
    {
        private IDisposable? _registration;

        public Task StartAsync(CancellationToken cancellationToken)
        {
            _registration = BuildInfo.Register(serviceName);
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken)
        {
            Dispose();
            return Task.CompletedTask;
        }

        public void Dispose()
        {
            _registration?.Dispose();
            _registration = null;
        }
    }
}
