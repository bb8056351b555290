using System.ComponentModel;
using System.Text.Json;
using Microsoft.Extensions.AI;
using TtaActors.Actors.Context;
using TtaActors.Actors.Llm;
using TtaActors.Tests.Llm;
using TtaActors.Tests.Primitives;
using TtaActors.Tests.Support;
using TtaActors.Llm.Providers;

namespace TtaActors.Tests.Agents;

/// <summary>LLM steps with C# tools: the Anthropic tool wire format, the iteration limit, tool failures and run budgets.</summary>
public sealed class AgentStepSpecs : PrimitiveSpec
{
    private const string OpenAiKey = "sk-agent-step-openai-0123456789abcdef";
    private const string AnthropicKey = "sk-ant-agent-step-0123456789abcdefghij";
    private readonly SpanRecorder _spans = new();

    [Description("Looks up an order's status by its id.")]
    private static string OrderStatus([Description("The order id")] string order) =>
        order == "A-7" ? "shipped on 2026-11-30" : throw new InvalidOperationException($"no order {order}");

    private static LlmSettings OpenAi(ScriptedHttpServer server, LlmBudget? budget = null) =>
        new(LlmProviders.Create(new LlmProviderOptions { OpenAiApiKey = OpenAiKey, OpenAiBaseUrl = new Uri(server.BaseUrl + "/v1"), MaxRetries = 0 }), budget: budget);

    [Fact]
    public async Task Anthropic_agent_should_send_tool_use_results_back_as_tool_result_blocks()
    {
        using var server = new ScriptedHttpServer(request =>
        {
            var last = request.Json.GetProperty("messages").EnumerateArray().Last();
            var answered = last.GetProperty("content").ValueKind == JsonValueKind.Array
                && last.GetProperty("content").EnumerateArray().Any(b => b.GetProperty("type").GetString() == "tool_result");
            return ScriptedResponse.Json(answered
                ? """{"id":"msg_2","type":"message","role":"assistant","model":"claude-haiku-4-5","content":[{"type":"text","text":"Order A-7 shipped on 30 November."}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":90,"output_tokens":11}}"""
                : """{"id":"msg_1","type":"message","role":"assistant","model":"claude-haiku-4-5","content":[{"type":"tool_use","id":"toolu_01A","name":"order_status","input":{"order":"A-7"}}],"stop_reason":"tool_use","stop_sequence":null,"usage":{"input_tokens":60,"output_tokens":20}}""");
        });
        var settings = new LlmSettings(LlmProviders.Create(new LlmProviderOptions { AnthropicApiKey = AnthropicKey, AnthropicBaseUrl = new Uri(server.BaseUrl), MaxRetries = 0 }));
        var step = settings.Chat("anthropic", "claude-haiku-4-5", new LlmStepOptions
        {
            MaxTokens = 256,
            Tools = [AIFunctionFactory.Create(OrderStatus, "order_status")],
        }, name: "orders");

        var result = await Run(step, "Where is order A-7?", WorkflowContext.Create(persona: "anthropic-agent"));

        Assert.True(result.Succeeded, result.Failure?.ToString());
        var response = (LlmResponse)result.Output!;
        Assert.Equal("Order A-7 shipped on 30 November.", response.Content);
        Assert.Equal(1, response.ToolCalls);
        Assert.Equal(150, response.Usage.InputTokens);
        Assert.Equal(31, response.Usage.OutputTokens);
        var requests = server.Requests.ToList();
        Assert.Equal(2, requests.Count);
        var tool = Assert.Single(requests[0].Json.GetProperty("tools").EnumerateArray());
        Assert.Equal("order_status", tool.GetProperty("name").GetString());
        Assert.Equal("string", tool.GetProperty("input_schema").GetProperty("properties").GetProperty("order").GetProperty("type").GetString());
        var messages = requests[1].Json.GetProperty("messages").EnumerateArray().ToList();
        var toolUse = messages[^2].GetProperty("content").EnumerateArray().Single(b => b.GetProperty("type").GetString() == "tool_use");
        Assert.Equal("toolu_01A", toolUse.GetProperty("id").GetString());
        Assert.Equal("user", messages[^1].GetProperty("role").GetString());
        var toolResult = messages[^1].GetProperty("content").EnumerateArray().Single(b => b.GetProperty("type").GetString() == "tool_result");
        Assert.Equal("toolu_01A", toolResult.GetProperty("tool_use_id").GetString());
        Assert.Contains("shipped on 2026-11-30", toolResult.GetRawText());

        var trace = _spans.ForTrace(result.TraceId);
        var agent = SpanTree.Single(trace, "invoke_agent orders");
        Assert.Equal(2, trace.Count(s => s.DisplayName == "chat claude-haiku-4-5" && s.ParentSpanId == agent.SpanId));
        var execute = SpanTree.Single(trace, "execute_tool order_status");
        Assert.Equal(agent.SpanId, execute.ParentSpanId);
        Assert.Equal("toolu_01A", execute.GetTagItem("gen_ai.tool.call.id"));
        Assert.Equal("function", execute.GetTagItem("gen_ai.tool.type"));
        Assert.Equal("anthropic", agent.GetTagItem("gen_ai.provider.name"));
    }

