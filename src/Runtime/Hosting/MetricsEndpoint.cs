using System.Net;
using System.Net.Sockets;

namespace TtaActors.Runtime.Hosting;

/// <summary>The Prometheus scrape endpoint on loopback.</summary>
public static class MetricsEndpoint
{
    public static string Url(int port) => $"http://localhost:{port}/metrics";

    /// <summary>
    /// Fails with a message naming the port when another process already listens there, instead of the
    /// listener's socket exception deep inside the OpenTelemetry SDK.
    /// </summary>
    public static void EnsurePortFree(int port)
    {
        if (port == 0) return;
        try
        {
            using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            probe.ExclusiveAddressUse = true;
            probe.Bind(new IPEndPoint(IPAddress.Loopback, port));
        }
        catch (SocketException error) when (error.SocketErrorCode is SocketError.AddressAlreadyInUse or SocketError.AccessDenied)
        {
            throw new TtaConfigurationException(
                $"Metrics port {port} is already in use by {PortOwner.Describe(port) ?? "another process"}, so Prometheus metrics cannot be served at " +
                $"{Url(port)}. Stop that process or choose another port with --metrics-port or TTA_METRICS_PORT (0 turns metrics off).",
                error);
        }
    }
}
