using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using TtaActors.Actors.Context;
using TtaActors.Actors.Primitives;
using TtaActors.Runtime.Hosting;
using TtaActors.Telemetry;
using TtaActors.Tests.Primitives;
using TtaActors.Tests.Support;

namespace TtaActors.Tests.Telemetry;

public class PrometheusMetricsSpecs : PrimitiveSpec
{
    [Fact]
    public async Task Primitive_metrics_should_be_served_in_prometheus_text_with_all_five_labels()
    {
        var port = FreePort.Next();
        var service = $"tta-metrics-{Guid.NewGuid():N}"[..24];
        using var meters = Sdk.CreateMeterProviderBuilder()
            .AddTtaActorsInstrumentation()
            .AddPrometheusHttpListener(o =>
            {
                o.Host = "localhost";
                o.Port = port;
            })
            .Build();
        var context = WorkflowContext.Create(persona: "backend-engineer", workspace: service);
        var graph = Materialize(Lambda.From<int, int>(x => x, "echo") >> Lambda.From<int, int>(x => x == 2 ? throw new InvalidOperationException() : x, "picky"));

        await graph.RunAsync(1, context);
        await graph.RunAsync(1, context);
        await graph.RunAsync(2, context);

        using var http = new HttpClient();
        var text = await http.GetStringAsync($"http://localhost:{port}/metrics");
        var mine = text.Split('\n').Where(l => l.Contains($"service_name=\"{service}\"")).ToList();

        Assert.Contains("# TYPE primitive_executions_total counter", text);
        Assert.Contains("# TYPE primitive_execution_duration_seconds histogram", text);
        Assert.Equal(3, Value(mine, "primitive_executions_total", "echo", "success"));
        Assert.Equal(2, Value(mine, "primitive_executions_total", "picky", "success"));
        Assert.Equal(1, Value(mine, "primitive_executions_total", "picky", "error"));
        Assert.Equal(2, Value(mine, "primitive_executions_total", "SequentialPrimitive", "success"));
        Assert.Equal(3, Value(mine, "primitive_execution_duration_seconds_count", "echo", "success"));
        var line = mine.First(l => l.StartsWith("primitive_executions_total{") && l.Contains("primitive_name=\"echo\""));
        foreach (var label in new[] { "primitive_name=\"echo\"", "primitive_type=\"LambdaPrimitive\"", "status=\"success\"", "persona=\"backend-engineer\"", $"service_name=\"{service}\"" })
        {
            Assert.Contains(label, line);
        }
    }

    [Fact]
    public void A_taken_metrics_port_should_be_a_configuration_error_naming_the_port()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;

        var error = Assert.Throws<TtaConfigurationException>(() => MetricsEndpoint.EnsurePortFree(port));

        Assert.Contains($"port {port} is already in use", error.Message);
        Assert.Contains("TTA_METRICS_PORT", error.Message);
    }

    [Fact]
    public void A_malformed_metrics_port_variable_should_be_refused_naming_the_variable()
    {
        var error = Assert.Throws<TtaConfigurationException>(() =>
            TtaRuntimeOptions.FromEnvironment(key => key == "TTA_METRICS_PORT" ? "94x64" : null));
        Assert.StartsWith("TTA_METRICS_PORT: '94x64'", error.Message);
    }

    private static double Value(IEnumerable<string> lines, string metric, string primitive, string status)
    {
        var line = lines.Single(l => l.StartsWith(metric + "{") && l.Contains($"primitive_name=\"{primitive}\"") && l.Contains($"status=\"{status}\""));
        return double.Parse(Regex.Match(line, @"\}\s+(\S+)").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
    }
}
