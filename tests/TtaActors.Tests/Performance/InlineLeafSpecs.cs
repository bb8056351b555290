using System.Diagnostics;
using TtaActors.Actors.Execution;
using TtaActors.Actors.Primitives;
using TtaActors.Telemetry;
using TtaActors.Tests.Primitives;
using TtaActors.Tests.Support;

namespace TtaActors.Tests.Performance;

/// <summary>
/// Leaf steps run inside their composite's turn (WorkflowGraphOptions.InlineLeafSteps) and graphs materialised more
/// than once (RootInstances): the fast paths must give the same answers and spans as the actor path.
/// </summary>
public class InlineLeafSpecs : PrimitiveSpec, IDisposable
{
    private readonly SpanRecorder _spans = new();

    private static SequentialPrimitive Steps() => new(
    [
        Lambda.From<int, int>(x => x + 1, "sync"),
        Lambda.FromAsync<int, int>(async (x, _) =>
        {
            await Task.Yield();
            return x * 10;
        }, "async"),
        Lambda.From<int, int>(x => x == 20 ? throw new InvalidOperationException("twenty") : x + 2, "maybe-failing"),
    ]);

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Leaf_steps_should_answer_and_trace_the_same_inline_and_in_their_own_actors(bool inline)
    {
        var graph = WorkflowGraph.Materialize(Sys, Steps(), $"inline-{inline}",
            new WorkflowGraphOptions { ServiceName = "tta-test", InlineLeafSteps = inline });

        var ok = await graph.RunAsync(0, options: new RunOptions { Timeout = TimeSpan.FromSeconds(30) });
        var failed = await graph.RunAsync(1, options: new RunOptions { Timeout = TimeSpan.FromSeconds(30) });

        Assert.Equal(12, ok.Output);
        var failure = Assert.IsType<InvalidOperationException>(failed.Failure!.Exception);
        Assert.Equal("twenty", failure.Message);
        Assert.EndsWith("maybe-failing[2]", failed.Failure.PrimitivePath);

        var trace = _spans.ForTrace(ok.TraceId);
        Assert.Empty(SpanTree.Orphans(trace));
        var sequential = SpanTree.Single(trace, "primitive.SequentialPrimitive");
        var steps = SpanTree.ChildrenOf(trace, sequential).OrderBy(s => s.StartTimeUtc).ToList();
        Assert.Equal(["primitive.sync", "primitive.async", "primitive.maybe-failing"], steps.Select(s => s.DisplayName));
        Assert.Equal([0, 1, 2], steps.Select(s => (int)s.GetTagItem(TelemetryNames.Attributes.StepIndex)!));
        Assert.All(steps, s => Assert.Equal(TelemetryNames.Status.Success, s.GetTagItem(TelemetryNames.Attributes.PrimitiveStatus)));
        Assert.All(steps, s => Assert.Equal("LambdaPrimitive", s.GetTagItem(TelemetryNames.Attributes.PrimitiveType)));

        var failedStep = SpanTree.Single(_spans.ForTrace(failed.TraceId), "primitive.maybe-failing");
        Assert.Equal(ActivityStatusCode.Error, failedStep.Status);
        Assert.Equal(TelemetryNames.Status.Error, failedStep.GetTagItem(TelemetryNames.Attributes.PrimitiveStatus));
    }

    [Fact]
    public async Task A_long_sequential_of_inline_steps_should_run_in_a_loop_not_a_recursion()
    {
        // Each inline answer is handled after the step that gave it, not inside it: 20,000 nested calls would overflow the stack.
        var steps = Enumerable.Range(0, 20_000).Select(i => (Primitive)Lambda.From<int, int>(x => x + 1, "step"));

        var result = await Run(new SequentialPrimitive(steps), 0);

        Assert.Equal(20_000, result.Output);
    }

    [Fact]
    public void A_graph_should_be_materialised_as_often_as_asked_unless_a_primitive_shares_state_across_runs()
    {
        var step = Lambda.From<int, int>(x => x, "step");
        var options = new WorkflowGraphOptions { ServiceName = "tta-test", RootInstances = 3 };

        Assert.Equal(3, WorkflowGraph.Materialize(Sys, new SequentialPrimitive([step]), "copies", options).Roots.Count);
        Assert.Equal(Environment.ProcessorCount,
            WorkflowGraph.Materialize(Sys, new SequentialPrimitive([step]), "default-copies").Roots.Count);
        Assert.Single(WorkflowGraph.Materialize(Sys, new SequentialPrimitive([new CircuitBreakerPrimitive(step)]), "breaker", options).Roots);
        Assert.Single(WorkflowGraph.Materialize(Sys, new SequentialPrimitive([new CachePrimitive(step, TimeSpan.FromMinutes(1))]), "cache", options).Roots);
        var error = Assert.Throws<ArgumentOutOfRangeException>(() =>
            WorkflowGraph.Materialize(Sys, step, "none", options with { RootInstances = 0 }));
        Assert.Contains("RootInstances", error.Message);
    }

    [Fact]
    public async Task Runs_should_be_spread_over_every_copy_of_the_graph()
    {
        var graph = WorkflowGraph.Materialize(Sys, new SequentialPrimitive([Lambda.From<int, int>(x => x + 1, "step")]), "spread",
            new WorkflowGraphOptions { ServiceName = "tta-test", RootInstances = 2 });
        var roots = new HashSet<string>();
        for (var i = 0; i < 4; i++)
        {
            var result = await graph.RunAsync(i, options: new RunOptions { Timeout = TimeSpan.FromSeconds(30) });
            Assert.Equal(i + 1, result.Output);
        }
        foreach (var root in graph.Roots) roots.Add(root.Path.Name);
        Assert.Equal(2, roots.Count);
    }

    public new void Dispose()
    {
        _spans.Dispose();
        base.Dispose();
    }
}
