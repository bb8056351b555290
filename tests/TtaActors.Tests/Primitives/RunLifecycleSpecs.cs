using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Time.Testing;
using TtaActors.Actors.Context;
using TtaActors.Actors.Execution;
using TtaActors.Actors.Primitives;
using TtaActors.Telemetry;
using TtaActors.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace TtaActors.Tests.Primitives;

/// <summary>
/// The run lifecycle specs read process-wide gauges and the managed heap, so they run alone, after the parallel specs.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class RunLifecycleCollection
{
    public const string Name = "run lifecycle";
}

/// <summary>
/// Every run ends: at its deadline each primitive holding state for it fails it with one error naming where it was,
/// its spans end with status Error, and nothing stays held. A crash in one run touches no other run.
/// </summary>
[Collection(RunLifecycleCollection.Name)]
public sealed class RunLifecycleSpecs : Akka.TestKit.Xunit2.TestKit
{
    private readonly ITestOutputHelper _output;

    public RunLifecycleSpecs(ITestOutputHelper output) : base("akka.loglevel = WARNING", output: output) => _output = output;

    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Heap a run may leave behind on average, over 10,000 runs that all end at their deadline. Measured: 130-180 B, the
    /// tables of the actors and of the clock grown to hold 10,000 runs at once; a retained run would cost several KB, and
    /// its state is checked exactly by the weak references to its input. The bound is loose (a batch once read above
    /// 1,000 B per run with every input collected: the actor system's own buffers grow in steps).
    /// </summary>
    private const long HeapBytesPerRunBound = 4_000;

    private readonly FakeTimeProvider _clock = new();

    /// <summary>Steps that wait for something that never happens and ignore their token, counting how many started.</summary>
    private sealed class StuckSteps
    {
        private int _started;

        public int Started => Volatile.Read(ref _started);

        public LambdaPrimitive Leaf(string name) => new(async (_, _, _) =>
        {
            Interlocked.Increment(ref _started);
            await new TaskCompletionSource().Task;
            return new StepOutcome(null);
        }, name);
    }

    /// <summary>A cache backend whose lookups never answer, whatever their token says.</summary>
    private sealed class HangingBackend : ICacheBackend
    {
        private int _lookups;

        public int Lookups => Volatile.Read(ref _lookups);

        public ValueTask<CacheLookup> GetAsync(string key, CancellationToken cancellation = default)
        {
            Interlocked.Increment(ref _lookups);
            return new ValueTask<CacheLookup>(new TaskCompletionSource<CacheLookup>().Task);
        }

        public ValueTask SetAsync(string key, object value, TimeSpan timeToLive, CancellationToken cancellation = default) =>
            ValueTask.CompletedTask;

        public ValueTask<bool> RemoveAsync(string key, CancellationToken cancellation = default) => new(false);

        public ValueTask ClearAsync(CancellationToken cancellation = default) => ValueTask.CompletedTask;
    }

    private WorkflowGraph Materialize(Primitive definition, string name) =>
        WorkflowGraph.Materialize(Sys, definition, name, new WorkflowGraphOptions { ServiceName = "tta-test", Clock = _clock });

