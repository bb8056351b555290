using System.Collections.Concurrent;
using Akka.Actor;
using Akka.Event;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Logs;
using OpenTelemetry.Trace;
using TtaActors.Actors.Primitives;
using TtaActors.Runtime.Hosting;

namespace TtaActors.Tests.TelemetryPipeline;

/// <summary>
/// Log records written while a step processes its envelope carry that step's trace id and span id, whether they are
/// written through Microsoft.Extensions.Logging or through Akka's logging (which is routed to it).
/// </summary>
public class LogCorrelationSpecs
{
    private sealed record CapturedLog(string Message, string TraceId, string SpanId);

    private sealed class LogCapture : BaseProcessor<LogRecord>
    {
        public ConcurrentQueue<CapturedLog> Records { get; } = new();

        public override void OnEnd(LogRecord data) =>
            Records.Enqueue(new CapturedLog(data.FormattedMessage ?? data.Body ?? "", data.TraceId.ToHexString(), data.SpanId.ToHexString()));
    }

    [Fact]
    public async Task Logs_written_inside_a_step_should_carry_the_step_span_ids()
    {
        var capture = new LogCapture();
        var spans = new List<System.Diagnostics.Activity>();
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.SetMinimumLevel(Microsoft.Extensions.Logging.LogLevel.Warning);
        builder.Services.AddTtaActors(new TtaRuntimeOptions { ServiceName = "tta-log-spec", MetricsPort = 0 },
            tracing => tracing.AddInMemoryExporter(spans));
        builder.Services.ConfigureOpenTelemetryLoggerProvider(logs => logs.AddProcessor(capture));
        using var host = builder.Build();
        await host.StartAsync();
        var logger = host.Services.GetRequiredService<ILoggerFactory>().CreateLogger("spec");
        var system = host.Services.GetRequiredService<ActorSystem>();
        var marker = Guid.NewGuid().ToString("N");

        var workflow = Lambda.From<int, int>(x =>
        {
            logger.LogWarning("through ILogger {Marker}", marker);
            return x;
        }, "log-mel") >> Lambda.From<int, int>(x =>
        {
            system.Log.Warning("through Akka {0}", marker);
            return x;
        }, "log-akka");
        var result = await host.Services.GetRequiredService<TtaRuntime>().Materialize(workflow, "logs").RunAsync(1);
        Assert.True(result.Succeeded);

        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (capture.Records.Count(r => r.Message.Contains(marker)) < 2 && DateTime.UtcNow < deadline) await Task.Delay(50);
        await host.StopAsync();

        var melSpan = spans.Single(s => s.DisplayName == "primitive.log-mel");
        var akkaSpan = spans.Single(s => s.DisplayName == "primitive.log-akka");
        var mel = Assert.Single(capture.Records, r => r.Message == $"through ILogger {marker}");
        var akka = Assert.Single(capture.Records, r => r.Message.Contains($"through Akka {marker}"));
        Assert.Equal((result.TraceId, melSpan.SpanId.ToHexString()), (mel.TraceId, mel.SpanId));
        Assert.Equal((result.TraceId, akkaSpan.SpanId.ToHexString()), (akka.TraceId, akka.SpanId));
    }
}
