using System.Globalization;
using System.Text;
using System.Text.Json;
using OpenTelemetry;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using TtaActors.Actors.Context;
using TtaActors.Actors.Llm;
using TtaActors.Actors.Primitives;
using TtaActors.Telemetry;
using TtaActors.Telemetry.Export.Langfuse;
using TtaActors.Telemetry.Llm;
using TtaActors.Tests.Llm;
using TtaActors.Tests.Primitives;
using TtaActors.Tests.Support;
using TtaActors.Llm.Providers;

namespace TtaActors.Tests.Langfuse;

/// <summary>A workflow run with an LLM call, exported to a local Langfuse OTel endpoint and decoded on the wire.</summary>
public class LangfuseTraceSpecs : PrimitiveSpec
{
    private const string PublicKey = "pk-lf-trace-spec";
    private const string SecretKey = "sk-lf-trace-spec-secret-987654321";
    private const string OpenAiKey = "sk-trace-spec-openai-0123456789abcdef";

    [Fact]
    public async Task Run_should_reach_langfuse_as_one_trace_with_its_fields_on_every_span_and_a_priced_generation()
    {
        using var openAi = new ScriptedHttpServer(_ => ScriptedResponse.Json("""
            {"id":"chatcmpl-7","object":"chat.completion","created":1700000000,"model":"gpt-4o-2024-08-06",
             "choices":[{"index":0,"message":{"role":"assistant","content":"Ship it behind a flag."},"finish_reason":"stop"}],
             "usage":{"prompt_tokens":800,"completion_tokens":120,"total_tokens":920}}
            """));
        using var langfuse = new ScriptedHttpServer(_ => new ScriptedResponse(200));
        var exporterOptions = new LangfuseExporterOptions { Host = new Uri(langfuse.BaseUrl), PublicKey = PublicKey, SecretKey = SecretKey };
        using var tracer = Sdk.CreateTracerProviderBuilder()
            .ConfigureResource(r => r.AddService("tta-langfuse-spec"))
            .AddTtaActorsInstrumentation()
            .AddLangfuseExporter(exporterOptions)
            .Build()!;
        var settings = new LlmSettings(LlmProviders.Create(new LlmProviderOptions { OpenAiApiKey = OpenAiKey, OpenAiBaseUrl = new Uri(openAi.BaseUrl + "/v1"), MaxRetries = 0 }),
            capture: CapturePolicy.Default.WithSecrets([SecretKey]));
        var workflow = Lambda.From<string, string>(s => $"Decide: {s} (api_key=abc123secretvalue)", "prepare")
            >> settings.Chat("openai", "gpt-4o", name: "decide");
        var context = WorkflowContext.Create(sessionId: "session-77", persona: "backend-engineer", chatMode: "feature-implementation",
            workspace: "tta-dev-copilot").WithTag("release", "r42");

        var result = await Materialize(workflow, "release-gate").RunAsync("ship v2?", context);
        Assert.True(result.Succeeded, result.Failure?.ToString());
        Assert.True(tracer.ForceFlush(30_000));

        var requests = langfuse.Requests.ToList();
        Assert.NotEmpty(requests);
        var expectedAuth = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{PublicKey}:{SecretKey}"));
        Assert.All(requests, r =>
        {
            Assert.Equal("/api/public/otel/v1/traces", r.Path);
            Assert.Equal(expectedAuth, r.Headers["Authorization"]);
            Assert.Equal("4", r.Headers["x-langfuse-ingestion-version"]);
        });
        var trace = requests.SelectMany(r => OtlpDecoder.DecodeTraces(r.Body)).Where(s => s.TraceId == result.TraceId).ToList();
        Assert.Equal(new[] { "chat gpt-4o", "primitive.SequentialPrimitive", "primitive.decide", "primitive.prepare", "workflow.release-gate" },
            trace.Select(s => s.Name).Order(StringComparer.Ordinal));
        // User, session, chat mode and tags on every span; the exporter derives the first three of primitive spans from
        // their contract attributes, so the workflow path sets each only once.
        Assert.All(trace, span =>
        {
            Assert.Equal("backend-engineer", span.Attributes["langfuse.user.id"]);
            Assert.Equal("session-77", span.Attributes["langfuse.session.id"]);
            Assert.Equal("feature-implementation", span.Attributes["langfuse.trace.metadata.chatmode"]);
            Assert.Equal(new List<object?> { "release:r42" }, span.Attributes["langfuse.trace.tags"]);
            Assert.Equal("tta-langfuse-spec", span.Resource["service.name"]);
            Assert.Equal("release-gate", span.Attributes.GetValueOrDefault("langfuse.trace.name", "release-gate"));
        });
        var root = Assert.Single(trace, s => s.ParentSpanId == "");
        Assert.Equal("workflow.release-gate", root.Name);
        Assert.Equal("release-gate", root.Attributes["langfuse.trace.name"]);
        Assert.Equal("tta-dev-copilot", root.Attributes["langfuse.trace.metadata.workspace"]);
        var prepare = Assert.Single(trace, s => s.Name == "primitive.prepare");
        Assert.Equal("backend-engineer", prepare.Attributes["persona"]);

        var generation = Assert.Single(trace, s => s.Name == "chat gpt-4o");
        Assert.Equal(3, generation.Kind);
        Assert.Equal("generation", generation.Attributes["langfuse.observation.type"]);
        Assert.Equal("gpt-4o", generation.Attributes["gen_ai.request.model"]);
        Assert.Equal("gpt-4o-2024-08-06", generation.Attributes["gen_ai.response.model"]);
        Assert.Equal(800L, generation.Attributes["gen_ai.usage.input_tokens"]);
        Assert.Equal(120L, generation.Attributes["gen_ai.usage.output_tokens"]);
        // gpt-4o: $2.50/M input, $10/M output.
        var cost = (800 * 2.50 + 120 * 10.0) / 1_000_000;
        Assert.Equal(cost, (double)generation.Attributes["gen_ai.usage.cost"]!, 12);
        var costDetails = JsonDocument.Parse((string)generation.Attributes["langfuse.observation.cost_details"]!).RootElement;
        Assert.Equal(cost, costDetails.GetProperty("total").GetDouble(), 12);
        Assert.Equal(800 * 2.50 / 1_000_000, costDetails.GetProperty("input").GetDouble(), 12);
        Assert.Equal(120 * 10.0 / 1_000_000, costDetails.GetProperty("output").GetDouble(), 12);
        var input = (string)generation.Attributes["langfuse.observation.input"]!;
        Assert.Contains("Decide: ship v2?", input);
        Assert.Contains("api_key=" + CapturePolicy.Redacted, JsonDocument.Parse(input).RootElement[0].GetProperty("content").GetString());
        Assert.DoesNotContain("abc123secretvalue", input);
        Assert.Equal("Ship it behind a flag.", generation.Attributes["langfuse.observation.output"]);
        var decide = Assert.Single(trace, s => s.Name == "primitive.decide");
        Assert.Equal(decide.SpanId, generation.ParentSpanId);

        foreach (var span in trace)
        {
            foreach (var value in span.Attributes.Values.Concat(span.Resource.Values))
            {
                var text = Convert.ToString(value is List<object?> list ? string.Join(",", list) : value, CultureInfo.InvariantCulture) ?? "";
                Assert.DoesNotContain(SecretKey, text);
                Assert.DoesNotContain(OpenAiKey, text);
            }
        }
        Assert.All(requests, r => Assert.DoesNotContain(SecretKey, Encoding.UTF8.GetString(r.Body)));
    }