    [Fact]
    public async Task Max_iterations_should_bound_the_model_calls_that_may_ask_for_tools()
    {
        var calls = 0;
        using var server = new ScriptedHttpServer(request =>
        {
            var n = Interlocked.Increment(ref calls);
            // Once tools are withdrawn the model must answer; until then it keeps asking for the tool.
            return request.Json.TryGetProperty("tools", out _) && request.Json.GetProperty("tool_choice").GetString() != "none"
                ? AgentNode.ToolCall($"c{n}", $"call_{n}", "order_status", """{"order":"A-7"}""", 10, 5)
                : ScriptedResponse.Json("""{"id":"done","object":"chat.completion","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"I gave up asking."},"finish_reason":"stop"}],"usage":{"prompt_tokens":10,"completion_tokens":4,"total_tokens":14}}""");
        });
        var step = OpenAi(server).Chat("openai", "gpt-4o-mini", new LlmStepOptions
        {
            Tools = [AIFunctionFactory.Create(OrderStatus, "order_status")],
            MaxIterations = 2,
        });

        var result = await Run(step, "Where is A-7?", WorkflowContext.Create());

        Assert.True(result.Succeeded, result.Failure?.ToString());
        Assert.Equal("I gave up asking.", ((LlmResponse)result.Output!).Content);
        Assert.Equal(2, ((LlmResponse)result.Output!).ToolCalls);
        Assert.Equal(3, server.Requests.Count);
        Assert.Equal(2, _spans.ForTrace(result.TraceId).Count(s => s.DisplayName == "execute_tool order_status"));
    }

    [Theory]
    [InlineData(ToolErrorMode.Report)]
    [InlineData(ToolErrorMode.Fail)]
    public async Task Failing_tool_should_be_reported_to_the_model_or_fail_the_step(ToolErrorMode mode)
    {
        using var server = new ScriptedHttpServer(request =>
            request.Json.GetProperty("messages").EnumerateArray().Any(m => m.GetProperty("role").GetString() == "tool")
                ? ScriptedResponse.Json("""{"id":"done","object":"chat.completion","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"That order does not exist."},"finish_reason":"stop"}],"usage":{"prompt_tokens":30,"completion_tokens":6,"total_tokens":36}}""")
                : AgentNode.ToolCall("c1", "call_1", "order_status", """{"order":"Z-9"}""", 20, 5));
        var step = OpenAi(server).Chat("openai", "gpt-4o-mini", new LlmStepOptions
        {
            Tools = [AIFunctionFactory.Create(OrderStatus, "order_status")],
            OnToolError = mode,
        }, name: "orders");

        var result = await Run(step, "Where is Z-9?", WorkflowContext.Create());

        var tool = SpanTree.Single(_spans.ForTrace(result.TraceId), "execute_tool order_status");
        Assert.Equal(System.Diagnostics.ActivityStatusCode.Error, tool.Status);
        if (mode == ToolErrorMode.Report)
        {
            Assert.True(result.Succeeded, result.Failure?.ToString());
            Assert.Equal("That order does not exist.", ((LlmResponse)result.Output!).Content);
            var reported = server.Requests.Last().Json.GetProperty("messages").EnumerateArray().Single(m => m.GetProperty("role").GetString() == "tool");
            Assert.Contains("no order Z-9", reported.GetProperty("content").GetString());
        }
        else
        {
            Assert.False(result.Succeeded);
            Assert.IsType<LlmToolException>(result.Failure!.Exception);
            Assert.Contains("tool 'order_status' failed: no order Z-9", result.Failure.Exception!.Message);
            Assert.Single(server.Requests);
        }
    }

    [Fact]
    public async Task Run_cost_limit_should_refuse_the_call_that_would_pass_it_naming_limit_spend_and_estimate()
    {
        using var server = new ScriptedHttpServer(_ => AgentNode.ToolCall("c1", "call_1", "order_status", """{"order":"A-7"}""", 133_000, 50));
        // gpt-4o-mini ($0.15/$0.60 per million): the first call spends $0.01998, so a $0.02 limit refuses the second.
        var step = OpenAi(server, new LlmBudget { MaxRunCostUsd = 0.02m }).Chat("openai", "gpt-4o-mini", new LlmStepOptions
        {
            Tools = [AIFunctionFactory.Create(OrderStatus, "order_status")],
            MaxTokens = 100,
        }, name: "orders");

        var result = await Run(step, new string('x', 40_000), WorkflowContext.Create());

        Assert.False(result.Succeeded);
        var refusal = Assert.IsType<LlmBudgetExceededException>(result.Failure!.Exception);
        Assert.Equal("run_cost", refusal.Budget);
        Assert.Contains("cost limit of $0.02", refusal.Message);
        Assert.Contains("$0.01998 spent so far", refusal.Message);
        Assert.Matches(@"this call is estimated at \$0\.000\d+ \(\d+ input \+ 100 output tokens on gpt-4o-mini\)", refusal.Message);
        Assert.Single(server.Requests);
    }

    // TestKit's own Dispose is what xUnit calls; a "new" Dispose would leave this listener recording every later span.
    protected override void AfterAll()
    {
        _spans.Dispose();
        base.AfterAll();
    }
}
