using System.Net;
using System.Net.Sockets;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using TtaActors.Actors.Primitives;
using TtaActors.Runtime.Hosting;
using TtaActors.Telemetry;
using Xunit;
using Xunit.Abstractions;

namespace TtaActors.Tests.Primitives;

/// <summary>The catalog's instruments as Prometheus scrapes them, through the real Prometheus HTTP listener on loopback.</summary>
public sealed class CatalogPrometheusSpecs(ITestOutputHelper output) : CatalogSpec(output)
{
    [Fact]
    public async Task Cache_and_circuit_breaker_metrics_should_be_served_under_their_contract_names()
    {
        var port = FreePort();
        using var meters = Sdk.CreateMeterProviderBuilder()
            .AddTtaActorsInstrumentation()
            .AddPrometheusHttpListener(listener =>
            {
                listener.Host = "localhost";
                listener.Port = port;
            })
            .Build();
        var cacheName = Unique("scraped-cache");
        var breakerName = Unique("scraped-breaker");
        var service = MockPrimitive.WithSideEffect((input, _) => input is "fail" ? throw new InvalidOperationException("down") : input, "svc");
        var breaker = new CircuitBreakerPrimitive(service, failureThreshold: 1, recoveryTimeout: TimeSpan.FromMinutes(1), name: breakerName);
        var graph = Materialize(new CachePrimitive(breaker, TimeSpan.FromMinutes(5), name: cacheName));

        await Within(graph.RunAsync("a"));
        await Within(graph.RunAsync("a"));
        await Within(graph.RunAsync("fail"));

        using var http = new HttpClient();
        var text = await Within(http.GetStringAsync(MetricsEndpoint.Url(port)));
        Output?.WriteLine(text);
        string Line(string metric, string name) => Assert.Single(text.Split('\n'),
            l => l.StartsWith(metric + "{", StringComparison.Ordinal) && l.Contains($"primitive_name=\"{name}\""));

        static double Value(string line) =>
            double.Parse(line[(line.LastIndexOf('}') + 1)..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);

        Assert.Equal(1, Value(Line("cache_hits_total", cacheName)));
        Assert.Equal(2, Value(Line("cache_misses_total", cacheName)));
        Assert.Contains("service_name=\"tta-dev-main\"", Line("cache_hits_total", cacheName));
        Assert.Equal((int)CircuitState.Open, Value(Line("circuit_breaker_state", breakerName)));
        var transition = Line("circuit_breaker_transitions_total", breakerName);
        Assert.Contains("from_state=\"closed\"", transition);
        Assert.Contains("to_state=\"open\"", transition);
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }
}
