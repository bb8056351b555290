using System.ComponentModel;
using Microsoft.Extensions.AI;
using TtaActors.Actors.Context;
using TtaActors.Actors.Llm;
using TtaActors.Tests.Llm;
using TtaActors.Tests.Primitives;
using TtaActors.Llm.Providers;

namespace TtaActors.Tests.Agents;

/// <summary>The session's token budget, checked before every LLM call of a run, the agent's tool loop included.</summary>
public sealed class SessionBudgetSpecs : PrimitiveSpec
{
    private const string OpenAiKey = "sk-session-budget-openai-0123456789abcdef";

    [Description("Looks up an order's status by its id.")]
    private static string OrderStatus([Description("The order id")] string order) => "shipped";

    private static LlmPrimitive Agent(ScriptedHttpServer server) =>
        new LlmSettings(LlmProviders.Create(new LlmProviderOptions { OpenAiApiKey = OpenAiKey, OpenAiBaseUrl = new Uri(server.BaseUrl + "/v1"), MaxRetries = 0 }))
            .Chat("openai", "gpt-4o-mini", new LlmStepOptions { Tools = [AIFunctionFactory.Create(OrderStatus, "order_status")], MaxTokens = 50 },
                name: "orders");

    [Fact]
    public async Task A_tool_loop_call_that_would_pass_the_session_budget_should_fail_the_step_naming_budget_spend_and_estimate()
    {
        using var server = new ScriptedHttpServer(_ => AgentNode.ToolCall("c1", "call_1", "order_status", """{"order":"A-7"}""", 120, 18));
        var context = WorkflowContext.Create(sessionId: "s-budget", persona: "support") with
        {
            SessionBudget = new SessionTokenBudget("s-budget", "support", 300, 100),
        };

        var result = await Run(Agent(server), "Where is A-7?", context);

        Assert.False(result.Succeeded);
        var refusal = Assert.IsType<LlmBudgetExceededException>(result.Failure!.Exception);
        Assert.Equal("session_tokens", refusal.Budget);
        Assert.Contains("session 's-budget''s token budget of 300 tokens for persona 'support' would be passed", refusal.Message);
        Assert.Contains("238 tokens used so far (100 before this run, 138 in it)", refusal.Message);
        Assert.Matches(@"this call is estimated at \d+ tokens \(\d+ input \+ 50 output, from max_tokens\) on gpt-4o-mini", refusal.Message);
        Assert.Single(server.Requests);
    }

    [Fact]
    public async Task A_call_that_fits_exactly_in_what_the_session_has_left_should_be_sent()
    {
        using var server = new ScriptedHttpServer(_ => AgentNode.ToolCall("c1", "call_1", "order_status", """{"order":"A-7"}""", 120, 18));
        // The first call's estimate is its prompt plus max_tokens; a budget of exactly used + estimate lets it go.
        var probe = WorkflowContext.Create(sessionId: "s-probe") with { SessionBudget = new SessionTokenBudget("s-probe", "none", 0, 0) };
        var refused = await Run(Agent(server), "Where is A-7?", probe);
        var estimate = long.Parse(System.Text.RegularExpressions.Regex.Match(refused.Failure!.Message, @"estimated at (\d+) tokens").Groups[1].Value);
        Assert.Empty(server.Requests);

        var exact = WorkflowContext.Create(sessionId: "s-exact") with { SessionBudget = new SessionTokenBudget("s-exact", "none", 40 + estimate, 40) };
        var result = await Run(Agent(server), "Where is A-7?", exact);

        // The first call goes out; the second (after the tool) no longer fits.
        Assert.Single(server.Requests);
        Assert.Contains("session 's-exact''s token budget", result.Failure!.Message);
    }
}
