using System.Diagnostics;
using TtaActors.Actors.Execution;
using TtaActors.Actors.Primitives;
using TtaActors.Telemetry;
using Xunit;
using Xunit.Abstractions;

namespace TtaActors.Tests.Primitives;

public sealed class CircuitBreakerSpecs(ITestOutputHelper output) : CatalogSpec(output)
{
    private static readonly TimeSpan Recovery = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan OneTick = TimeSpan.FromTicks(1);
    private const string Fail = "fail";

    /// <summary>The protected service: fails for the input "fail", answers every other input.</summary>
    private static MockPrimitive Service(Func<Exception>? error = null) => MockPrimitive.WithSideEffect(
        (input, _) => input is Fail ? throw (error?.Invoke() ?? new InvalidOperationException("service down")) : $"ok:{input}",
        "service");

    private (CircuitBreakerPrimitive Breaker, WorkflowGraph Graph, string Name) Breaker(MockPrimitive service,
        CircuitBreakerPolicy policy)
    {
        var name = Unique("breaker");
        var breaker = new CircuitBreakerPrimitive(service, policy, name);
        return (breaker, Materialize(breaker), name);
    }

    private static CircuitBreakerPolicy Policy(int failures = 3, int successes = 2) =>
        new() { FailureThreshold = failures, RecoveryTimeout = Recovery, SuccessThreshold = successes };

    private async Task<WorkflowRunResult> Run(WorkflowGraph graph, string input) => await Within(graph.RunAsync(input));

    private object? CircuitStateOf(WorkflowRunResult result, string name) =>
        SpanOf(result, name).GetTagItem(TelemetryNames.Catalog.Attributes.CircuitState);

    [Fact]
    public async Task CircuitBreaker_should_open_after_consecutive_failures_and_reject_without_calling_the_inner_primitive()
    {
        using var metrics = new MetricRecorder(
            TelemetryNames.Catalog.Metrics.CircuitBreakerTransitions, TelemetryNames.Catalog.Metrics.CircuitBreakerState);
        var service = Service();
        var (breaker, graph, name) = Breaker(service, Policy(failures: 3));
        var openedAt = Scheduler.Now;

        for (var i = 0; i < 2; i++)
        {
            var failed = await Run(graph, Fail);
            Assert.IsType<InvalidOperationException>(failed.Failure!.Exception);
            Assert.Equal(CircuitState.Closed, (await breaker.GetStatusAsync()).State);
        }
        var opening = await Run(graph, Fail);
        Assert.IsType<InvalidOperationException>(opening.Failure!.Exception);
        var status = await breaker.GetStatusAsync();
        Assert.Equal(CircuitState.Open, status.State);
        Assert.Equal(openedAt, status.OpenedAt);

        var rejected = await Run(graph, "q");
        var error = Assert.IsType<CircuitBreakerOpenException>(rejected.Failure!.Exception);
        Assert.Equal(3, error.FailureCount);
        Assert.Equal(openedAt + Recovery, error.RetryAt);
        Assert.Equal(3, service.CallCount);

        Assert.Equal("closed", CircuitStateOf(opening, name));
        var transition = Assert.Single(SpanOf(opening, name).Events, e => e.Name == TelemetryNames.Catalog.Events.CircuitTransition);
        Assert.Equal("closed", transition.Tags.Single(t => t.Key == TelemetryNames.Catalog.Attributes.CircuitFromState).Value);
        Assert.Equal("open", transition.Tags.Single(t => t.Key == TelemetryNames.Catalog.Attributes.CircuitToState).Value);
        Assert.Equal("open", CircuitStateOf(rejected, name));
        Assert.Equal(ActivityStatusCode.Error, SpanOf(rejected, name).Status);
        Assert.DoesNotContain(SpansOf(rejected), s => s.DisplayName == "primitive.service");

        var move = Assert.Single(metrics.Of(TelemetryNames.Catalog.Metrics.CircuitBreakerTransitions, name));
        Assert.Equal(("closed", "open"), (move.Tag("from_state"), move.Tag("to_state")));
        Assert.Equal([0.0, 2.0], metrics.Of(TelemetryNames.Catalog.Metrics.CircuitBreakerState, name).Select(m => m.Value));
    }

    [Fact]
    public async Task CircuitBreaker_should_count_only_consecutive_failures()
    {
        var (breaker, graph, _) = Breaker(Service(), Policy(failures: 3));

        await Run(graph, Fail);
        await Run(graph, Fail);
        Assert.True((await Run(graph, "q")).Succeeded);
        await Run(graph, Fail);
        await Run(graph, Fail);

        var status = await breaker.GetStatusAsync();
        Assert.Equal(CircuitState.Closed, status.State);
        Assert.Equal(2, status.ConsecutiveFailures);
    }

