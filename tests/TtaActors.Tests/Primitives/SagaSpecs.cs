using System.Diagnostics;
using TtaActors.Actors.Context;
using TtaActors.Actors.Execution;
using TtaActors.Actors.Primitives;
using TtaActors.Telemetry;
using Xunit;
using Xunit.Abstractions;

namespace TtaActors.Tests.Primitives;

public sealed class SagaSpecs(ITestOutputHelper output) : CatalogSpec(output)
{
    /// <summary>A forward step that changes its input before failing, so the compensation's input tells which one it got.</summary>
    private static Primitive FailingForward(Exception error) =>
        Lambda.From<string, string>(s => $"reserved:{s}", "reserve") >> MockPrimitive.Raising(error, "charge");

    [Fact]
    public async Task Saga_should_answer_the_forward_output_and_not_compensate_when_forward_succeeds()
    {
        var compensation = MockPrimitive.Returning("undone", "undo");
        var graph = Materialize(new SagaPrimitive(Lambda.From<string, string>(s => $"booked:{s}", "book"), compensation, "booking"));

        var result = await Within(graph.RunAsync("trip"));

        Assert.Equal("booked:trip", result.Output);
        Assert.Equal(0, compensation.CallCount);
        Assert.Equal(false, SpanOf(result, "booking").GetTagItem(TelemetryNames.Catalog.Attributes.SagaCompensated));
    }

    [Fact]
    public async Task Saga_should_compensate_with_the_original_input_and_reraise_the_forward_error()
    {
        var forwardError = new InvalidOperationException("card declined");
        var compensation = MockPrimitive.Returning("undone", "undo");
        var graph = Materialize(new SagaPrimitive(FailingForward(forwardError), compensation, "booking"));

        var result = await Within(graph.RunAsync("trip"));

        Assert.False(result.Succeeded);
        Assert.Same(forwardError, result.Failure!.Exception);
        Assert.Equal(["trip"], compensation.Inputs);
        var span = SpanOf(result, "booking");
        Assert.Equal(true, span.GetTagItem(TelemetryNames.Catalog.Attributes.SagaCompensated));
        Assert.Null(span.GetTagItem(TelemetryNames.Catalog.Attributes.SagaCompensationError));
        Assert.Equal(ActivityStatusCode.Error, span.Status);
        Assert.Equal("card declined", span.StatusDescription);
    }

    [Fact]
    public async Task Saga_should_record_a_failing_compensation_on_the_span_and_in_the_context_and_still_raise_the_forward_error()
    {
        var forwardError = new InvalidOperationException("card declined");
        var compensationError = new TimeoutException("refund service unreachable");
        var graph = Materialize(new SagaPrimitive(FailingForward(forwardError), MockPrimitive.Raising(compensationError, "undo"), "booking"),
            "saga");

        var result = await Within(graph.RunAsync("trip"));

        Assert.Same(forwardError, result.Failure!.Exception);
        var recorded = Assert.IsType<WorkflowFailure>(result.Context.State[WorkflowStateKeys.SagaCompensationError]);
        Assert.Same(compensationError, recorded.Exception);
        Assert.Equal("saga/booking/undo[compensation]", recorded.PrimitivePath);

        var span = SpanOf(result, "booking");
        Assert.Equal(false, span.GetTagItem(TelemetryNames.Catalog.Attributes.SagaCompensated));
        Assert.Contains("refund service unreachable", (string?)span.GetTagItem(TelemetryNames.Catalog.Attributes.SagaCompensationError));
        var exceptionTypes = span.Events.Where(e => e.Name == "exception")
            .Select(e => e.Tags.Single(t => t.Key == "exception.type").Value).ToList();
        Assert.Equal([typeof(TimeoutException).FullName, typeof(InvalidOperationException).FullName], exceptionTypes);
    }
}
