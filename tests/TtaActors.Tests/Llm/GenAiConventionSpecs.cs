using System.ComponentModel;
using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.AI;
using TtaActors.Actors.Context;
using TtaActors.Actors.Llm;
using TtaActors.Telemetry;
using TtaActors.Telemetry.Llm;
using TtaActors.Tests.Agents;
using TtaActors.Tests.Primitives;
using TtaActors.Tests.Support;
using TtaActors.Llm.Providers;

namespace TtaActors.Tests.Llm;

/// <summary>
/// Which GenAI convention names the spans and metrics carry: v1.36 by default, the latest with
/// <c>OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental</c>; and the run's root span as <c>invoke_workflow</c>.
/// </summary>
public sealed class GenAiConventionSpecs : PrimitiveSpec
{
    private const string OpenAiKey = "sk-conventions-openai-0123456789abcdef";
    private readonly SpanRecorder _spans = new();
    private readonly MeasurementRecorder _metrics = new();

    [Description("Looks up an order's status by its id.")]
    private static string OrderStatus([Description("The order id")] string order) => "shipped on 2026-11-30";

    private static ScriptedResponse Answer(RecordedRequest request) =>
        request.Json.GetProperty("messages").EnumerateArray().Any(m => m.GetProperty("role").GetString() == "tool")
            ? ScriptedResponse.Json("""{"id":"done","object":"chat.completion","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"A-7 shipped."},"finish_reason":"stop"}],"usage":{"prompt_tokens":30,"completion_tokens":4,"total_tokens":34}}""")
            : AgentNode.ToolCall("c1", "call_7", "order_status", """{"order":"A-7"}""", 20, 5);

    private static LlmSettings Settings(ScriptedHttpServer server, GenAiConventions conventions, bool capture = true) => new(
        LlmProviders.Create(new LlmProviderOptions { OpenAiApiKey = OpenAiKey, OpenAiBaseUrl = new Uri(server.BaseUrl + "/v1"), MaxRetries = 0 }),
        capture: CapturePolicy.Default with { Conventions = conventions, Enabled = capture });

    private static LlmPrimitive Agent(LlmSettings settings, string agent) => settings.Chat("openai", "gpt-4o-mini", new LlmStepOptions
    {
        SystemPrompt = "You answer questions about orders.",
        Tools = [AIFunctionFactory.Create(OrderStatus, "order_status")],
        AgentName = agent,
    }, name: agent);

    [Theory]
    [InlineData(null, GenAiConventions.V1_36)]
    [InlineData("", GenAiConventions.V1_36)]
    [InlineData("http,database", GenAiConventions.V1_36)]
    [InlineData("gen_ai_latest_experimental", GenAiConventions.LatestExperimental)]
    [InlineData("http/dup, gen_ai_latest_experimental", GenAiConventions.LatestExperimental)]
    public void The_opt_in_should_be_read_from_a_comma_separated_list(string? value, GenAiConventions expected)
    {
        Assert.Equal(expected, GenAiConventionsMode.Parse(value));
        Assert.Equal(expected, LlmProviders.FromEnvironment(name => name == "OTEL_SEMCONV_STABILITY_OPT_IN" ? value : null).Capture.Conventions);
    }

