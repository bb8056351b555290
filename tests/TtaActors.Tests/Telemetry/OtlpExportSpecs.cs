using System.Diagnostics;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using TtaActors.Actors.Context;
using TtaActors.Actors.Primitives;
using TtaActors.Telemetry;
using TtaActors.Tests.Primitives;
using TtaActors.Tests.Support;

namespace TtaActors.Tests.Telemetry;

/// <summary>
/// The spans of a run leave the process over OTLP/HTTP as one tree with the contract names, decoded by the
/// test's own wire decoder.
/// </summary>
public class OtlpExportSpecs : PrimitiveSpec
{
    [Fact]
    public async Task A_run_exported_over_otlp_http_should_decode_as_one_tree_with_contract_attributes()
    {
        using var collector = new CapturingHttpServer();
        using var tracer = Sdk.CreateTracerProviderBuilder()
            .SetResourceBuilder(ResourceBuilder.CreateEmpty().AddService("tta-otlp-spec"))
            .AddTtaActorsInstrumentation()
            .AddOtlpExporter(o =>
            {
                o.Endpoint = new Uri($"{collector.BaseUrl}/v1/traces");
                o.Protocol = OtlpExportProtocol.HttpProtobuf;
                o.ExportProcessorType = ExportProcessorType.Simple;
            })
            .Build();
        var workflow = Lambda.From<int, int>(x => x + 1, "inc") >> (Lambda.From<int, int>(x => x, "left") | Lambda.From<int, int>(x => x, "right"));

        var result = await Run(workflow, 1, WorkflowContext.Create(persona: "frontend-dev", chatMode: "review"));
        tracer.ForceFlush();

        var spans = collector.Requests.Where(r => r.Path == "/v1/traces")
            .SelectMany(r => OtlpDecoder.DecodeTraces(r.Body))
            .Where(s => s.TraceId == result.TraceId)
            .ToList();
        Assert.Equal(6, spans.Count);
        var ids = spans.Select(s => s.SpanId).ToHashSet();
        Assert.Single(spans, s => s.ParentSpanId == "");
        Assert.All(spans.Where(s => s.ParentSpanId != ""), s => Assert.Contains(s.ParentSpanId, ids));
        Assert.All(spans, s => Assert.Equal("tta-otlp-spec", s.Resource["service.name"]));
        Assert.All(spans, s => Assert.Equal(TelemetryNames.SourceName, s.ScopeName));

        var left = Assert.Single(spans, s => s.Name == "primitive.left");
        Assert.Equal("frontend-dev", left.Attributes["persona"]);
        Assert.Equal("review", left.Attributes["chatmode"]);
        Assert.Equal(0L, left.Attributes["branch.index"]);
        Assert.Equal("success", left.Attributes["primitive.status"]);
        var parallel = Assert.Single(spans, s => s.Name == "primitive.ParallelPrimitive");
        Assert.Equal(parallel.SpanId, left.ParentSpanId);
        Assert.True(left.EndUnixNano >= left.StartUnixNano);
    }
}
