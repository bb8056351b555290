using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using TtaActors.Actors.Llm;
using TtaActors.Actors.Sessions;
using TtaActors.Runtime.Hosting;
using TtaActors.Runtime.Runs;
using TtaActors.Runtime.Sessions;

namespace TtaActors.Runtime.Workflows;

/// <summary>Registration of the node's workflow registry, file steps and run service.</summary>
public static class WorkflowHostingExtensions
{
    /// <summary>The named HTTP client outbound <c>http:</c> steps send with.</summary>
    public const string HttpClientKey = "tta-workflow-steps";

    /// <summary>
    /// Adds the workflow registry (code and file workflows) and the run service. Runs asked for in a session go to the
    /// persona sessions registered as <see cref="IPersonaSessions"/>, the sharded persistent ones (register them with
    /// <c>akka.WithTtaCluster(cluster).WithPersonaSessions(cluster)</c> and <see cref="PersonaSessionsHostingExtensions.AddPersonaSessions"/>);
    /// without them the run service runs workflows outside sessions only. Call it after
    /// <see cref="TtaHostingExtensions.AddTtaActors"/>: the workflows registered with <c>AddTtaWorkflow</c> are
    /// materialised when the host starts, once the actor system runs, and every workflow's graph is stopped when the host stops.
    /// </summary>
    public static IServiceCollection AddTtaWorkflows(this IServiceCollection services, TimeSpan? runTimeout = null)
    {
        services.AddKeyedSingleton(HttpClientKey, (_, _) => new HttpClient(new SocketsHttpHandler
        {
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            AllowAutoRedirect = false,
        })
        {
            // Each http: step sets its own timeout.
            Timeout = Timeout.InfiniteTimeSpan,
        });
        services.AddSingleton(sp =>
        {
            var runtime = sp.GetRequiredService<TtaRuntime>();
            return new WorkflowStepServices(
                sp.GetRequiredKeyedService<HttpClient>(HttpClientKey),
                Environment.GetEnvironmentVariable,
                (definition, name) => runtime.Materialize(definition, name),
                sp.GetService<ILlmStepFactory>())
            {
                Capture = sp.GetService<LlmSettings>()?.Capture ?? Telemetry.Llm.CapturePolicy.Default,
                // Resolved when a workflow tool is called, so files may name workflows loaded after them.
                FindWorkflow = name => sp.GetRequiredService<WorkflowRegistry>().TryGet(name, out var workflow) ? workflow : null,
            };
        });
        services.TryAddSingleton<ILlmStepFactory>(sp => new LlmFileSteps(sp.GetRequiredService<LlmSettings>()));
        services.AddSingleton<WorkflowRegistry>();
        services.AddSingleton(sp => new RunService(
            sp.GetRequiredService<WorkflowRegistry>(), sp.GetService<IPersonaSessions>(), sp.GetRequiredService<TtaRuntimeOptions>())
        {
            RunTimeout = runTimeout,
            Stopping = sp.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping,
            Store = new RunStore(sp.GetService<RunStoreLimits>() ?? new RunStoreLimits()),
            Durable = sp.GetService<Durable.DurableRuns>(),
        });
        services.AddSingleton<CodeWorkflowStartup>();
        services.AddHostedService(sp => sp.GetRequiredService<CodeWorkflowStartup>());
        return services;
    }
}