    [Fact]
    public async Task Latest_conventions_should_record_the_messages_in_parts_and_the_agent_and_tool_histograms()
    {
        using var server = new ScriptedHttpServer(Answer);
        var agent = $"orders-latest-{Guid.NewGuid():N}"[..24];
        var result = await Run(Agent(Settings(server, GenAiConventions.LatestExperimental), agent), "Where is A-7?",
            WorkflowContext.Create(sessionId: "s-conv-latest"));

        Assert.True(result.Succeeded, result.Failure?.ToString());
        var trace = _spans.ForTrace(result.TraceId);
        var chats = trace.Where(s => s.DisplayName == "chat gpt-4o-mini").OrderBy(s => s.StartTimeUtc).ToList();
        Assert.Equal(2, chats.Count);
        foreach (var span in chats)
        {
            Assert.Null(span.GetTagItem("gen_ai.system"));
            Assert.Equal("openai", span.GetTagItem("gen_ai.provider.name"));
            Assert.Equal("s-conv-latest", span.GetTagItem("gen_ai.conversation.id"));
            Assert.DoesNotContain(span.Events, e => e.Name.StartsWith("gen_ai.content.", StringComparison.Ordinal));
            Assert.Equal("""[{"type":"text","content":"You answer questions about orders."}]""", span.GetTagItem("gen_ai.system_instructions"));
            // Langfuse still gets the conversation in its own shape, from the neutral content attribute.
            Assert.NotNull(span.GetTagItem("llm.input"));
            Assert.Equal(span.GetTagItem("llm.input"), LangfuseView.Attributes(span)["langfuse.observation.input"]);
        }
        var firstInput = Json(chats[0], "gen_ai.input.messages");
        Assert.Equal("""[{"role":"user","parts":[{"type":"text","content":"Where is A-7?"}]}]""", firstInput.GetRawText());
        var firstOutput = Json(chats[0], "gen_ai.output.messages")[0];
        Assert.Equal("assistant", firstOutput.GetProperty("role").GetString());
        Assert.Equal("tool_call", firstOutput.GetProperty("finish_reason").GetString());
        var call = firstOutput.GetProperty("parts").EnumerateArray().Single(p => p.GetProperty("type").GetString() == "tool_call");
        Assert.Equal("call_7", call.GetProperty("id").GetString());
        Assert.Equal("order_status", call.GetProperty("name").GetString());
        Assert.Equal("A-7", call.GetProperty("arguments").GetProperty("order").GetString());
        var secondInput = Json(chats[1], "gen_ai.input.messages").EnumerateArray().ToList();
        Assert.Equal(["user", "assistant", "tool"], secondInput.Select(m => m.GetProperty("role").GetString()));
        var response = secondInput[2].GetProperty("parts")[0];
        Assert.Equal("tool_call_response", response.GetProperty("type").GetString());
        Assert.Equal("call_7", response.GetProperty("id").GetString());
        Assert.Equal("shipped on 2026-11-30", response.GetProperty("response").GetString());
        Assert.Equal("""[{"role":"assistant","parts":[{"type":"text","content":"A-7 shipped."}],"finish_reason":"stop"}]""",
            chats[1].GetTagItem("gen_ai.output.messages"));
        var agentSpan = SpanTree.Single(trace, "invoke_agent " + agent);
        Assert.Equal("s-conv-latest", agentSpan.GetTagItem("gen_ai.conversation.id"));
        Assert.NotNull(agentSpan.GetTagItem("gen_ai.input.messages"));

        var agentDuration = Assert.Single(_metrics.For("gen_ai.invoke_agent.duration", m => Equals(m.Tags["gen_ai.agent.name"], agent)));
        Assert.Equal("gpt-4o-mini", agentDuration.Tags["gen_ai.request.model"]);
        Assert.Empty(_metrics.For("gen_ai.client.operation.duration", m => Equals(m.Tags.GetValueOrDefault("gen_ai.agent.name"), agent)));
        Assert.Contains(_metrics.For("gen_ai.execute_tool.duration", m => Equals(m.Tags["gen_ai.tool.name"], "order_status")),
            m => Equals(m.Tags["gen_ai.tool.type"], "function") && !m.Tags.ContainsKey("gen_ai.operation.name"));
    }

