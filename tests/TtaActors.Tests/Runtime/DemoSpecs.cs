using System.Diagnostics;
using TtaActors.Runtime.Demo;
using TtaActors.Tests.Primitives;
using TtaActors.Tests.Support;

namespace TtaActors.Tests.Runtime;

public class DemoSpecs : PrimitiveSpec, IDisposable
{
    private readonly SpanRecorder _spans = new();

    [Fact]
    public async Task Demo_workflow_should_route_retry_the_flaky_tool_and_fan_out()
    {
        var result = await Run(DemoWorkflow.Build(), DemoWorkflow.DefaultInput, DemoWorkflow.Context());

        Assert.True(result.Succeeded, result.Failure?.ToString());
        Assert.StartsWith("code: token bucket per client in front of orders-api | tests: ", (string)result.Output!);
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
        var result = await Run(DemoWorkflow.Build(), "bugfix: billing: double charge on retry", DemoWorkflow.Context());

        Assert.StartsWith("code: reproduce in billing", (string)result.Output!);
        Assert.Equal("bugfix", Assert.Single(result.Context.RoutingHistory).Route);
    }

    public new void Dispose()
    {
        _spans.Dispose();
        base.Dispose();
    }
}
