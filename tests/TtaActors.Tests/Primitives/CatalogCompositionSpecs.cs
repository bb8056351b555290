using System.Diagnostics;
using TtaActors.Actors.Execution;
using TtaActors.Actors.Primitives;
using Xunit;
using Xunit.Abstractions;

namespace TtaActors.Tests.Primitives;

public sealed class CatalogCompositionSpecs(ITestOutputHelper output) : CatalogSpec(output)
{
    [Fact]
    public async Task Catalog_primitives_should_compose_with_the_sequential_and_parallel_operators()
    {
        var trim = MockPrimitive.WithSideEffect((input, _) => ((string)input!).Trim(), "trim");
        var shout = new ConditionalPrimitive((input, _) => ((string)input!).EndsWith('!'),
            Lambda.From<string, string>(s => s.ToUpperInvariant(), "upper"), name: "maybe-shout");
        var label = new SwitchPrimitive((input, _) => ((string)input!).Length > 5 ? "long" : null,
            new Dictionary<string, Primitive> { ["long"] = MockPrimitive.Returning("long", "long-label") },
            MockPrimitive.Returning("short", "short-label"), "label");

        var workflow = trim >> (shout | label);

        Assert.IsType<SequentialPrimitive>(workflow);
        Assert.IsType<ParallelPrimitive>(workflow.Steps[1]);
        var result = await Within(Materialize(workflow).RunAsync("  ship it!  "));
        Assert.Equal(new object?[] { "SHIP IT!", "long" }, (object?[])result.Output!);
    }

    [Fact]
    public async Task Catalog_primitives_should_nest_inside_each_other_and_inside_the_first_four_with_spans_parented_along_the_tree()
    {
        var primary = MockPrimitive.Raising(new HttpRequestException("provider down"), "primary-model");
        var backup = MockPrimitive.WithSideEffect((input, _) => $"backup:{input}", "backup-model");
        var answer = new CachePrimitive(
            new CircuitBreakerPrimitive(
                new TimeoutPrimitive(new FallbackPrimitive(primary, backup, "model-fallback"), TimeSpan.FromSeconds(30), name: "model-timeout"),
                new CircuitBreakerPolicy(), "model-breaker"),
            TimeSpan.FromMinutes(5), name: "answer-cache");
        var audit = new SagaPrimitive(MockPrimitive.WithSideEffect((input, _) => $"audited:{input}", "audit"),
            MockPrimitive.Returning("unaudited", "unaudit"), "audit-saga");
        var classify = new SwitchPrimitive((input, _) => ((string)input!).StartsWith("FIX") ? "bug" : "feature",
            new Dictionary<string, Primitive> { ["bug"] = MockPrimitive.Returning("bug", "bug-label") },
            MockPrimitive.Returning("feature", "feature-label"), "classify");
        var shout = new ConditionalPrimitive((input, _) => ((string)input!).EndsWith('!'),
            Lambda.From<string, string>(s => s.ToUpperInvariant(), "upper"), name: "maybe-shout");
        var retried = new RetryPrimitive(shout >> (answer | audit | classify), new RetryPolicy { MaxRetries = 1 }, "retry");
        var workflow = new RouterPrimitive(new Dictionary<string, Primitive> { ["main"] = retried }, (_, _) => "main", name: "router");
        var graph = Materialize(workflow, "nested");

        var first = await Within(graph.RunAsync("add cache!"));
        var second = await Within(graph.RunAsync("add cache!"));

        Assert.True(first.Succeeded, first.Failure?.ToString());
        Assert.Equal(new object?[] { "backup:ADD CACHE!", "audited:ADD CACHE!", "feature" }, (object?[])first.Output!);
        Assert.Equal((object?[])first.Output!, (object?[])second.Output!);
        Assert.Equal(1, backup.CallCount);
        Assert.Equal(1, primary.CallCount);

        var spans = SpansOf(first);
        Activity Named(string name) => Assert.Single(spans, s => s.DisplayName == name);
        void ParentIs(string child, string parent) => Assert.Equal(Named(parent).SpanId, Named(child).ParentSpanId);
        ParentIs("primitive.backup-model", "primitive.model-fallback");
        ParentIs("primitive.primary-model", "primitive.model-fallback");
        ParentIs("primitive.model-fallback", "primitive.model-timeout");
        ParentIs("primitive.model-timeout", "primitive.model-breaker");
        ParentIs("primitive.model-breaker", "primitive.answer-cache");
        ParentIs("primitive.answer-cache", "primitive.ParallelPrimitive");
        ParentIs("primitive.audit", "primitive.audit-saga");
        ParentIs("primitive.feature-label", "primitive.classify");
        ParentIs("primitive.classify", "primitive.ParallelPrimitive");
        ParentIs("primitive.upper", "primitive.maybe-shout");
        ParentIs("primitive.ParallelPrimitive", "primitive.SequentialPrimitive");
        ParentIs("primitive.SequentialPrimitive", "retry.attempt_0");
        ParentIs("retry.attempt_0", "primitive.retry");
        ParentIs("primitive.retry", "primitive.router");
        ParentIs("primitive.router", "workflow.nested");
    }

    [Fact]
    public async Task A_retry_around_a_fallback_whose_both_branches_fail_should_retry_and_raise_the_primary_error()
    {
        var primaryError = new InvalidOperationException("primary down");
        var primary = MockPrimitive.Raising(primaryError, "primary");
        var fallback = MockPrimitive.Raising(new TimeoutException("fallback down"), "fallback");
        var graph = Materialize(new RetryPrimitive(new FallbackPrimitive(primary, fallback), new RetryPolicy { MaxRetries = 2, MaxBackoff = 0 }));

        var result = await Within(graph.RunAsync("q"));

        Assert.Same(primaryError, result.Failure!.Exception);
        Assert.Equal(3, primary.CallCount);
        Assert.Equal(3, fallback.CallCount);
    }
}