    [Fact]
    public async Task Langfuse_style_api_should_map_trace_and_generation_onto_the_same_spans()
    {
        using var recorder = new SpanRecorder();
        var tracing = new LangfuseTracing(CostCatalog.Default, CapturePolicy.Default, serviceName: "tta-api-spec");

        var trace = tracing.StartTrace("nightly-eval", persona: "qa-engineer", chatMode: "review", sessionId: "s-9", tags: ["eval"], input: "run the suite");
        var started = DateTimeOffset.UtcNow;
        var cost = trace.CreateGeneration(new GenerationReport
        {
            Model = "gpt-4o",
            Provider = "openai",
            Prompt = "Grade this answer",
            Completion = "8/10",
            InputTokens = 1000,
            OutputTokens = 500,
            FinishReason = "stop",
            Metadata = new Dictionary<string, string> { ["suite"] = "smoke", ["grader_key"] = "key sk-proj-0123456789abcdefXYZ in use" },
            StartTime = started,
            EndTime = started.AddMilliseconds(1500),
        });
        trace.End("graded");
        await Task.CompletedTask;

        Assert.Equal((1000 * 2.50m + 500 * 10m) / 1_000_000m, cost!.Total);
        var spans = recorder.ForTrace(trace.TraceId);
        var root = SpanTree.Single(spans, "workflow.nightly-eval");
        var generation = SpanTree.Single(spans, "chat gpt-4o");
        Assert.Equal(root.SpanId, generation.ParentSpanId);
        Assert.Equal(1.5, generation.Duration.TotalSeconds, 3);
        foreach (var span in new[] { root, generation })
        {
            Assert.Equal("nightly-eval", span.GetTagItem("langfuse.trace.name"));
            Assert.Equal("qa-engineer", span.GetTagItem("langfuse.user.id"));
            Assert.Equal("s-9", span.GetTagItem("langfuse.session.id"));
            Assert.Equal("review", span.GetTagItem("langfuse.trace.metadata.chatmode"));
            Assert.Equal(["eval"], (string[])span.GetTagItem("langfuse.trace.tags")!);
        }
        // The generation's type and content are named for Langfuse by its exporter, as for workflow runs.
        var generationReceived = LangfuseView.Attributes(generation);
        Assert.Equal("generation", generationReceived["langfuse.observation.type"]);
        Assert.Equal("Grade this answer", generationReceived["langfuse.observation.input"]);
        Assert.Equal("8/10", generationReceived["langfuse.observation.output"]);
        Assert.Equal("smoke", generation.GetTagItem("langfuse.observation.metadata.suite"));
        // Metadata values pass the same redaction as prompts: a key pasted into one never reaches Langfuse.
        Assert.Equal($"key {CapturePolicy.Redacted} in use", generation.GetTagItem("langfuse.observation.metadata.grader_key"));
        Assert.Equal((double)cost.Total, (double)generation.GetTagItem("gen_ai.usage.cost")!, 12);
        Assert.Equal("graded", root.GetTagItem("langfuse.observation.output"));
        Assert.Throws<InvalidOperationException>(() => trace.CreateGeneration(new GenerationReport { Model = "gpt-4o" }));
    }
}
