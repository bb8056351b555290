using System.Text.Json.Nodes;
using OpenTelemetry;
using OpenTelemetry.Trace;
using TtaActors.Actors.Context;
using TtaActors.Actors.Execution;
using TtaActors.Actors.Llm;
using TtaActors.Actors.Llm.Prompts;
using TtaActors.Actors.Primitives;
using TtaActors.Runtime.Workflows;
using TtaActors.Telemetry;
using TtaActors.Telemetry.Export.Langfuse;
using TtaActors.Telemetry.Llm;
using TtaActors.Tests.Llm;
using TtaActors.Tests.Primitives;
using TtaActors.Tests.Support;
using TtaActors.Llm.Providers;

namespace TtaActors.Tests.Langfuse;

/// <summary>
/// A workflow file whose llm step takes its prompt from Langfuse, run against one loopback Langfuse that serves both the
/// prompt API and the OTel endpoint: the generation is linked to the prompt version, the trace carries the run's input and output.
/// </summary>
public class LangfusePromptTraceSpecs : PrimitiveSpec
{
    private const string PublicKey = "pk-lf-prompt-trace";
    private const string SecretKey = "sk-lf-prompt-trace-secret-13579";

    private readonly SpanRecorder _spans = new();

    [Fact]
    public async Task Generation_should_name_the_prompt_version_and_the_root_span_carry_the_runs_input_and_output()
    {
        using var langfuse = new ScriptedHttpServer(request => request.Path.StartsWith("/api/public/v2/prompts/", StringComparison.Ordinal)
            ? ScriptedResponse.Json(LangfusePromptSpecs.TextPrompt("release-notes", 4, "Write release notes for {{change}}."))
            : new ScriptedResponse(200));
        var exporter = new LangfuseExporterOptions { Host = new Uri(langfuse.BaseUrl), PublicKey = PublicKey, SecretKey = SecretKey };
        using var tracer = Sdk.CreateTracerProviderBuilder().AddTtaActorsInstrumentation().AddLangfuseExporter(exporter).Build()!;
        using var settings = new LlmSettings(LlmProviders.Create(), capture: CapturePolicy.Default.WithSecrets([SecretKey]))
        {
            Prompts = new LangfusePrompts(LangfusePromptOptions.From(exporter)),
        };
        var (document, problems) = WorkflowFileParser.Parse("""
            - name: notes
              llm: {provider: offline, prompt: {langfuse: release-notes, label: production, fallback: "Notes for {{change}}"}, max_tokens: 12}
            """, "notes.yaml", "notes");
        Assert.Empty(problems);
        var services = new WorkflowStepServices(new HttpClient(), _ => null,
            (definition, name) => WorkflowGraph.Materialize(Sys, definition, name)) { Llm = new LlmFileSteps(settings) };
        var graph = WorkflowGraph.Materialize(Sys, WorkflowFileBuilder.Build(document!, services), "notes",
            new WorkflowGraphOptions { TraceContent = settings.Capture });

        var result = await graph.RunAsync(JsonNode.Parse("""{"change":"orders API v2","note":"api_key=abcdef123456"}"""),
            WorkflowContext.Create(sessionId: "session-9", persona: "writer"), new RunOptions { Timeout = TimeSpan.FromSeconds(30) });
        Assert.True(result.Succeeded, result.Failure?.ToString());
        Assert.True(tracer.ForceFlush(30_000));

        var trace = langfuse.Requests.Where(r => r.Path == "/api/public/otel/v1/traces")
            .SelectMany(r => OtlpDecoder.DecodeTraces(r.Body)).Where(s => s.TraceId == result.TraceId).ToList();
        var generation = Assert.Single(trace, s => s.Name == "chat tta-offline");
        Assert.Equal("release-notes", generation.Attributes["langfuse.observation.prompt.name"]);
        Assert.Equal(4L, generation.Attributes["langfuse.observation.prompt.version"]);
        Assert.Contains("Write release notes for orders API v2.", (string)generation.Attributes["langfuse.observation.input"]!);

        var root = Assert.Single(trace, s => s.Name == "workflow.notes");
        Assert.Equal("""{"change":"orders API v2","note":"api_key=[REDACTED]"}""", root.Attributes["langfuse.trace.input"]);
        Assert.Equal(((JsonNode)result.Output!).GetValue<string>(), root.Attributes["langfuse.trace.output"]);
        Assert.Equal("writer", root.Attributes["user.id"]);
        Assert.Equal("session-9", root.Attributes["session.id"]);
        Assert.Equal("writer", root.Attributes["langfuse.user.id"]);
        Assert.False(generation.Attributes.ContainsKey("user.id"));
        Assert.All(langfuse.Requests, r => Assert.DoesNotContain(SecretKey, r.Text));
    }

