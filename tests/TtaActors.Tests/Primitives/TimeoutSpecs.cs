using System.Collections.Immutable;
using TtaActors.Actors.Context;
using TtaActors.Actors.Primitives;
using TtaActors.Telemetry;
using Xunit;
using Xunit.Abstractions;

namespace TtaActors.Tests.Primitives;

public sealed class TimeoutSpecs(ITestOutputHelper output) : CatalogSpec(output)
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan OneTick = TimeSpan.FromTicks(1);

    /// <summary>A leaf that signals when it starts and waits for the test (or for its token) to finish it.</summary>
    private sealed class ControlledStep
    {
        public TaskCompletionSource<CancellationToken> Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public TaskCompletionSource<string> Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public TaskCompletionSource Cancelled { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Waits for <see cref="Release"/>; a cancelled token ends the wait with an error.</summary>
        public LambdaPrimitive Honouring(string name) => Lambda.FromAsync<string, string>(async (_, cancellation) =>
        {
            Started.TrySetResult(cancellation);
            try
            {
                return await Release.Task.WaitAsync(cancellation);
            }
            catch (OperationCanceledException)
            {
                Cancelled.TrySetResult();
                throw;
            }
        }, name);

        /// <summary>Waits for <see cref="Release"/> whatever its token says, like a step that cannot be interrupted.</summary>
        public LambdaPrimitive Ignoring(string name) => Lambda.FromAsync<string, string>(async (_, cancellation) =>
        {
            Started.TrySetResult(cancellation);
            return await Release.Task;
        }, name);
    }

    [Fact]
    public async Task Timeout_should_answer_the_inner_output_when_it_finishes_one_tick_before_the_limit()
    {
        var step = new ControlledStep();
        var graph = Materialize(new TimeoutPrimitive(step.Honouring("slow"), Limit, name: "limited"));

        var run = graph.RunAsync("q");
        var token = await Within(step.Started.Task);
        Scheduler.Advance(Limit - OneTick);
        step.Release.SetResult("done");
        var result = await Within(run);

        Assert.True(result.Succeeded, result.Failure?.ToString());
        Assert.Equal("done", result.Output);
        Assert.False(token.IsCancellationRequested);
        Assert.False(result.Context.State.ContainsKey(WorkflowStateKeys.TimeoutCount));
        Assert.Equal(false, SpanOf(result, "limited").GetTagItem(TelemetryNames.Catalog.Attributes.TimeoutExpired));
    }

    [Fact]
    public async Task Timeout_should_cancel_the_leaf_of_a_nested_inner_run_and_raise_at_the_limit()
    {
        var step = new ControlledStep();
        var inner = Lambda.From<string, string>(s => s.ToUpperInvariant(), "prepare") >> step.Honouring("slow");
        var graph = Materialize(new TimeoutPrimitive(inner, Limit, name: "limited"), "expiring");

        var run = graph.RunAsync("q");
        await Within(step.Started.Task);
        Scheduler.Advance(Limit - OneTick);
        Scheduler.Advance(OneTick);
        var result = await Within(run);
        await Within(step.Cancelled.Task);

        Assert.False(result.Succeeded);
        var error = Assert.IsType<PrimitiveTimeoutException>(result.Failure!.Exception);
        Assert.Equal(Limit, error.Timeout);
        Assert.Equal("expiring/limited", result.Failure.PrimitivePath);
        Assert.Equal(1, result.Context.State[WorkflowStateKeys.TimeoutCount]);
        Assert.Equal(true, SpanOf(result, "limited").GetTagItem(TelemetryNames.Catalog.Attributes.TimeoutExpired));
    }

    [Fact]
    public async Task Timeout_should_run_the_fallback_with_the_same_input_on_expiry_and_count_the_timeout()
    {
        var step = new ControlledStep();
        var fallback = MockPrimitive.WithSideEffect((input, _) => $"fallback:{input}", "fallback");
        var graph = Materialize(new TimeoutPrimitive(step.Honouring("slow"), Limit, fallback, name: "limited"), "with-fallback");
        var context = WorkflowContext.Create().WithState(WorkflowStateKeys.TimeoutCount, 2);

        var run = graph.RunAsync("q", context);
        var token = await Within(step.Started.Task);
        Scheduler.Advance(Limit);
        var result = await Within(run);

        Assert.True(result.Succeeded, result.Failure?.ToString());
        Assert.Equal("fallback:q", result.Output);
        Assert.Equal(["q"], fallback.Inputs);
        Assert.True(token.IsCancellationRequested);
        Assert.Equal(3, result.Context.State[WorkflowStateKeys.TimeoutCount]);
        var history = Assert.IsAssignableFrom<ImmutableList<TimeoutRecord>>(result.Context.State[WorkflowStateKeys.TimeoutHistory]);
        var record = Assert.Single(history);
        Assert.Equal("with-fallback/limited", record.Primitive);
        Assert.Equal(Limit, record.Timeout);
        Assert.True(record.HadFallback);
        Assert.Equal(true, SpanOf(result, "limited").GetTagItem(TelemetryNames.Catalog.Attributes.TimeoutExpired));
    }

    [Fact]
    public async Task Timeout_should_answer_the_fallback_error_with_the_count_when_the_fallback_fails_too()
    {
        var step = new ControlledStep();
        var fallbackError = new InvalidOperationException("no cached answer either");
        var graph = Materialize(new TimeoutPrimitive(step.Honouring("slow"), Limit, MockPrimitive.Raising(fallbackError, "fallback"),
            name: "limited"));

        var run = graph.RunAsync("q");
        await Within(step.Started.Task);
        Scheduler.Advance(Limit);
        var result = await Within(run);

        Assert.Same(fallbackError, result.Failure!.Exception);
        Assert.Equal(1, result.Context.State[WorkflowStateKeys.TimeoutCount]);
    }

    [Fact]
    public async Task Timeout_should_track_nothing_in_the_context_when_tracking_is_off()
    {
        var step = new ControlledStep();
        var fallback = MockPrimitive.Returning("fallback", "fallback");
        var graph = Materialize(new TimeoutPrimitive(step.Honouring("slow"), Limit, fallback, trackTimeouts: false, name: "limited"));

        var run = graph.RunAsync("q");
        await Within(step.Started.Task);
        Scheduler.Advance(Limit);
        var result = await Within(run);

        Assert.Equal("fallback", result.Output);
        Assert.False(result.Context.State.ContainsKey(WorkflowStateKeys.TimeoutCount));
        Assert.False(result.Context.State.ContainsKey(WorkflowStateKeys.TimeoutHistory));
        Assert.Equal(true, SpanOf(result, "limited").GetTagItem(TelemetryNames.Catalog.Attributes.TimeoutExpired));
    }

    [Fact]
    public async Task Timeout_should_discard_and_count_the_late_result_of_an_expired_run()
    {
        var name = Unique("limited");
        using var metrics = new MetricRecorder(TelemetryNames.Catalog.Metrics.TimeoutLateResults);
        var step = new ControlledStep();
        var fallback = MockPrimitive.Returning("fallback", "fallback");
        var graph = Materialize(new TimeoutPrimitive(step.Ignoring("stubborn"), Limit, fallback, name: name));

        var run = graph.RunAsync("q");
        await Within(step.Started.Task);
        Scheduler.Advance(Limit);
        var result = await Within(run);
        Assert.Empty(metrics.Of(TelemetryNames.Catalog.Metrics.TimeoutLateResults, name));
        step.Release.SetResult("too late");
        await Within(metrics.WaitFor(TelemetryNames.Catalog.Metrics.TimeoutLateResults, name, 1));

        Assert.Equal("fallback", result.Output);
        Assert.Equal(1, metrics.Sum(TelemetryNames.Catalog.Metrics.TimeoutLateResults, name));
    }

    [Fact]
    public void Timeout_should_refuse_a_limit_that_is_not_positive() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new TimeoutPrimitive(MockPrimitive.Returning(1), TimeSpan.Zero));
}
