using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using TtaActors.Telemetry;

namespace TtaActors.Tests.TelemetryPipeline;

/// <summary>The real <c>tta demo</c> process: it runs one workflow and exits at once, and every span reaches the collector.</summary>
public class ShutdownFlushSpecs
{
    private static readonly string Tta = Path.Combine(AppContext.BaseDirectory, "tta.dll");

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_process_that_exits_right_after_its_run_should_have_exported_every_span(bool grpc)
    {
        await using var receiver = await OtlpReceiver.StartAsync(grpc);
        // The demo keeps its session journal in the working directory.
        var workDirectory = Directory.CreateTempSubdirectory("tta-flush-");
        var info = new ProcessStartInfo("dotnet", $"\"{Tta}\" demo --metrics-port 0")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            WorkingDirectory = workDirectory.FullName,
        };
        info.Environment["OTEL_EXPORTER_OTLP_ENDPOINT"] = receiver.Endpoint;
        info.Environment["OTEL_EXPORTER_OTLP_PROTOCOL"] = grpc ? "grpc" : "http/protobuf";
        info.Environment["TTA_SERVICE_NAME"] = "tta-flush-spec";
        info.Environment.Remove("OTEL_SERVICE_NAME");
        using var process = Process.Start(info)!;
        var stdout = await process.StandardOutput.ReadToEndAsync();
        var stderr = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(120));
        workDirectory.Delete(recursive: true);
        Assert.True(process.ExitCode == 0, stderr);

        // The demo prints one span tree per run, one line per span, each headed by its trace id.
        var printed = new Dictionary<string, int>();
        string? current = null;
        foreach (var line in stdout.Split('\n'))
        {
            var header = Regex.Match(line, @"Span tree \(trace ([0-9a-f]{32})\)");
            if (header.Success) printed[current = header.Groups[1].Value] = 0;
            else if (current is not null && (line.StartsWith("workflow.") || line.Contains("─ "))) printed[current]++;
            else current = null;
        }
        Assert.NotEmpty(printed);
        var spans = receiver.Spans.ToList();
        Assert.Equal(spans.Count, spans.Select(s => s.SpanId).Distinct().Count());
        Assert.Equal(printed.Keys.Order(), spans.Select(s => s.TraceId).Distinct().Order());
        foreach (var trace in spans.GroupBy(s => s.TraceId))
        {
            Assert.Equal(printed[trace.Key], trace.Count());
            var ids = trace.Select(s => s.SpanId).ToHashSet();
            var root = Assert.Single(trace, s => s.ParentSpanId == "");
            Assert.Equal("workflow.dev-copilot-demo", root.Name);
            Assert.All(trace.Where(s => s != root), s => Assert.Contains(s.ParentSpanId, ids));
            Assert.Equal(3, trace.Count(s => s.Name.StartsWith(TelemetryNames.Spans.RetryAttemptPrefix)));
        }
        Assert.All(spans, s => Assert.Equal("tta-flush-spec", s.Resource["service.name"]));
        Assert.All(spans, s => Assert.True(s.Resource.ContainsKey("service.instance.id")));

        // Metrics go over OTLP too, and the last collection is exported as the process stops.
        var metricsPath = grpc ? "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export" : "/v1/metrics";
        var metrics = receiver.OtherRequests.Where(r => r.Path == metricsPath).Select(r => Encoding.UTF8.GetString(r.Body)).ToList();
        Assert.Contains(metrics, body => body.Contains("primitive_executions_total") && body.Contains("tta-flush-spec"));
    }
}
