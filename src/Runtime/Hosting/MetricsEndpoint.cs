using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;

namespace TtaActors.Runtime.Hosting;

/// <summary>
/// The Prometheus scrape endpoint: <c>GET /metrics</c> on its own small Kestrel server, on loopback unless
/// <c>--metrics-host</c> / <c>TTA_METRICS_HOST</c> says otherwise. It answers on every address it binds whatever the
/// request's <c>Host</c> header (a scraper in another container asks for <c>http://10.0.0.5:9464/metrics</c>).
/// </summary>
public sealed class MetricsEndpoint(TtaRuntimeOptions options, MeterProvider meterProvider) : IHostedService, IAsyncDisposable
{
    /// <summary>The path Prometheus scrapes.</summary>
    public const string Path = "/metrics";

    private WebApplication? _server;

    /// <summary>The scrape URL on the default host and <paramref name="port"/>.</summary>
    public static string Url(int port) => Url(TtaRuntimeOptions.DefaultMetricsHost, port);

    /// <summary>The scrape URL on <paramref name="host"/> and <paramref name="port"/> (IPv6 addresses in brackets).</summary>
    public static string Url(string host, int port)
    {
        var shown = IPAddress.TryParse(host, out var address) && address.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{host}]" : host;
        return $"http://{shown}:{port}{Path}";
    }

    /// <summary>
    /// Fails with a message naming the port and the process holding it when another process already listens there,
    /// instead of the listener's socket exception deep inside the server.
    /// </summary>
    public static void EnsurePortFree(int port) => EnsurePortFree(TtaRuntimeOptions.DefaultMetricsHost, port);

    /// <summary>Like <see cref="EnsurePortFree(int)"/>, on <paramref name="host"/>.</summary>
    /// <exception cref="TtaConfigurationException">The port is taken; the message names the process holding it.</exception>
    public static void EnsurePortFree(string host, int port)
    {
        if (port == 0) return;
        if (PortProbe.Taken(BindAddress(host), port) is { } error)
            throw new TtaConfigurationException(
                $"Metrics port {port} is already in use by {PortOwner.Describe(port) ?? "another process"}, so Prometheus metrics cannot be served at " +
                $"{Url(host, port)}. Stop that process or choose another port with --metrics-port or TTA_METRICS_PORT (0 turns metrics off).",
                error);
    }

    /// <summary>The address a host option binds: <c>localhost</c> is the IPv4 loopback (and IPv6 where there is one).</summary>
    public static IPAddress BindAddress(string host) =>
        host.Equals("localhost", StringComparison.OrdinalIgnoreCase) ? IPAddress.Loopback : IPAddress.Parse(host);

    /// <summary>Starts the Prometheus listener unless the port is 0; a taken port fails naming its holder.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (options.MetricsPort == 0) return;
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            Args = [],
            ApplicationName = "tta-metrics",
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            if (options.MetricsHost.Equals("localhost", StringComparison.OrdinalIgnoreCase)) kestrel.ListenLocalhost(options.MetricsPort);
            else kestrel.Listen(BindAddress(options.MetricsHost), options.MetricsPort);
        });
        var server = builder.Build();
        // The path alone selects the scrape: no host filtering, so every bound address answers.
        server.UseOpenTelemetryPrometheusScrapingEndpoint(meterProvider, predicate: null, path: Path, configureBranchedPipeline: null, optionsName: null);
        await server.StartAsync(cancellationToken);
        _server = server;
    }

    /// <summary>Stops the listener.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_server is { } server) await server.StopAsync(cancellationToken);
    }

    /// <summary>Stops the listener and releases it.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_server is { } server) await server.DisposeAsync();
        _server = null;
    }
}

/// <summary>Checks whether another socket listens on a port, by trying to bind it exclusively.</summary>
public static class PortProbe
{
    /// <summary>Null when <paramref name="port"/> can be bound on <paramref name="address"/>, else the bind error.</summary>
    public static SocketException? Taken(IPAddress address, int port)
    {
        try
        {
            using var probe = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            probe.ExclusiveAddressUse = true;
            probe.Bind(new IPEndPoint(address, port));
            return null;
        }
        catch (SocketException error) when (error.SocketErrorCode is SocketError.AddressAlreadyInUse or SocketError.AccessDenied)
        {
            return error;
        }
    }
}
