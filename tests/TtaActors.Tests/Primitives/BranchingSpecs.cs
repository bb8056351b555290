using TtaActors.Actors.Context;
using TtaActors.Actors.Primitives;
using TtaActors.Telemetry;
using Xunit;
using Xunit.Abstractions;

namespace TtaActors.Tests.Primitives;

public sealed class BranchingSpecs(ITestOutputHelper output) : CatalogSpec(output)
{
    private sealed record Request(string Kind, int Size);

    private static ConditionalPrimitive Conditional(MockPrimitive then, MockPrimitive? otherwise) =>
        new((input, _) => ((Request)input!).Size > 10, then, otherwise, "is-large");

    [Fact]
    public async Task Conditional_should_run_the_then_branch_when_the_condition_holds()
    {
        var then = MockPrimitive.Returning("large", "large");
        var otherwise = MockPrimitive.Returning("small", "small");
        var graph = Materialize(Conditional(then, otherwise));

        var result = await Within(graph.RunAsync(new Request("feature", 50)));

        Assert.Equal("large", result.Output);
        Assert.Equal(0, otherwise.CallCount);
        Assert.Equal("then", SpanOf(result, "is-large").GetTagItem(TelemetryNames.Catalog.Attributes.ConditionalBranch));
    }

    [Fact]
    public async Task Conditional_should_run_the_else_branch_when_the_condition_fails()
    {
        var then = MockPrimitive.Returning("large", "large");
        var otherwise = MockPrimitive.Returning("small", "small");
        var graph = Materialize(Conditional(then, otherwise));

        var result = await Within(graph.RunAsync(new Request("feature", 5)));

        Assert.Equal("small", result.Output);
        Assert.Equal(0, then.CallCount);
        Assert.Equal("else", SpanOf(result, "is-large").GetTagItem(TelemetryNames.Catalog.Attributes.ConditionalBranch));
    }

    [Fact]
    public async Task Conditional_without_else_should_pass_the_input_through_unchanged()
    {
        var then = MockPrimitive.Returning("large", "large");
        var graph = Materialize(Conditional(then, null));
        var input = new Request("feature", 5);

        var result = await Within(graph.RunAsync(input));

        Assert.Same(input, result.Output);
        Assert.Equal(0, then.CallCount);
        Assert.Equal("passthrough", SpanOf(result, "is-large").GetTagItem(TelemetryNames.Catalog.Attributes.ConditionalBranch));
    }

    [Fact]
    public async Task Conditional_should_fail_with_the_error_its_condition_raised()
    {
        var graph = Materialize(new ConditionalPrimitive((_, _) => throw new FormatException("unreadable"), MockPrimitive.Returning(1), name: "broken"),
            "broken-condition");

        var result = await Within(graph.RunAsync("x"));

        Assert.IsType<FormatException>(result.Failure!.Exception);
        Assert.Equal("broken-condition/broken", result.Failure.PrimitivePath);
    }

    private static SwitchPrimitive Switch(MockPrimitive feature, MockPrimitive bugfix, MockPrimitive? fallback) => new(
        (input, _) => ((Request)input!).Kind,
        new Dictionary<string, Primitive> { ["feature"] = feature, ["bugfix"] = bugfix },
        fallback,
        "by-kind");

    [Fact]
    public async Task Switch_should_run_the_case_the_selector_picks()
    {
        var feature = MockPrimitive.Returning("planned", "plan");
        var bugfix = MockPrimitive.Returning("fixed", "fix");
        var graph = Materialize(Switch(feature, bugfix, null));

        var result = await Within(graph.RunAsync(new Request("bugfix", 1)));

        Assert.Equal("fixed", result.Output);
        Assert.Equal(0, feature.CallCount);
        var span = SpanOf(result, "by-kind");
        Assert.Equal("bugfix", span.GetTagItem(TelemetryNames.Catalog.Attributes.SwitchCase));
        Assert.Equal("bugfix", span.GetTagItem(TelemetryNames.Catalog.Attributes.SwitchKey));
    }

    [Fact]
    public async Task Switch_should_run_the_default_for_an_unknown_key()
    {
        var fallback = MockPrimitive.WithSideEffect((input, _) => $"triaged:{((Request)input!).Kind}", "triage");
        var graph = Materialize(Switch(MockPrimitive.Returning(1), MockPrimitive.Returning(2), fallback));

        var result = await Within(graph.RunAsync(new Request("question", 1)));

        Assert.Equal("triaged:question", result.Output);
        var span = SpanOf(result, "by-kind");
        Assert.Equal("default", span.GetTagItem(TelemetryNames.Catalog.Attributes.SwitchCase));
        Assert.Equal("question", span.GetTagItem(TelemetryNames.Catalog.Attributes.SwitchKey));
    }

    [Fact]
    public async Task Switch_without_default_should_pass_the_input_through_unchanged_when_no_case_matches()
    {
        var feature = MockPrimitive.Returning("planned", "plan");
        var bugfix = MockPrimitive.Returning("fixed", "fix");
        var graph = Materialize(Switch(feature, bugfix, null));
        var input = new Request("question", 1);

        var result = await Within(graph.RunAsync(input));

        Assert.Same(input, result.Output);
        Assert.Equal(0, feature.CallCount + bugfix.CallCount);
        Assert.Equal("passthrough", SpanOf(result, "by-kind").GetTagItem(TelemetryNames.Catalog.Attributes.SwitchCase));
    }

    [Fact]
    public async Task Switch_should_treat_a_null_key_as_no_match()
    {
        var fallback = MockPrimitive.Returning("default", "triage");
        var graph = Materialize(new SwitchPrimitive((_, _) => null,
            new Dictionary<string, Primitive> { ["feature"] = MockPrimitive.Returning(1) }, fallback, "by-kind"));

        var result = await Within(graph.RunAsync("x"));

        Assert.Equal("default", result.Output);
        Assert.Null(SpanOf(result, "by-kind").GetTagItem(TelemetryNames.Catalog.Attributes.SwitchKey));
    }

    [Fact]
    public async Task Switch_with_neither_cases_nor_default_should_pass_its_input_through()
    {
        var graph = Materialize(new SwitchPrimitive((_, _) => "x", new Dictionary<string, Primitive>(), name: "empty-switch"));

        var result = await Within(graph.RunAsync("unchanged"));

        Assert.True(result.Succeeded, result.Failure?.ToString());
        Assert.Equal("unchanged", result.Output);
        Assert.Equal(TelemetryNames.Catalog.Branches.PassThrough,
            SpanOf(result, "empty-switch").GetTagItem(TelemetryNames.Catalog.Attributes.SwitchCase));
    }

    [Fact]
    public async Task Branches_should_see_the_context_they_were_given()
    {
        var then = MockPrimitive.WithSideEffect((_, context) => context.Persona, "who");
        var graph = Materialize(new ConditionalPrimitive((_, context) => context.Persona == "backend-engineer", then, name: "persona-check"));

        var result = await Within(graph.RunAsync("x", WorkflowContext.Create(persona: "backend-engineer")));

        Assert.Equal("backend-engineer", result.Output);
    }
}
