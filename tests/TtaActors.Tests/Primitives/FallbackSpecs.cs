using System.Diagnostics;
using TtaActors.Actors.Primitives;
using TtaActors.Telemetry;
using Xunit;
using Xunit.Abstractions;

namespace TtaActors.Tests.Primitives;

public sealed class FallbackSpecs(ITestOutputHelper output) : CatalogSpec(output)
{
    [Fact]
    public async Task Fallback_should_never_call_the_fallback_when_the_primary_succeeds()
    {
        var primary = MockPrimitive.WithSideEffect((input, _) => $"primary:{input}", "primary");
        var fallback = MockPrimitive.Returning("from fallback", "fallback");
        var graph = Materialize(new FallbackPrimitive(primary, fallback, "guarded"));

        var result = await Within(graph.RunAsync("q"));

        Assert.True(result.Succeeded);
        Assert.Equal("primary:q", result.Output);
        Assert.Equal(0, fallback.CallCount);
        var span = SpanOf(result, "guarded");
        Assert.Equal(false, span.GetTagItem(TelemetryNames.Catalog.Attributes.FallbackUsed));
        Assert.Equal("FallbackPrimitive", span.GetTagItem(TelemetryNames.Attributes.PrimitiveType));
        Assert.DoesNotContain(SpansOf(result), s => s.DisplayName == "primitive.fallback");
    }

    [Fact]
    public async Task Fallback_should_run_the_fallback_with_the_same_input_when_the_primary_fails()
    {
        var primary = MockPrimitive.Raising(new InvalidOperationException("primary down"), "primary");
        var fallback = MockPrimitive.WithSideEffect((input, _) => $"fallback:{input}", "fallback");
        var graph = Materialize(new FallbackPrimitive(primary, fallback, "guarded"));

        var result = await Within(graph.RunAsync("q"));

        Assert.True(result.Succeeded);
        Assert.Equal("fallback:q", result.Output);
        Assert.Equal(["q"], fallback.Inputs);
        var span = SpanOf(result, "guarded");
        Assert.Equal(true, span.GetTagItem(TelemetryNames.Catalog.Attributes.FallbackUsed));
        Assert.Equal(ActivityStatusCode.Unset, span.Status);
        Assert.Equal(ActivityStatusCode.Error, SpanOf(result, "primary").Status);
    }

    [Fact]
    public async Task Fallback_should_raise_the_primary_error_when_both_fail()
    {
        var primaryError = new InvalidOperationException("primary down");
        var primary = MockPrimitive.Raising(primaryError, "primary");
        var fallback = MockPrimitive.Raising(new TimeoutException("fallback down too"), "fallback");
        var graph = Materialize(new FallbackPrimitive(primary, fallback, "guarded"), "both-fail");

        var result = await Within(graph.RunAsync("q"));

        Assert.False(result.Succeeded);
        Assert.Same(primaryError, result.Failure!.Exception);
        Assert.Equal(typeof(InvalidOperationException).FullName, result.Failure.ErrorType);
        Assert.Equal("both-fail/guarded/primary[primary]", result.Failure.PrimitivePath);
        Assert.Equal(1, fallback.CallCount);
        var span = SpanOf(result, "guarded");
        Assert.Equal(true, span.GetTagItem(TelemetryNames.Catalog.Attributes.FallbackUsed));
        Assert.Equal(ActivityStatusCode.Error, span.Status);
        Assert.Equal(TelemetryNames.Status.Error, span.GetTagItem(TelemetryNames.Attributes.PrimitiveStatus));
    }
}