    [Fact]
    public async Task CircuitBreaker_should_stay_open_until_the_exact_recovery_timeout_then_close_after_enough_half_open_successes()
    {
        using var metrics = new MetricRecorder(
            TelemetryNames.Catalog.Metrics.CircuitBreakerTransitions, TelemetryNames.Catalog.Metrics.CircuitBreakerState);
        var service = Service();
        var (breaker, graph, name) = Breaker(service, Policy(failures: 1, successes: 2));
        await Run(graph, Fail);
        Assert.Equal(CircuitState.Open, (await breaker.GetStatusAsync()).State);

        Scheduler.Advance(Recovery - OneTick);
        Assert.IsType<CircuitBreakerOpenException>((await Run(graph, "early")).Failure!.Exception);
        Assert.Equal(1, service.CallCount);

        Scheduler.Advance(OneTick);
        var probe = await Run(graph, "probe");
        Assert.Equal("ok:probe", probe.Output);
        Assert.Equal("half_open", CircuitStateOf(probe, name));
        var halfOpen = await breaker.GetStatusAsync();
        Assert.Equal(CircuitState.HalfOpen, halfOpen.State);
        Assert.Equal(1, halfOpen.HalfOpenSuccesses);

        var closing = await Run(graph, "second");
        Assert.Equal("ok:second", closing.Output);
        Assert.Equal("half_open", CircuitStateOf(closing, name));
        Assert.Equal(CircuitState.Closed, (await breaker.GetStatusAsync()).State);
        Assert.Equal("closed", CircuitStateOf(await Run(graph, "after"), name));
        Assert.Equal(4, service.CallCount);

        var moves = metrics.Of(TelemetryNames.Catalog.Metrics.CircuitBreakerTransitions, name)
            .Select(m => (m.Tag("from_state"), m.Tag("to_state")));
        Assert.Equal([("closed", "open"), ("open", "half_open"), ("half_open", "closed")], moves);
        Assert.Equal([0.0, 2.0, 1.0, 0.0], metrics.Of(TelemetryNames.Catalog.Metrics.CircuitBreakerState, name).Select(m => m.Value));
    }

    [Fact]
    public async Task CircuitBreaker_should_reopen_on_any_failure_in_half_open()
    {
        var service = Service();
        var (breaker, graph, name) = Breaker(service, Policy(failures: 2, successes: 3));
        await Run(graph, Fail);
        await Run(graph, Fail);
        Scheduler.Advance(Recovery);
        Assert.True((await Run(graph, "probe")).Succeeded);

        var reopening = await Run(graph, Fail);
        var reopenedAt = Scheduler.Now;

        Assert.IsType<InvalidOperationException>(reopening.Failure!.Exception);
        Assert.Equal("half_open", CircuitStateOf(reopening, name));
        var status = await breaker.GetStatusAsync();
        Assert.Equal(CircuitState.Open, status.State);
        Assert.Equal(reopenedAt, status.OpenedAt);
        Assert.IsType<CircuitBreakerOpenException>((await Run(graph, "q")).Failure!.Exception);
        Assert.Equal(4, service.CallCount);
    }

    [Fact]
    public async Task CircuitBreaker_should_ignore_failures_the_expected_exception_filter_does_not_count()
    {
        var throwTimeout = false;
        var service = Service(() => throwTimeout ? new TimeoutException("slow") : new InvalidOperationException("bad input"));
        var (breaker, graph, _) = Breaker(service, Policy(failures: 2).ExpectedException<TimeoutException>());

        for (var i = 0; i < 4; i++)
            Assert.IsType<InvalidOperationException>((await Run(graph, Fail)).Failure!.Exception);
        Assert.Equal(CircuitState.Closed, (await breaker.GetStatusAsync()).State);
        Assert.Equal(4, service.CallCount);

        throwTimeout = true;
        await Run(graph, Fail);
        await Run(graph, Fail);
        Assert.Equal(CircuitState.Open, (await breaker.GetStatusAsync()).State);
    }

    [Fact]
    public async Task CircuitBreaker_reset_should_close_an_open_circuit_and_let_calls_through()
    {
        using var metrics = new MetricRecorder(TelemetryNames.Catalog.Metrics.CircuitBreakerTransitions);
        var service = Service();
        var (breaker, graph, name) = Breaker(service, Policy(failures: 1));
        await Run(graph, Fail);
        Assert.IsType<CircuitBreakerOpenException>((await Run(graph, "q")).Failure!.Exception);

        await breaker.ResetAsync();

        var status = await breaker.GetStatusAsync();
        Assert.Equal(CircuitState.Closed, status.State);
        Assert.Equal(0, status.ConsecutiveFailures);
        Assert.Null(status.LastFailure);
        Assert.Equal("ok:q", (await Run(graph, "q")).Output);
        Assert.Equal(2, service.CallCount);
        Assert.Equal(("open", "closed"), metrics.Of(TelemetryNames.Catalog.Metrics.CircuitBreakerTransitions, name)
            .Select(m => (m.Tag("from_state"), m.Tag("to_state"))).Last());
    }

    [Fact]
    public async Task CircuitBreaker_status_should_say_when_the_breaker_is_not_materialised()
    {
        var breaker = new CircuitBreakerPrimitive(Service(), Policy(), "alone");
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => breaker.GetStatusAsync());
        Assert.Contains("WorkflowGraph.Materialize", error.Message);
    }
}
