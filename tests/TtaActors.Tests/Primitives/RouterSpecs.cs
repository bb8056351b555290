using TtaActors.Actors.Context;
using TtaActors.Actors.Primitives;

namespace TtaActors.Tests.Primitives;

public class RouterSpecs : PrimitiveSpec
{
    private static RouterPrimitive Router(string? defaultRoute) => new(
        new Dictionary<string, Primitive>
        {
            ["fast"] = Lambda.From<string, string>(s => $"fast:{s}", "fast-model"),
            ["smart"] = Lambda.From<string, string>(s => $"smart:{s}", "smart-model"),
        },
        (input, _) => ((string)input!).Split(':')[0],
        defaultRoute);

    [Fact]
    public async Task Router_should_send_the_input_to_the_route_its_selector_picks()
    {
        var result = await Run(Router(null), "smart:question");
        Assert.Equal("smart:smart:question", result.Output);
    }

    [Fact]
    public async Task Router_should_fall_back_to_the_default_route_for_an_unknown_key()
    {
        var result = await Run(Router("fast"), "unknown:question");

        Assert.Equal("fast:unknown:question", result.Output);
        var decision = Assert.Single(result.Context.RoutingHistory);
        Assert.Equal("fast", decision.Route);
        Assert.True(decision.UsedDefault);
    }

    [Fact]
    public async Task Router_without_a_route_should_fail_naming_the_key_and_the_available_routes()
    {
        var result = await Run(Router(null), "nowhere:question");

        Assert.False(result.Succeeded);
        var error = Assert.IsType<RouteNotFoundException>(result.Failure!.Exception);
        Assert.Equal("nowhere", error.Key);
        Assert.Contains("'nowhere'", error.Message);
        Assert.Contains("fast, smart", error.Message);
    }

    [Fact]
    public async Task Router_should_append_each_decision_to_the_routing_history()
    {
        var twice = Router(null) >> Lambda.From<string, string>(s => "smart:" + s, "again") >> Router(null);
        var before = DateTimeOffset.UtcNow.AddSeconds(-1);

        var result = await Run(twice, "fast:q", WorkflowContext.Create());

        Assert.Equal(["fast", "smart"], result.Context.RoutingHistory.Select(d => d.Route));
        Assert.All(result.Context.RoutingHistory, d =>
        {
            Assert.False(d.UsedDefault);
            Assert.True(d.Timestamp >= before);
        });
    }

    [Fact]
    public void A_default_route_that_is_not_a_route_should_be_refused()
    {
        var error = Assert.Throws<ArgumentException>(() => Router("missing"));
        Assert.Contains("'missing'", error.Message);
    }
}
