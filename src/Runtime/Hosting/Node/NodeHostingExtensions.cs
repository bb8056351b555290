using Akka.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Trace;
using TtaActors.Actors.Sessions;
using TtaActors.Runtime.Cluster;
using TtaActors.Runtime.Durable;
using TtaActors.Runtime.Hosting;
using TtaActors.Runtime.Sessions;
using TtaActors.Runtime.Workflows;

namespace TtaActors.Runtime.Node;

/// <summary>
/// A TtaActors node inside any ASP.NET Core app: <see cref="AddTtaNode"/> registers what <c>tta node</c> runs and
/// <c>MapTtaNodeApi</c> maps its HTTP API into the app. The app keeps Kestrel, logging and its own routes.
/// </summary>
public static class NodeHostingExtensions
{
    /// <summary>
    /// Registers a node: the actor system as a cluster member (it joins itself unless <see cref="NodeOptions.Seeds"/> name
    /// seed nodes) with the layered HOCON, the sharded persistent persona sessions and durable runs on the journal
    /// (SQLite in <see cref="NodeOptions.DataDirectory"/> by default), the workflow registry and run service, the workflow
    /// files of <see cref="NodeOptions.WorkflowsDirectory"/>, the run inspector, the OpenTelemetry pipelines (and the
    /// Prometheus endpoint unless <see cref="TtaRuntimeOptions.MetricsPort"/> is 0) and the readiness checks of
    /// <c>GET /readyz</c>. Register code workflows with <c>AddTtaWorkflow</c>, before or after.
    /// </summary>
    /// <param name="services">The app's services.</param>
    /// <param name="options">The node's settings (<c>new NodeOptions()</c> is a loopback node; see its members for the defaults); validated here.</param>
    /// <param name="hocon">The node's configuration layers; default <see cref="HoconLayers.Build"/> of <paramref name="options"/> and <c>TTA_HOCON</c>.</param>
    /// <param name="tracing">More span processors or exporters on the node's tracer provider.</param>
    /// <exception cref="TtaConfigurationException">The options do not hold together (the message names the setting to fix).</exception>
    public static IServiceCollection AddTtaNode(this IServiceCollection services, NodeOptions options, HoconLayers? hocon = null,
        Action<TracerProviderBuilder>? tracing = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        hocon ??= HoconLayers.Build(options);

        // Before the actor system's hosted service: the SQLite journal's directory must exist when it starts.
        services.AddHostedService(_ => new DataDirectory(options.DataDirectory));
        services.AddTtaNodeApi(options);
        var cluster = options.ToClusterOptions();
        var durableWorkflows = new DurableWorkflowCatalog();
        services.AddTtaActors(options.Runtime, tracing, akka =>
        {
            akka.WithTtaCluster(cluster).WithPersonaSessions(cluster).WithDurableRuns(cluster, durableWorkflows);
            // The node's layered HOCON goes on top, so the documented order holds: the user's file, the options
            // and TTA_HOCON win over the shipped files.
            akka.AddHocon(hocon.Effective, HoconAddMode.Prepend);
        }, hocon: hocon.Effective);
        services.AddPersonaSessions();
        services.AddDurableRuns(durableWorkflows);
        services.AddTtaWorkflows(TimeSpan.FromSeconds(options.RunTimeoutSeconds));
        services.AddSingleton<INodeReadinessCheck>(sp => new ActorSystemReadiness(sp.GetRequiredService<Akka.Actor.ActorSystem>()));
        services.AddSingleton<INodeReadinessCheck>(sp => new ClusterMemberReadiness(sp.GetRequiredService<Akka.Actor.ActorSystem>()));
        services.AddSingleton<INodeReadinessCheck>(sp => new SessionJournalReadiness(sp.GetRequiredService<IPersonaSessions>()));
        // After AddTtaWorkflows' start-up of the code workflows: the files may not take a name code already has.
        services.AddSingleton<NodeWorkflows>();
        services.AddHostedService(sp => sp.GetRequiredService<NodeWorkflows>());
        return services;
    }

    private sealed class DataDirectory(string path) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            try
            {
                Directory.CreateDirectory(path);
            }
            catch (Exception error) when (error is IOException or UnauthorizedAccessException)
            {
                throw new TtaConfigurationException($"--data / NodeOptions.DataDirectory: cannot create data directory '{path}': {error.Message}", error);
            }
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}

/// <summary>
/// The node's start-up of its workflows, once the actor system and the code workflows run: loads the workflow files
/// (an invalid file is listed with its problems, the others load), marks the node's <c>workflows</c> readiness, and hands
/// the durable workflows to the durable runs, which then resume the runs the journal holds.
/// </summary>
public sealed class NodeWorkflows(IServiceProvider services, NodeOptions options) : IHostedService
{
    /// <summary>What the workflow files gave, for the start-up report; empty before the host started or without a directory.</summary>
    public IReadOnlyList<WorkflowSummary> Loaded { get; private set; } = [];

    /// <summary>Loads the files and starts durable run recovery.</summary>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var registry = services.GetRequiredService<WorkflowRegistry>();
        Loaded = options.WorkflowsDirectory is { } directory ? registry.LoadDirectory(directory) : [];
        services.GetRequiredService<WorkflowsLoadedReadiness>().MarkLoaded();
        if (services.GetService<DurableWorkflowCatalog>() is { } durable)
        {
            durable.Attach(registry);
            DurableRunRecovery.Start(services.GetRequiredService<Akka.Actor.ActorSystem>(), services.GetRequiredService<DurableRuns>(),
                services.GetRequiredService<ILoggerFactory>().CreateLogger("TtaActors.DurableRuns"));
        }
        return Task.CompletedTask;
    }

    /// <summary>Nothing to do: the graphs stop with the code workflows' start-up, the actors with the actor system.</summary>
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