    [Fact]
    public async Task By_default_the_v1_36_names_should_be_emitted_and_not_the_latest_ones()
    {
        using var server = new ScriptedHttpServer(Answer);
        var agent = $"orders-v136-{Guid.NewGuid():N}"[..22];
        var result = await Run(Agent(Settings(server, GenAiConventions.V1_36), agent), "Where is A-7?", WorkflowContext.Create(sessionId: "s-conv-old"));

        Assert.True(result.Succeeded, result.Failure?.ToString());
        var trace = _spans.ForTrace(result.TraceId);
        var chat = trace.Where(s => s.DisplayName == "chat gpt-4o-mini").OrderBy(s => s.StartTimeUtc).Last();
        Assert.Equal("openai", chat.GetTagItem("gen_ai.system"));
        Assert.Equal("openai", chat.GetTagItem("gen_ai.provider.name"));
        Assert.Equal("s-conv-old", chat.GetTagItem("gen_ai.conversation.id"));
        Assert.Null(chat.GetTagItem("gen_ai.input.messages"));
        Assert.Null(chat.GetTagItem("gen_ai.output.messages"));
        Assert.Null(chat.GetTagItem("gen_ai.system_instructions"));
        var prompt = Assert.Single(chat.Events, e => e.Name == "gen_ai.content.prompt");
        Assert.Contains("You answer questions about orders.", (string)prompt.Tags.Single(t => t.Key == "gen_ai.prompt").Value!);
        var completion = Assert.Single(chat.Events, e => e.Name == "gen_ai.content.completion");
        Assert.Equal("A-7 shipped.", completion.Tags.Single(t => t.Key == "gen_ai.completion").Value);

        Assert.Single(_metrics.For("gen_ai.client.operation.duration",
            m => Equals(m.Tags.GetValueOrDefault("gen_ai.agent.name"), agent) && Equals(m.Tags["gen_ai.operation.name"], "invoke_agent")));
        Assert.Empty(_metrics.For("gen_ai.invoke_agent.duration", m => Equals(m.Tags["gen_ai.agent.name"], agent)));
    }

    [Fact]
    public async Task No_span_of_an_agent_run_should_carry_a_langfuse_name_which_its_exporter_adds_in_either_mode()
    {
        using var server = new ScriptedHttpServer(Answer);
        foreach (var conventions in new[] { GenAiConventions.V1_36, GenAiConventions.LatestExperimental })
        {
            var agent = $"orders-lf-{conventions}";
            var result = await Run(Agent(Settings(server, conventions), agent), "Where is A-7?",
                WorkflowContext.Create(persona: "backend-engineer", sessionId: "s-lf", chatMode: "review"));

            Assert.True(result.Succeeded, result.Failure?.ToString());
            var trace = _spans.ForTrace(result.TraceId);
            Assert.Contains(trace, s => s.DisplayName == "chat gpt-4o-mini");
            LangfuseView.AssertNoLangfuseNames(trace);

            // What Langfuse gets for each observation, made by its exporter from the contract and neutral names.
            var chat = LangfuseView.Attributes(trace.Where(s => s.DisplayName == "chat gpt-4o-mini").OrderBy(s => s.StartTimeUtc).Last());
            Assert.Equal("generation", chat["langfuse.observation.type"]);
            Assert.Contains("Where is A-7?", (string)chat["langfuse.observation.input"]!);
            Assert.Equal("A-7 shipped.", chat["langfuse.observation.output"]);
            var costs = JsonDocument.Parse((string)chat["langfuse.observation.cost_details"]!).RootElement;
            Assert.Equal(costs.GetProperty("input").GetDouble() + costs.GetProperty("output").GetDouble(), costs.GetProperty("total").GetDouble(), 12);
            Assert.Equal((double)chat["gen_ai.usage.cost"]!, costs.GetProperty("total").GetDouble(), 12);
            Assert.DoesNotContain("llm.input", chat.Keys);
            Assert.DoesNotContain("llm.output", chat.Keys);
            var agentSpan = LangfuseView.Attributes(SpanTree.Single(trace, "invoke_agent " + agent));
            Assert.Equal("agent", agentSpan["langfuse.observation.type"]);
            Assert.Equal("A-7 shipped.", agentSpan["langfuse.observation.output"]);
            Assert.Equal("backend-engineer", agentSpan["langfuse.user.id"]);
            var tool = LangfuseView.Attributes(SpanTree.Single(trace, "execute_tool order_status"));
            Assert.Equal("tool", tool["langfuse.observation.type"]);
            Assert.Equal("""{"order":"A-7"}""", tool["langfuse.observation.input"]);
            Assert.Equal("shipped on 2026-11-30", tool["langfuse.observation.output"]);
            Assert.DoesNotContain("langfuse.observation.type", LangfuseView.Attributes(SpanTree.Single(trace, "workflow.spec")).Keys);
        }
    }