    private static string Unique(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 9)];

    public static TheoryData<string> StuckShapes => ["leaf", "compensation", "cache"];

    /// <summary>A workflow that gets stuck where <paramref name="shape"/> says, with the path of the place it gets stuck.</summary>
    private (Primitive Definition, string StuckPath, Func<int> Reached) Stuck(string shape, string workflow)
    {
        var steps = new StuckSteps();
        switch (shape)
        {
            case "leaf":
                return (Lambda.From<int, int>(x => x + 1, "prepare") >> steps.Leaf("stuck"),
                    $"{workflow}/SequentialPrimitive/stuck[1]", () => steps.Started);
            case "compensation":
                var forward = Lambda.From<int, int>(_ => throw new InvalidOperationException("forward failed"), "book");
                return (new SagaPrimitive(forward, steps.Leaf("unbook"), "booking"),
                    $"{workflow}/booking/unbook[compensation]", () => steps.Started);
            default:
                var backend = new HangingBackend();
                return (new CachePrimitive(Lambda.From<int, int>(x => x, "expensive"), TimeSpan.FromMinutes(1), backend: backend,
                    name: "cached"), $"{workflow}/cached", () => backend.Lookups);
        }
    }

    [Theory]
    [MemberData(nameof(StuckShapes))]
    public async Task A_stuck_run_should_fail_at_its_deadline_naming_where_it_was_with_its_spans_in_error_and_nothing_held(string shape)
    {
        using var spans = new SpanRecorder();
        var workflow = Unique(shape);
        var (definition, stuckPath, reached) = Stuck(shape, workflow);
        var graph = Materialize(definition, workflow);

        var run = graph.RunAsync(1, WorkflowContext.Create(), new RunOptions { Timeout = Deadline });
        AwaitCondition(() => reached() == 1, Patience);
        Assert.Equal((1L, true), (Gauges.RunsActive(workflow), Gauges.DispatchesPending() >= 1));
        _clock.Advance(Deadline - TimeSpan.FromTicks(1));
        Assert.False(run.IsCompleted);
        _clock.Advance(TimeSpan.FromTicks(1));
        var result = await run.WaitAsync(Patience);

        var error = Assert.IsType<WorkflowDeadlineExceededException>(result.Failure!.Exception);
        Assert.Equal(stuckPath, error.PrimitivePath);
        Assert.Equal(stuckPath, result.Failure.PrimitivePath);
        Assert.Contains($"it was at '{stuckPath}'", error.Message);
        // The spans of everything that held the run: the workflow, its root primitive and the stuck step.
        string[] held = shape == "cache"
            ? ["workflow." + workflow, "primitive." + definition.DisplayName]
            : ["workflow." + workflow, "primitive." + definition.DisplayName, "primitive." + stuckPath.Split('/')[^1].Split('[')[0]];
        AwaitCondition(() => held.All(name => spans.ForTrace(result.TraceId).Any(s => s.DisplayName == name)), Patience);
        var trace = spans.ForTrace(result.TraceId);
        Assert.All(held, name => Assert.Equal(ActivityStatusCode.Error, SpanTree.Single(trace, name).Status));
        AwaitCondition(() => Gauges.RunsActive(workflow) == 0 && Gauges.DispatchesPending() == 0, Patience);
    }

    [Fact]
    public async Task Ten_thousand_runs_stuck_until_their_deadline_should_leave_the_managed_heap_where_it_was()
    {
        const int runs = 10_000;
        var workflow = Unique("heap");
        var steps = new StuckSteps();
        var graph = Materialize(Lambda.From<Marker, Marker>(x => x, "prepare") >> steps.Leaf("stuck"), workflow);
        await RunAllStuck(graph, steps, 200);   // warms up the actors' tables, the JIT and the thread pool

        var before = GC.GetTotalMemory(forceFullCollection: true);
        var inputs = await RunAllStuck(graph, steps, runs);
        var alive = -1;
        AwaitCondition(() => Gauges.RunsActive(workflow) == 0 && Gauges.DispatchesPending() == 0, Patience);

        // The callers have their answers before the actors have read the deadline notices still in their mailboxes, so
        // both checks are read until those are processed; a leak never passes them.
        // Nothing of a run may stay reachable: every input it carried is collected.
        try
        {
            AwaitCondition(() =>
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
                GC.Collect();
                alive = inputs.Count(input => input.IsAlive);
                return alive == 0;
            }, Patience);
        }
        finally
        {
            _output.WriteLine($"inputs still reachable: {alive}");
        }
        long after = 0;
        AwaitCondition(() => (after = GC.GetTotalMemory(forceFullCollection: true)) - before < HeapBytesPerRunBound * runs
                             || TtaInstrumentation.ActivitySource.HasListeners(), Patience);
        _output.WriteLine($"managed heap before {before:N0} B, after {after:N0} B, {(after - before) / (double)runs:N1} B per run");
        // A span listener elsewhere in the process keeps the spans it recorded, which are not the runtime's.
        if (!TtaInstrumentation.ActivitySource.HasListeners())
            Assert.True(after - before < HeapBytesPerRunBound * runs,
                $"{runs} runs that ended at their deadline left {after - before:N0} B on the heap (bound {HeapBytesPerRunBound * runs:N0} B)");
    }

    private sealed class Marker;

    /// <summary>Starts <paramref name="count"/> runs that get stuck, ends them at their deadline; weak references to their inputs.</summary>
    private async Task<WeakReference[]> RunAllStuck(WorkflowGraph graph, StuckSteps steps, int count)
    {
        var startedBefore = steps.Started;
        var inputs = new WeakReference[count];
        var results = new Task<WorkflowRunResult>[count];
        for (var i = 0; i < count; i++)
        {
            var input = new Marker();
            inputs[i] = new WeakReference(input);
            results[i] = graph.RunAsync(input, WorkflowContext.Create(), new RunOptions { Timeout = Deadline });
        }
        AwaitCondition(() => steps.Started == startedBefore + count, Patience);
        _clock.Advance(Deadline);
        foreach (var result in await Task.WhenAll(results).WaitAsync(Patience))
            Assert.IsType<WorkflowDeadlineExceededException>(result.Failure!.Exception);
        return inputs;
    }

    [Fact]
    public async Task A_crash_in_one_run_should_fail_only_that_run_and_leave_the_others_and_an_open_breaker_below_untouched()
    {
        var workflow = Unique("crash");
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var waiting = 0;
        var service = MockPrimitive.WithSideEffect((_, _) => throw new InvalidOperationException("service down"), "service");
        var breaker = new CircuitBreakerPrimitive(service, failureThreshold: 1, recoveryTimeout: TimeSpan.FromHours(1), name: "breaker");
        var work = Lambda.FromAsync<string, string>(async (input, _) =>
        {
            if (input == "trip") return "tripped";
            if (input == "boom") throw new InvalidOperationException("boom");
            Interlocked.Increment(ref waiting);
            await gate.Task;
            return $"done:{input}";
        }, "work");
        // The retry predicate is the primitive's own code path: when it throws, the Retry itself crashes for that run.
        var policy = new RetryPolicy
        {
            MaxRetries = 1,
            MaxBackoff = 0,
            RetryIf = failure => failure.Message == "boom" ? throw new ArgumentException("the retry predicate crashed") : false,
        };
        var definition = new RetryPrimitive(
            new FallbackPrimitive(breaker, Lambda.From<string, string>(input => input, "bypass")) >> work, policy, "retrying");
        var graph = Materialize(definition, workflow);

        Assert.True((await graph.RunAsync("trip").WaitAsync(Patience)).Succeeded);
        Assert.Equal(CircuitState.Open, (await breaker.GetStatusAsync()).State);
        var others = Enumerable.Range(0, 100).Select(i => graph.RunAsync($"r{i}")).ToArray();
        AwaitCondition(() => Volatile.Read(ref waiting) == 100, Patience);

        var crashed = await graph.RunAsync("boom").WaitAsync(Patience);
        Assert.IsType<ArgumentException>(crashed.Failure!.Exception);
        Assert.Equal($"{workflow}/retrying", crashed.Failure.PrimitivePath);
        Assert.All(others, run => Assert.False(run.IsCompleted));

        gate.SetResult();
        var results = await Task.WhenAll(others).WaitAsync(Patience);
        Assert.All(results, r => Assert.True(r.Succeeded, r.Failure?.ToString()));
        Assert.Equal(Enumerable.Range(0, 100).Select(i => $"done:r{i}"), results.Select(r => r.Output));
        var status = await breaker.GetStatusAsync();
        Assert.Equal(CircuitState.Open, status.State);
        Assert.Equal(1, service.CallCount);
        AwaitCondition(() => Gauges.RunsActive(workflow) == 0 && Gauges.DispatchesPending() == 0, Patience);
    }

    [Fact]
    public async Task A_circuit_breaker_should_answer_its_status_and_a_reset_right_after_materialisation()
    {
        var breaker = new CircuitBreakerPrimitive(MockPrimitive.Returning("ok"), failureThreshold: 1, recoveryTimeout: TimeSpan.FromMinutes(1));
        Materialize(breaker, Unique("fresh"));

        var status = await breaker.GetStatusAsync();
        await breaker.ResetAsync();

        Assert.Equal(CircuitState.Closed, status.State);
    }

    [Fact]
    public void The_default_deadline_should_come_from_configuration_with_none_allowed()
    {
        static TimeSpan Read(string hocon) => WorkflowGraph.ConfiguredDeadline(Akka.Configuration.ConfigurationFactory.ParseString(hocon));

        Assert.Equal(TimeSpan.FromSeconds(90), Read("tta.workflow.default-deadline = 90s"));
        Assert.Equal(Timeout.InfiniteTimeSpan, Read("tta.workflow.default-deadline = none"));
        Assert.Equal(WorkflowGraph.BuiltInDefaultDeadline, Read("akka.loglevel = INFO"));
        var error = Assert.Throws<Akka.Configuration.ConfigurationException>(() => Read("tta.workflow.default-deadline = soon"));
        Assert.Contains("tta.workflow.default-deadline", error.Message);
        Assert.Equal(TimeSpan.FromMinutes(5), Read(TtaActors.Runtime.Hosting.HoconFiles.Text("base.conf")));
    }

    [Fact]
    public async Task A_run_without_a_timeout_should_get_the_configured_default_deadline()
    {
        var workflow = Unique("default");
        var steps = new StuckSteps();
        var graph = WorkflowGraph.Materialize(Sys, steps.Leaf("stuck"), workflow,
            new WorkflowGraphOptions { Clock = _clock, DefaultTimeout = TimeSpan.FromSeconds(42) });

        var run = graph.RunAsync(1);
        AwaitCondition(() => steps.Started == 1, Patience);
        _clock.Advance(TimeSpan.FromSeconds(42));
        var result = await run.WaitAsync(Patience);

        Assert.Equal(TimeSpan.FromSeconds(42), Assert.IsType<WorkflowDeadlineExceededException>(result.Failure!.Exception).Timeout);
    }

    /// <summary>
    /// Runs with the graph's default deadline share one timer: each still fails at its own deadline, measured from its own
    /// start, whatever finished in between; a run with a deadline of its own keeps its own.
    /// </summary>
    [Fact]
    public async Task Runs_sharing_the_default_deadline_timer_should_each_fail_at_their_own_deadline()
    {
        var workflow = Unique("shared");
        var started = 0;
        var step = new LambdaPrimitive(async (input, _, _) =>
        {
            if ((int)input! == 0) return new StepOutcome(0);
            Interlocked.Increment(ref started);
            await new TaskCompletionSource().Task;
            return new StepOutcome(null);
        }, "maybe-stuck");
        var graph = WorkflowGraph.Materialize(Sys, step, workflow,
            new WorkflowGraphOptions { Clock = _clock, DefaultTimeout = TimeSpan.FromSeconds(10) });

        var first = graph.RunAsync(1);
        AwaitCondition(() => Volatile.Read(ref started) == 1, Patience);
        _clock.Advance(TimeSpan.FromSeconds(4));
        Assert.True((await graph.RunAsync(0).WaitAsync(Patience)).Succeeded);
        var second = graph.RunAsync(2);
        AwaitCondition(() => Volatile.Read(ref started) == 2, Patience);
        _clock.Advance(TimeSpan.FromSeconds(4));
        var own = graph.RunAsync(3, null, new RunOptions { Timeout = TimeSpan.FromSeconds(3) });
        AwaitCondition(() => Volatile.Read(ref started) == 3, Patience);

        _clock.Advance(TimeSpan.FromSeconds(2));
        var firstResult = await first.WaitAsync(Patience);
        Assert.Equal(TimeSpan.FromSeconds(10), Assert.IsType<WorkflowDeadlineExceededException>(firstResult.Failure!.Exception).Timeout);
        Assert.False(second.IsCompleted);
        Assert.False(own.IsCompleted);

        _clock.Advance(TimeSpan.FromSeconds(1));
        var ownResult = await own.WaitAsync(Patience);
        Assert.Equal(TimeSpan.FromSeconds(3), Assert.IsType<WorkflowDeadlineExceededException>(ownResult.Failure!.Exception).Timeout);

        _clock.Advance(TimeSpan.FromSeconds(3) - TimeSpan.FromTicks(1));
        Assert.False(second.IsCompleted);
        _clock.Advance(TimeSpan.FromTicks(1));
        var secondResult = await second.WaitAsync(Patience);
        Assert.Equal(TimeSpan.FromSeconds(10), Assert.IsType<WorkflowDeadlineExceededException>(secondResult.Failure!.Exception).Timeout);
        AwaitCondition(() => Gauges.RunsActive(workflow) == 0, Patience);
    }

    /// <summary>Reads the run-lifecycle gauges as a collector would.</summary>
    private static class Gauges
    {
        public static long RunsActive(string workflow) =>
            Read(TelemetryNames.Lifecycle.WorkflowRunsActive, tags => tags.Any(t => t.Key == TelemetryNames.Labels.Workflow && (string?)t.Value == workflow));

        public static long DispatchesPending() => Read(TelemetryNames.Lifecycle.PrimitiveDispatchesPending, _ => true);

        private static long Read(string instrumentName, Func<KeyValuePair<string, object?>[], bool> match)
        {
            long value = 0;
            using var listener = new MeterListener();
            listener.InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == TelemetryNames.SourceName && instrument.Name == instrumentName) l.EnableMeasurementEvents(instrument);
            };
            listener.SetMeasurementEventCallback<long>((_, measurement, tags, _) =>
            {
                if (match(tags.ToArray())) value += measurement;
            });
            listener.Start();
            listener.RecordObservableInstruments();
            return value;
        }
    }
}
