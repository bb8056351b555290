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
        var info = new ProcessStartInfo("dotnet", $"\"{Tta}\" demo --metrics-port 0")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        info.Environment["OTEL_EXPORTER_OTLP_ENDPOINT"] = receiver.Endpoint;
        info.Environment["OTEL_EXPORTER_OTLP_PROTOCOL"] = grpc ? "grpc" : "http/protobuf";
        info.Environment["TTA_SERVICE_NAME"] = "tta-flush-spec";
        info.Environment.Remove("OTEL_SERVICE_NAME");
        using var process = Process.Start(info)!;
        var stdout = await process.StandardOutput.ReadToEndAsync();
        var stderr = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(120));
        Assert.True(process.ExitCode == 0, stderr);

        var traceId = Regex.Match(stdout, @"Span tree \(trace ([0-9a-f]{32})\)").Groups[1].Value;
        // The span tree the demo prints has one line per span of the run.
        var printed = stdout.Split('\n').SkipWhile(l => !l.StartsWith("Span tree")).Skip(1)
            .TakeWhile(l => !string.IsNullOrWhiteSpace(l)).Count();
        var spans = receiver.Spans.ToList();
        Assert.NotEmpty(spans);
        Assert.All(spans, s => Assert.Equal(traceId, s.TraceId));
        Assert.Equal(spans.Count, spans.Select(s => s.SpanId).Distinct().Count());
        Assert.Equal(printed, spans.Count);
        var ids = spans.Select(s => s.SpanId).ToHashSet();
        var root = Assert.Single(spans, s => s.ParentSpanId == "");
        Assert.Equal("workflow.dev-copilot-demo", root.Name);
        Assert.All(spans.Where(s => s != root), s => Assert.Contains(s.ParentSpanId, ids));
        Assert.Equal(3, spans.Count(s => s.Name.StartsWith(TelemetryNames.Spans.RetryAttemptPrefix)));
        Assert.All(spans, s => Assert.Equal("tta-flush-spec", s.Resource["service.name"]));
        Assert.All(spans, s => Assert.True(s.Resource.ContainsKey("service.instance.id")));

        // Metrics go over OTLP too, and the last collection is exported as the process stops.
        var metricsPath = grpc ? "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export" : "/v1/metrics";
        var metrics = receiver.OtherRequests.Where(r => r.Path == metricsPath).Select(r => Encoding.UTF8.GetString(r.Body)).ToList();
        Assert.Contains(metrics, body => body.Contains("primitive_executions_total") && body.Contains("tta-flush-spec"));
    }
}
