using Akka.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Trace;
using TtaActors.Actors.Llm;
using TtaActors.Llm.Providers;
using TtaActors.Telemetry.Export.Langfuse;

namespace TtaActors.Runtime.Hosting;

/// <summary>Registration of LLM steps' settings, the Langfuse export and the Langfuse-style API.</summary>
public static class LlmHostingExtensions
{
    /// <summary>The <c>exporter</c> label of the Langfuse export in the pipeline metrics.</summary>
    public const string LangfuseExporterName = "langfuse";

    /// <summary>
    /// Adds <see cref="LlmSettings"/> (providers, cost catalog, capture policy) and, when <c>LANGFUSE_PUBLIC_KEY</c> and
    /// <c>LANGFUSE_SECRET_KEY</c> are set, the Langfuse exporter behind the telemetry actor plus <see cref="LangfuseScores"/>.
    /// <see cref="LangfuseTracing"/> is always there; without Langfuse its traces still reach the other exporters.
    /// The rate limits come from <c>tta.llm</c> in <paramref name="config"/> and the environment.
    /// </summary>
    public static IServiceCollection AddTtaLlm(this IServiceCollection services, TtaRuntimeOptions options, Func<string, string?>? read = null,
        Config? config = null)
    {
        read ??= Environment.GetEnvironmentVariable;
        LlmSettings settings;
        LangfuseExporterOptions? langfuse;
        string langfuseState;
        try
        {
            settings = LlmProviders.FromEnvironment(read, config);
            langfuse = LangfuseExporterOptions.FromEnvironment(read, out langfuseState);
        }
        catch (Exception error) when (error is LlmConfigurationException or ArgumentException)
        {
            throw new TtaConfigurationException(error.Message, error);
        }

        services.AddSingleton(settings);
        services.AddSingleton(sp => new LangfuseTracing(settings.Costs, settings.Capture,
            timeout => sp.GetRequiredService<TracerProvider>().ForceFlush(timeout), options.ServiceName));
        if (langfuse is not null)
        {
            services.AddSingleton(langfuse);
            // Behind the telemetry actor like every other exporter: batched off the workflow path, flushed on shutdown.
            services.AddTtaSpanExporter(LangfuseExporterName, sp => new LangfuseExporter(langfuse,
                logger: sp.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(LangfuseExporter).FullName!)));
            services.AddSingleton(new LangfuseScores(langfuse, new HttpClient { Timeout = TimeSpan.FromSeconds(30) }));
        }
        var oneKeyOnly = langfuse is null && (read("LANGFUSE_PUBLIC_KEY") is { Length: > 0 } || read("LANGFUSE_SECRET_KEY") is { Length: > 0 });
        services.AddHostedService(sp => new LangfuseStateLog(
            sp.GetRequiredService<ILoggerFactory>().CreateLogger("TtaActors.Langfuse"), langfuseState,
            oneKeyOnly ? LogLevel.Warning : LogLevel.Information));
        return services;
    }

    /// <summary>Says once, at start, whether spans go to Langfuse and why not when they do not.</summary>
    private sealed class LangfuseStateLog(ILogger logger, string state, LogLevel level) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            logger.Log(level, "{LangfuseState}", state);
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
