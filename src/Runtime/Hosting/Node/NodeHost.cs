using System.Net;
using Akka.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
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
/// A running node: the actor system as a cluster member (Akka.Hosting; it joins itself without seed nodes), the sharded
/// persistent persona sessions, the HTTP API (ASP.NET Core minimal API) and the Prometheus endpoint in one host.
/// </summary>
public static class NodeHost
{
    /// <param name="tracing">More span processors on the node's tracer provider (<c>tta demo --hold</c> prints span trees from one).</param>
    public static WebApplication Build(NodeOptions options, HoconLayers hocon, Action<TracerProviderBuilder>? tracing = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = [],
            ApplicationName = "tta",
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Logging.ClearProviders();
        builder.Logging.AddTtaConsole(options.Runtime.ServiceName);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Logging.AddFilter("TtaActors", LogLevel.Information);

        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = options.MaxBodyBytes;
            kestrel.Listen(new IPEndPoint(options.Http.Address, options.Http.Port));
        });

        builder.Services.AddTtaNodeApi(options);
        var cluster = options.ToClusterOptions();
        var durableWorkflows = new DurableWorkflowCatalog();
        builder.Services.AddTtaActors(options.Runtime, tracing, akka =>
        {
            akka.WithTtaCluster(cluster).WithPersonaSessions(cluster).WithDurableRuns(cluster, durableWorkflows);
            // The node's layered HOCON goes on top, so the documented order holds: the user's file, the options
            // and TTA_HOCON win over the shipped files.
            akka.AddHocon(hocon.Effective, HoconAddMode.Prepend);
        }, hocon: hocon.Effective);
        builder.Services.AddPersonaSessions();
        builder.Services.AddDurableRuns(durableWorkflows);
        builder.Services.AddTtaWorkflows(TimeSpan.FromSeconds(options.RunTimeoutSeconds));
        builder.Services.AddSingleton<INodeReadinessCheck>(sp => new ActorSystemReadiness(sp.GetRequiredService<Akka.Actor.ActorSystem>()));
        builder.Services.AddSingleton<INodeReadinessCheck>(sp => new ClusterMemberReadiness(sp.GetRequiredService<Akka.Actor.ActorSystem>()));
        builder.Services.AddSingleton<INodeReadinessCheck>(sp => new SessionJournalReadiness(sp.GetRequiredService<IPersonaSessions>()));

        var app = builder.Build();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.MapTtaNodeApi(options.Http.IsLoopback ? null : options.ApiToken);
        return app;
    }

    /// <summary>Registers the code workflows and loads the workflow files; returns the file results for the start-up report.</summary>
    public static IReadOnlyList<WorkflowSummary> LoadWorkflows(IServiceProvider services, NodeOptions options, Action<WorkflowRegistry> registerCodeWorkflows)
    {
        var registry = services.GetRequiredService<WorkflowRegistry>();
        registerCodeWorkflows(registry);
        var loaded = options.WorkflowsDirectory is { } directory ? registry.LoadDirectory(directory) : [];
        services.GetRequiredService<WorkflowsLoadedReadiness>().MarkLoaded();
        if (services.GetService<DurableWorkflowCatalog>() is { } durable)
        {
            durable.Attach(registry);
            DurableRunRecovery.Start(services.GetRequiredService<Akka.Actor.ActorSystem>(), services.GetRequiredService<DurableRuns>(),
                services.GetRequiredService<ILoggerFactory>().CreateLogger("TtaActors.DurableRuns"));
        }
        return loaded;
    }

    /// <summary>
    /// Flushes spans still buffered in the tracer provider's processors, so a stopping node loses nothing it recorded.
    /// Metrics are pulled by Prometheus, so there is nothing to push for them.
    /// </summary>
    public static bool FlushTelemetry(IServiceProvider services) =>
        services.GetService<TracerProvider>()?.ForceFlush(5000) ?? true;

    /// <summary>Turns "address in use" from Kestrel into one line naming the option to change.</summary>
    public static Exception Explain(Exception error, NodeOptions options) => error switch
    {
        IOException { InnerException: Microsoft.AspNetCore.Connections.AddressInUseException } or
            Microsoft.AspNetCore.Connections.AddressInUseException =>
            new TtaConfigurationException(
                $"--http {options.Http}: the address is already in use by another process. Stop it or choose another address with --http or TTA_HTTP.",
                error),
        _ => error,
    };
}