    [Fact]
    public async Task Run_content_should_be_truncated_by_the_policy_and_absent_when_capture_is_off()
    {
        var step = Lambda.From<string, string>(s => s.ToUpperInvariant(), "shout");
        var truncating = WorkflowGraph.Materialize(Sys, step, "shout-short", new WorkflowGraphOptions { TraceContent = CapturePolicy.Default with { MaxChars = 5 } });
        var quiet = WorkflowGraph.Materialize(Sys, step, "shout-quiet", new WorkflowGraphOptions { TraceContent = CapturePolicy.Default with { Enabled = false } });

        var shortRun = await truncating.RunAsync("hello world", WorkflowContext.Create());
        var quietRun = await quiet.RunAsync("hello world", WorkflowContext.Create());

        var shortRoot = SpanTree.Single(_spans.ForTrace(shortRun.TraceId), "workflow.shout-short");
        var shortReceived = LangfuseView.Attributes(shortRoot);
        Assert.Equal("hello...[truncated 6 chars]", shortReceived["langfuse.trace.input"]);
        Assert.Equal("HELLO...[truncated 6 chars]", shortReceived["langfuse.trace.output"]);
        var quietRoot = SpanTree.Single(_spans.ForTrace(quietRun.TraceId), "workflow.shout-quiet");
        var quietReceived = LangfuseView.Attributes(quietRoot);
        Assert.DoesNotContain("langfuse.trace.input", quietReceived.Keys);
        Assert.DoesNotContain("langfuse.trace.output", quietReceived.Keys);
        Assert.Null(quietRoot.GetTagItem("workflow.input"));
    }

    [Fact]
    public void File_prompt_from_langfuse_should_parse_its_label_version_and_fallback()
    {
        var (document, problems) = WorkflowFileParser.Parse("""
            - llm: {model: m, prompt: {langfuse: "team/summary", version: 3, fallback: "Summarise {{input}}"}}
            """, "p.yaml", "p");

        Assert.Empty(problems);
        var spec = Assert.IsType<LlmSpec>(Assert.Single(Assert.IsType<SequenceSpec>(document!.Root).Steps));
        Assert.Null(spec.Prompt);
        Assert.Equal(("team/summary", null, 3, "Summarise {{input}}"),
            (spec.LangfusePrompt!.Name, spec.LangfusePrompt.Label, spec.LangfusePrompt.Version, spec.LangfusePrompt.Fallback));
    }

    [Theory]
    [InlineData("prompt: {langfuse: s, label: production, version: 2}", 3, 55, "a label or a version, not both")]
    [InlineData("prompt: {langfuse: s, label: Prod}", 3, 34, "lowercase letters")]
    [InlineData("prompt: {langfuse: s, version: 0}", 3, 36, "'version' must be")]
    [InlineData("prompt: {label: production}", 3, 13, "'langfuse: NAME'")]
    [InlineData("prompt: {langfuse: s, lable: x}", 3, 27, "Unknown key 'lable'")]
    [InlineData("prompt: {langfuse: s}\n    system: be brief", 4, 13, "'system:' does not go with a Langfuse prompt")]
    public void Bad_langfuse_prompts_in_a_file_should_be_problems_at_their_line_and_column(string prompt, int line, int column, string expected)
    {
        var (document, problems) = WorkflowFileParser.Parse("- llm:\n    model: m\n    " + prompt + "\n", "bad.yaml", "bad");

        Assert.Null(document);
        var problem = problems[0];
        Assert.Equal((line, column), (problem.At.Line, problem.At.Column));
        Assert.Contains(expected, problem.Message);
    }

    protected override void AfterAll()
    {
        _spans.Dispose();
        base.AfterAll();
    }
}
