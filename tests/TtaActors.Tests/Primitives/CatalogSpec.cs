using System.Collections.Concurrent;
using System.Diagnostics;
using Akka.TestKit;
using TtaActors.Actors.Execution;
using TtaActors.Actors.Primitives;
using TtaActors.Telemetry;
using Xunit;
using Xunit.Abstractions;

namespace TtaActors.Tests.Primitives;

/// <summary>
/// Base of the catalog specs: an actor system on Akka's <see cref="TestScheduler"/> (time moves only when a test moves
/// it), and a recorder of the spans TtaActors produces, looked up by the run's trace id.
/// </summary>
public abstract class CatalogSpec : Akka.TestKit.Xunit2.TestKit
{
    private const string TestSchedulerConfig = "akka.scheduler.implementation = \"Akka.TestKit.TestScheduler, Akka.TestKit\"";

    /// <summary>Guards every wait on work the test does not control the timing of; reaching it means the behaviour broke.</summary>
    protected static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    private readonly ConcurrentQueue<Activity> _spans = new();
    private readonly ActivityListener _listener;

    protected CatalogSpec(ITestOutputHelper output) : base(TestSchedulerConfig, output: output)
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == TelemetryNames.SourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity => _spans.Enqueue(activity),
        };
        ActivitySource.AddActivityListener(_listener);
    }

    protected TestScheduler Scheduler => (TestScheduler)Sys.Scheduler;

    protected WorkflowGraph Materialize(Primitive definition, string name = "catalog-spec") =>
        WorkflowGraph.Materialize(Sys, definition, name);

    /// <summary>A primitive name no other test uses, so metrics can be told apart across parallel tests.</summary>
    protected static string Unique(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 9)];

    protected IReadOnlyList<Activity> SpansOf(WorkflowRunResult result)
    {
        Assert.NotNull(result.TraceId);
        return _spans.Where(s => s.TraceId.ToHexString() == result.TraceId).ToList();
    }

    /// <summary>The one span of the primitive named <paramref name="primitiveName"/> in the run.</summary>
    protected Activity SpanOf(WorkflowRunResult result, string primitiveName) =>
        Assert.Single(SpansOf(result), s => s.DisplayName == TelemetryNames.Spans.PrimitivePrefix + primitiveName);

    protected static async Task<T> Within<T>(Task<T> task) => await task.WaitAsync(Patience);

    protected static async Task Within(Task task) => await task.WaitAsync(Patience);

    protected override void AfterAll()
    {
        _listener.Dispose();
        base.AfterAll();
    }
}