    [Fact]
    public async Task With_capture_off_no_content_should_be_recorded_in_either_mode()
    {
        using var server = new ScriptedHttpServer(Answer);
        foreach (var conventions in new[] { GenAiConventions.V1_36, GenAiConventions.LatestExperimental })
        {
            var result = await Run(Agent(Settings(server, conventions, capture: false), "orders-quiet"), "Where is A-7?", WorkflowContext.Create());

            Assert.True(result.Succeeded, result.Failure?.ToString());
            foreach (var span in _spans.ForTrace(result.TraceId))
            {
                Assert.DoesNotContain(span.TagObjects, t => t.Key is "gen_ai.input.messages" or "gen_ai.output.messages" or "gen_ai.system_instructions");
                Assert.DoesNotContain(span.Events, e => e.Name.StartsWith("gen_ai.content.", StringComparison.Ordinal));
                Assert.DoesNotContain(span.TagObjects, t => t.Value?.ToString()?.Contains("A-7") == true);
            }
        }
    }

    [Fact]
    public async Task The_run_root_span_should_be_an_invoke_workflow_operation()
    {
        var result = await Run(new LlmSettings(LlmProviders.Create()).Chat(LlmProviderNames.Offline, name: "echo"), "hello", WorkflowContext.Create());

        var root = SpanTree.Single(_spans.ForTrace(result.TraceId), "workflow.spec");
        Assert.Equal("invoke_workflow", root.GetTagItem("gen_ai.operation.name"));
        Assert.Equal("spec", root.GetTagItem("gen_ai.workflow.name"));
        Assert.Equal("spec", root.GetTagItem(TelemetryNames.Attributes.WorkflowName));
    }

    [Fact]
    public void A_generation_reported_as_text_should_carry_its_prompt_and_completion_in_the_selected_names()
    {
        using var parent = TtaInstrumentation.ActivitySource.StartActivity("generation-parent");
        foreach (var conventions in new[] { GenAiConventions.V1_36, GenAiConventions.LatestExperimental })
        {
            var capture = CapturePolicy.Default with { Conventions = conventions };
            var span = LlmCallTelemetry.StartChatSpan("openai", "gpt-4o", parent!.Context, conventions: conventions)!;
            LlmCallTelemetry.RecordInput(span, "Is the build green?", capture);
            LlmCallTelemetry.EndChatSpan(span, new LlmCallOutcome { Provider = "openai", RequestModel = "gpt-4o", Output = "Yes.", FinishReason = "stop" }, capture);

            Assert.Equal("Is the build green?", span.GetTagItem("llm.input"));
            Assert.Equal("Yes.", span.GetTagItem("llm.output"));
            if (conventions == GenAiConventions.LatestExperimental)
            {
                Assert.Equal("""[{"role":"user","parts":[{"type":"text","content":"Is the build green?"}]}]""", span.GetTagItem("gen_ai.input.messages"));
                Assert.Equal("""[{"role":"assistant","parts":[{"type":"text","content":"Yes."}],"finish_reason":"stop"}]""", span.GetTagItem("gen_ai.output.messages"));
                Assert.Empty(span.Events);
            }
            else
            {
                Assert.Equal("Is the build green?", Assert.Single(span.Events, e => e.Name == "gen_ai.content.prompt").Tags.Single().Value);
                Assert.Equal("Yes.", Assert.Single(span.Events, e => e.Name == "gen_ai.content.completion").Tags.Single().Value);
                Assert.Null(span.GetTagItem("gen_ai.input.messages"));
            }
        }
    }

    private static JsonElement Json(Activity span, string key) => JsonDocument.Parse((string)span.GetTagItem(key)!).RootElement;

    protected override void AfterAll()
    {
        _spans.Dispose();
        _metrics.Dispose();
        base.AfterAll();
    }
}
