using System.Diagnostics;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using TtaActors.Actors.Context;
using TtaActors.Actors.Primitives;
using TtaActors.Telemetry;
using TtaActors.Telemetry.Export;
using TtaActors.Tests.Primitives;
using Pipeline = TtaActors.Telemetry.Export.TelemetryPipeline;

namespace TtaActors.Tests.TelemetryPipeline;

/// <summary>
/// Workflows traced through the telemetry actor into the standard OTLP exporter, received by a loopback collector
/// that fails in the ways real ones do.
/// </summary>
public class OtlpPipelineSpecs : PrimitiveSpec
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private static readonly TelemetryPipelineOptions FastRetry = new()
    {
        MaxExportBatchSize = 64,
        ScheduledDelay = TimeSpan.FromMilliseconds(100),
        InitialRetryBackoff = TimeSpan.FromMilliseconds(50),
        MaxRetryBackoff = TimeSpan.FromMilliseconds(200),
    };

    private (Pipeline Pipeline, TracerProvider Tracer) Traced(OtlpReceiver receiver, int timeoutMs = 10_000) =>
        Traced(receiver.Endpoint, receiver.Grpc, timeoutMs);

    private (Pipeline Pipeline, TracerProvider Tracer) Traced(string endpoint, bool grpc, int timeoutMs)
    {
        var otlp = new OtlpSettings
        {
            Endpoint = new Uri(endpoint),
            Protocol = grpc ? OtlpExportProtocol.Grpc : OtlpExportProtocol.HttpProtobuf,
            TimeoutMilliseconds = timeoutMs,
        };
        var pipeline = new Pipeline([otlp.CreateTraceExporter()], FastRetry,
            ResourceBuilder.CreateEmpty().AddService("tta-otlp-pipeline"), "tta-otlp-pipeline");
        pipeline.Start(Sys);
        var tracer = Sdk.CreateTracerProviderBuilder().AddTtaActorsInstrumentation().AddProcessor(pipeline.Processor).Build();
        return (pipeline, tracer);
    }

    private static Primitive Workflow() =>
        Lambda.From<int, int>(x => x + 1, "inc") >> (Lambda.From<int, int>(x => x, "left") | Lambda.From<int, int>(x => x, "right"));

    // A run of Workflow() is 6 spans: the workflow root, the Sequential, inc, the Parallel and its two branches.
    private const int SpansPerRun = 6;

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Runs_should_arrive_as_one_tree_per_run_with_contract_names(bool grpc)
    {
        await using var receiver = await OtlpReceiver.StartAsync(grpc);
        var (pipeline, tracer) = Traced(receiver);
        using var _ = pipeline;
        using var __ = tracer;
        var graph = Materialize(Workflow());

        var runs = new List<string>();
        for (var i = 0; i < 3; i++)
            runs.Add((await graph.RunAsync(i, WorkflowContext.Create(persona: "backend-engineer", chatMode: "feature-implementation"))).TraceId!);
        Assert.True(await pipeline.FlushAsync(Patience));

        var spans = receiver.Spans.ToList();
        Assert.Equal(3 * SpansPerRun, spans.Count);
        Assert.Equal(spans.Count, spans.Select(s => s.SpanId).Distinct().Count());
        Assert.Equal(runs.ToHashSet(), spans.Select(s => s.TraceId).ToHashSet());
        foreach (var trace in spans.GroupBy(s => s.TraceId))
        {
            var ids = trace.Select(s => s.SpanId).ToHashSet();
            var root = Assert.Single(trace, s => s.ParentSpanId == "");
            Assert.Equal("workflow.spec", root.Name);
            Assert.All(trace.Where(s => s != root), s => Assert.Contains(s.ParentSpanId, ids));
            foreach (var span in trace.Where(s => s.Name.StartsWith(TelemetryNames.Spans.PrimitivePrefix)))
            {
                Assert.Equal(span.Name[TelemetryNames.Spans.PrimitivePrefix.Length..], span.Attributes[TelemetryNames.Attributes.PrimitiveName]);
                Assert.Equal("success", span.Attributes[TelemetryNames.Attributes.PrimitiveStatus]);
                Assert.Equal("backend-engineer", span.Attributes[TelemetryNames.Attributes.Persona]);
                Assert.Equal("feature-implementation", span.Attributes[TelemetryNames.Attributes.ChatMode]);
            }
        }
        Assert.All(spans, s => Assert.Equal("tta-otlp-pipeline", s.Resource["service.name"]));
        Assert.Equal(3 * SpansPerRun, pipeline.Statistics()["otlp"].Exported);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_collector_answering_unavailable_should_get_every_span_once_it_recovers(bool grpc)
    {
        await using var receiver = await OtlpReceiver.StartAsync(grpc);
        receiver.AnswerUnavailable(3);
        var (pipeline, tracer) = Traced(receiver);
        using var _ = pipeline;
        using var __ = tracer;
        var graph = Materialize(Workflow());

        for (var i = 0; i < 5; i++) Assert.True((await graph.RunAsync(i)).Succeeded);
        Assert.True(await pipeline.FlushAsync(Patience));

        Assert.True(receiver.RejectedRequests >= 3);
        var spans = receiver.Spans.ToList();
        Assert.Equal(5 * SpansPerRun, spans.Count);
        Assert.Equal(spans.Count, spans.Select(s => s.SpanId).Distinct().Count());
        Assert.True(pipeline.Statistics()["otlp"].Retries >= 1);
        Assert.Equal(0, pipeline.Statistics()["otlp"].DroppedTotal);
    }

    [Fact]
    public async Task A_collector_that_is_down_should_get_every_span_once_it_is_up()
    {
        var port = Support.FreePort.Next();
        // Nothing listens on the port yet: every export is refused until the collector starts.
        var (pipeline, tracer) = Traced($"http://127.0.0.1:{port}", grpc: false, timeoutMs: 2_000);
        using var _ = pipeline;
        using var __ = tracer;
        var graph = Materialize(Workflow());

        for (var i = 0; i < 4; i++) Assert.True((await graph.RunAsync(i)).Succeeded);
        AwaitCondition(() => pipeline.Statistics()["otlp"].Retries >= 2, Patience);

        await using var receiver = await OtlpReceiver.StartAsync(grpc: false, port);
        Assert.True(await pipeline.FlushAsync(Patience));

        Assert.Equal(4 * SpansPerRun, receiver.Spans.Select(s => s.SpanId).Distinct().Count());
        Assert.Equal(4 * SpansPerRun, receiver.Spans.Count);
    }

    [Fact]
    public async Task Workflows_should_finish_while_the_collector_hangs_and_their_spans_arrive_after()
    {
        await using var receiver = await OtlpReceiver.StartAsync(grpc: false);
        receiver.Hang();
        var (pipeline, tracer) = Traced(receiver, timeoutMs: 120_000);
        using var _ = pipeline;
        using var __ = tracer;
        var graph = Materialize(Workflow());

        Assert.True((await graph.RunAsync(0)).Succeeded);
        Assert.True(receiver.Hanging.Wait(Patience), "the exporter never reached the collector");
        // The exporter is stuck inside a request; runs still complete, because export is off the workflow path.
        for (var i = 1; i < 20; i++) Assert.True((await graph.RunAsync(i)).Succeeded);
        Assert.True(receiver.Hanging.IsSet);
        Assert.Empty(receiver.Spans);

        receiver.Release();
        Assert.True(await pipeline.FlushAsync(Patience));
        Assert.Equal(20 * SpansPerRun, receiver.Spans.Select(s => s.SpanId).Distinct().Count());
    }
}
