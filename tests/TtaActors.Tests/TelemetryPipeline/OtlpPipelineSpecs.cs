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
        // These collectors come back; until then every batch is kept.
        MaxExportAttempts = null,
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

    /// <summary>
    /// The received spans of these runs only: the tracer listens to the process-wide TtaActors source, so runs of
    /// specs running alongside are exported too.
    /// </summary>
    private static List<Support.OtlpSpan> Of(OtlpReceiver receiver, IEnumerable<string?> traceIds)
    {
        var mine = traceIds.ToHashSet();
        return receiver.Spans.Where(s => mine.Contains(s.TraceId)).ToList();
    }

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

        var spans = Of(receiver, runs);
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
        Assert.True(pipeline.Statistics()["otlp"].Exported >= 3 * SpansPerRun);
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

        var runs = new List<string?>();
        for (var i = 0; i < 5; i++) runs.Add((await graph.RunAsync(i)).TraceId);
        Assert.True(await pipeline.FlushAsync(Patience));

        Assert.True(receiver.RejectedRequests >= 3);
        var spans = Of(receiver, runs);
        Assert.Equal(5 * SpansPerRun, spans.Count);
        Assert.Equal(spans.Count, spans.Select(s => s.SpanId).Distinct().Count());
        Assert.True(pipeline.Statistics()["otlp"].Retries >= 1);
        Assert.Equal(0, pipeline.Statistics()["otlp"].DroppedTotal);
    }

    [Fact]
    public async Task A_collector_that_is_down_should_get_every_span_once_it_is_up()
    {
        // The port is bound but not listening: every export is refused, and no other spec can take the port.
        var reserved = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        reserved.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
        var port = ((System.Net.IPEndPoint)reserved.LocalEndPoint!).Port;
        var (pipeline, tracer) = Traced($"http://127.0.0.1:{port}", grpc: false, timeoutMs: 2_000);
        using var _ = pipeline;
        using var __ = tracer;
        var graph = Materialize(Workflow());

        var runs = new List<string?>();
        for (var i = 0; i < 4; i++) runs.Add((await graph.RunAsync(i)).TraceId);
        AwaitCondition(() => pipeline.Statistics()["otlp"].Retries >= 2, Patience);

        reserved.Dispose();
        await using var receiver = await OtlpReceiver.StartAsync(grpc: false, port);
        Assert.True(await pipeline.FlushAsync(Patience));

        var spans = Of(receiver, runs);
        Assert.Equal(4 * SpansPerRun, spans.Select(s => s.SpanId).Distinct().Count());
        Assert.Equal(4 * SpansPerRun, spans.Count);
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

        var runs = new List<string?> { (await graph.RunAsync(0)).TraceId };
        Assert.True(receiver.Hanging.Wait(Patience), "the exporter never reached the collector");
        // The exporter is stuck inside a request; runs still complete, because export is off the workflow path.
        for (var i = 1; i < 20; i++)
        {
            var run = await graph.RunAsync(i);
            Assert.True(run.Succeeded);
            runs.Add(run.TraceId);
        }
        Assert.True(receiver.Hanging.IsSet);
        Assert.Empty(receiver.Spans);

        receiver.Release();
        Assert.True(await pipeline.FlushAsync(Patience));
        var spans = Of(receiver, runs);
        Assert.Equal(20 * SpansPerRun, spans.Count);
        Assert.Equal(20 * SpansPerRun, spans.Select(s => s.SpanId).Distinct().Count());
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_collector_that_keeps_answering_unavailable_should_be_logged_with_its_endpoint_and_cause_and_its_batches_dropped_after_the_last_attempt(bool grpc)
    {
        await using var receiver = await OtlpReceiver.StartAsync(grpc);
        receiver.AnswerUnavailable(int.MaxValue);
        var otlp = new OtlpSettings
        {
            Endpoint = new Uri(receiver.Endpoint), Protocol = grpc ? OtlpExportProtocol.Grpc : OtlpExportProtocol.HttpProtobuf,
            Headers = "authorization=Basic c2VjcmV0LXRva2Vu",
        };
        using var pipeline = new Pipeline([otlp.CreateTraceExporter()], FastRetry with { MaxExportAttempts = 2 });
        pipeline.Start(Sys);
        var warnings = CreateTestProbe();
        Sys.EventStream.Subscribe(warnings.Ref, typeof(Akka.Event.Warning));

        for (var i = 0; i < 10; i++)
        {
            var span = new Activity($"s{i}") { ActivityTraceFlags = ActivityTraceFlags.Recorded };
            span.SetIdFormat(ActivityIdFormat.W3C);
            span.Start();
            span.Stop();
            pipeline.Processor.OnEnd(span);
        }

        var endpoint = grpc ? $"{receiver.Endpoint}/" : $"{receiver.Endpoint}/v1/traces";
        var logged = warnings.FishForMessage<Akka.Event.Warning>(w => w.Message.ToString()!.Contains("Export of"), Patience).Message.ToString()!;
        Assert.Contains($"'otlp' ({endpoint})", logged);
        Assert.Contains(grpc ? "Unavailable" : "503", logged);
        Assert.DoesNotContain("c2VjcmV0LXRva2Vu", logged);
        AwaitCondition(() => pipeline.Statistics()["otlp"].Dropped[DropReasons.RetriesExhausted] == 10, Patience);

        var report = await pipeline.ShutdownAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(0, report["otlp"].Exported);
        Assert.Equal(10, report["otlp"].DroppedTotal);
        Assert.Empty(receiver.Spans);
        Assert.True(receiver.RejectedRequests >= 2);
    }
}
