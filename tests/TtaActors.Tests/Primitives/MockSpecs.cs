using TtaActors.Actors.Context;
using TtaActors.Actors.Primitives;
using TtaActors.Telemetry;
using Xunit;
using Xunit.Abstractions;

namespace TtaActors.Tests.Primitives;

public sealed class MockSpecs(ITestOutputHelper output) : CatalogSpec(output)
{
    [Fact]
    public async Task Mock_should_return_its_fixed_value_and_record_each_call()
    {
        var mock = MockPrimitive.Returning(42, "answer");
        var graph = Materialize(mock);
        var context = WorkflowContext.Create(persona: "backend-engineer");

        var first = await Within(graph.RunAsync("q1", context));
        var second = await Within(graph.RunAsync("q2"));

        Assert.Equal(42, first.Output);
        Assert.Equal(42, second.Output);
        Assert.Equal(2, mock.CallCount);
        Assert.Equal(["q1", "q2"], mock.Inputs);
        Assert.Equal("backend-engineer", mock.Calls[0].Context.Persona);
        Assert.Equal("q2", mock.LastCall!.Input);
        Assert.Equal(1, SpanOf(first, "answer").GetTagItem(TelemetryNames.Catalog.Attributes.MockCall));
        Assert.Equal(2, SpanOf(second, "answer").GetTagItem(TelemetryNames.Catalog.Attributes.MockCall));
        Assert.Equal("MockPrimitive", SpanOf(second, "answer").GetTagItem(TelemetryNames.Attributes.PrimitiveType));

        mock.Reset();
        Assert.Equal(0, mock.CallCount);
        Assert.Null(mock.LastCall);
    }

    [Fact]
    public async Task Mock_should_compute_its_result_with_a_side_effect()
    {
        var sync = MockPrimitive.WithSideEffect((input, context) => $"{context.Persona}:{input}", "sync");
        var async = MockPrimitive.WithSideEffect(async (input, _, cancellation) =>
        {
            await Task.Yield();
            return (object?)$"async:{input}";
        }, "async");
        var graph = Materialize(sync >> async);

        var result = await Within(graph.RunAsync("q", WorkflowContext.Create(persona: "frontend-dev")));

        Assert.Equal("async:frontend-dev:q", result.Output);
        Assert.Equal(["frontend-dev:q"], async.Inputs);
    }

    [Fact]
    public async Task Mock_should_raise_its_error_and_still_count_the_call()
    {
        var error = new KeyNotFoundException("no such user");
        var mock = new MockPrimitive("lookup", returnValue: "never", raiseError: error);
        var graph = Materialize(mock, "raising");

        var result = await Within(graph.RunAsync("u1"));

        Assert.Same(error, result.Failure!.Exception);
        Assert.Equal("raising/lookup", result.Failure.PrimitivePath);
        Assert.Equal(1, mock.CallCount);
        Assert.Equal(["u1"], mock.Inputs);
    }

    [Fact]
    public async Task Mock_should_record_every_call_of_concurrent_runs()
    {
        const int runs = 200;
        var mock = MockPrimitive.WithSideEffect((input, _) => input, "echo");
        var graph = Materialize(Lambda.From<int, int>(i => i, "pass") >> (mock | MockPrimitive.Returning(0, "other")));

        var results = await Within(Task.WhenAll(Enumerable.Range(0, runs).Select(i => graph.RunAsync(i))));

        Assert.All(results, r => Assert.True(r.Succeeded, r.Failure?.ToString()));
        Assert.Equal(runs, mock.CallCount);
        Assert.Equal(Enumerable.Range(0, runs).Cast<object?>().ToHashSet(), mock.Inputs.ToHashSet());
        Assert.Equal(Enumerable.Range(1, runs).ToHashSet(),
            results.Select(r => (int)SpanOf(r, "echo").GetTagItem(TelemetryNames.Catalog.Attributes.MockCall)!).ToHashSet());
    }
}
