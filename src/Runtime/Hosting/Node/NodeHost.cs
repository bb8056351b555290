using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Trace;
using TtaActors.Runtime.Hosting;
using TtaActors.Runtime.Workflows;

namespace TtaActors.Runtime.Node;

/// <summary>
/// A running node: the actor system as a cluster member (Akka.Hosting; it joins itself without seed nodes), the sharded
/// persistent persona sessions, the HTTP API (ASP.NET Core minimal API) and the Prometheus endpoint in one host.
/// </summary>
public static class NodeHost
{
    /// <summary>
    /// The <c>tta node</c> process: its own web host with the TtaActors console log format, Kestrel on
    /// <see cref="NodeOptions.Http"/> with the body limit, <see cref="NodeHostingExtensions.AddTtaNode"/> and the node API.
    /// An app of your own calls <see cref="NodeHostingExtensions.AddTtaNode"/> and <see cref="NodeApi.MapTtaNodeApi(WebApplication, string?)"/> itself.
    /// </summary>
    /// <param name="options">The node's settings.</param>
    /// <param name="hocon">The node's configuration layers.</param>
    /// <param name="tracing">More span processors on the node's tracer provider (<c>tta demo --hold</c> prints span trees from one).</param>
    /// <param name="configure">More services, e.g. the code workflows (<c>AddTtaWorkflow</c>).</param>
    public static WebApplication Build(NodeOptions options, HoconLayers hocon, Action<TracerProviderBuilder>? tracing = null,
        Action<IServiceCollection>? configure = null)
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

        builder.Services.AddTtaNode(options, hocon, tracing);
        configure?.Invoke(builder.Services);

        var app = builder.Build();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.MapTtaNodeApi(options.Http.IsLoopback ? null : options.ApiToken);
        return app;
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
