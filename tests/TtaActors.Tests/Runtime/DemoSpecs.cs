using System.Diagnostics;
using TtaActors.Actors.Llm;
using TtaActors.Runtime.Demo;
using TtaActors.Tests.Primitives;
using TtaActors.Tests.Support;
using TtaActors.Llm.Providers;

namespace TtaActors.Tests.Runtime;

public class DemoSpecs : PrimitiveSpec, IDisposable
{
    private readonly SpanRecorder _spans = new();

    [Fact]
    public async Task Demo_workflow_should_route_retry_the_flaky_tool_and_fan_out()
    {
        var result = await Run(DemoWorkflow.Build(new LlmSettings(LlmProviders.Create())), DemoWorkflow.DefaultInput, DemoWorkflow.Context());

        Assert.True(result.Succeeded, result.Failure?.ToString());
        Assert.StartsWith("code: token bucket per client in front of orders-api | tests: ", ((DemoOutput)result.Output!).Drafts);
        Assert.Equal("feature", Assert.Single(result.Context.RoutingHistory).Route);
        var trace = _spans.ForTrace(result.TraceId);
        Assert.Equal(DemoWorkflow.DesignToolFailures + 1, trace.Count(s => s.DisplayName.StartsWith("retry.attempt_")));
        foreach (var type in new[] { "SequentialPrimitive", "RouterPrimitive", "RetryPrimitive", "ParallelPrimitive" })
        {
            Assert.Contains(trace, s => (string?)s.GetTagItem("primitive.type") == type);
        }
        Assert.Empty(SpanTree.Orphans(trace));
    }

    [Fact]
    public async Task Demo_should_route_bugfix_requests_to_their_own_route()
    {
        var result = await Run(DemoWorkflow.Build(new LlmSettings(LlmProviders.Create())), "bugfix: billing: double charge on retry", DemoWorkflow.Context());

        Assert.StartsWith("code: reproduce in billing", ((DemoOutput)result.Output!).Drafts);
        Assert.Equal("bugfix", Assert.Single(result.Context.RoutingHistory).Route);
    }

    [Fact]
    public async Task Demo_review_step_should_report_true_token_counts_and_cost_of_the_offline_model()
    {
        var result = await Run(DemoWorkflow.Build(new LlmSettings(LlmProviders.Create())), DemoWorkflow.DefaultInput, DemoWorkflow.Context());

        var output = (DemoOutput)result.Output!;
        Assert.Equal("offline", output.Provider);
        Assert.Equal(OfflineChatClient.ModelName, output.Model);
        Assert.Equal(OfflineChatClient.Tokenizer.CountTokens(output.Review), output.OutputTokens);
        Assert.True(output.InputTokens > OfflineChatClient.Tokenizer.CountTokens(output.Drafts));
        Assert.Equal(0m, output.CostUsd);
        var call = Assert.Single(result.Context.LlmCalls);
        Assert.Equal((output.InputTokens, output.OutputTokens, output.CostUsd), (call.InputTokens, call.OutputTokens, call.CostUsd));
        var chat = SpanTree.Single(_spans.ForTrace(result.TraceId), "chat tta-offline");
        Assert.Equal("backend-engineer", LangfuseView.Attributes(chat)["langfuse.user.id"]);
        Assert.Equal(output.InputTokens, (long?)chat.GetTagItem("gen_ai.usage.input_tokens"));
    }

    public new void Dispose()
    {
        _spans.Dispose();
        base.Dispose();
    }
}
