using Akka.Actor;
using TtaActors.Actors.Execution;
using TtaActors.Actors.Primitives;

namespace TtaActors.Tests.Primitives;

/// <summary>A graph's life ends: stopping or disposing it stops its actors and fails its runs, in flight and later.</summary>
public sealed class WorkflowGraphStopSpecs : PrimitiveSpec
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    /// <summary>A step that signals when it starts and then waits for something that never happens, ignoring its token.</summary>
    private sealed class StuckStep
    {
        private int _calls;
        public TaskCompletionSource Entered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public int Calls => Volatile.Read(ref _calls);

        public LambdaPrimitive Primitive(string name) => new(async (_, _, _) =>
        {
            Interlocked.Increment(ref _calls);
            Entered.TrySetResult();
            await new TaskCompletionSource().Task;
            return new StepOutcome(null);
        }, name);
    }

    private static Primitive Stuck(StuckStep step) => Lambda.From<string, string>(s => s, "prepare") >> step.Primitive("wait-forever");

    private WorkflowGraph MaterializeWithoutDeadline(Primitive definition, string name) =>
        WorkflowGraph.Materialize(Sys, definition, name,
            new WorkflowGraphOptions { ServiceName = "tta-test", DefaultTimeout = Timeout.InfiniteTimeSpan, RootInstances = 2 });

    [Fact]
    public async Task Stopping_a_graph_should_fail_its_runs_in_flight_with_an_error_naming_the_graph_and_where_they_were()
    {
        var step = new StuckStep();
        var graph = MaterializeWithoutDeadline(Stuck(step), "stoppable");
        var run = graph.RunAsync("input");
        await step.Entered.Task.WaitAsync(Patience);

        await graph.StopAsync().WaitAsync(Patience);
        var result = await run.WaitAsync(Patience);

        var stopped = Assert.IsType<WorkflowGraphStoppedException>(result.Failure!.Exception);
        Assert.Equal("stoppable", stopped.WorkflowName);
        Assert.Equal("stoppable/SequentialPrimitive/wait-forever[1]", stopped.PrimitivePath);
        Assert.Contains("Workflow 'stoppable' was stopped", stopped.Message, StringComparison.Ordinal);
        Assert.Equal(typeof(WorkflowGraphStoppedException).FullName, result.Failure.ErrorType);
    }

    [Fact]
    public async Task Stopping_a_graph_should_stop_every_copy_of_its_actors()
    {
        var graph = MaterializeWithoutDeadline(Lambda.From<string, string>(s => s + "!", "shout"), "stop-actors");
        Assert.Equal("hi!", await graph.ExecuteAsync("hi"));
        Assert.Equal(2, graph.Roots.Count);
        foreach (var root in graph.Roots) Watch(root);

        await graph.StopAsync().WaitAsync(Patience);

        var terminated = new[] { ExpectMsg<Terminated>(Patience).ActorRef, ExpectMsg<Terminated>(Patience).ActorRef };
        Assert.Equal(graph.Roots.OrderBy(r => r.Path.ToString()), terminated.OrderBy(r => r.Path.ToString()));
    }

    [Fact]
    public async Task A_run_started_after_the_graph_stopped_should_fail_at_once_without_running_a_step()
    {
        var step = new StuckStep();
        var graph = MaterializeWithoutDeadline(step.Primitive("never"), "stopped-before");
        await graph.StopAsync().WaitAsync(Patience);

        var result = await graph.RunAsync("input").WaitAsync(Patience);

        var stopped = Assert.IsType<WorkflowGraphStoppedException>(result.Failure!.Exception);
        Assert.Equal("stopped-before", stopped.WorkflowName);
        Assert.Equal(0, step.Calls);
        var thrown = await Assert.ThrowsAsync<WorkflowFailedException>(() => graph.ExecuteAsync("input").WaitAsync(Patience));
        Assert.IsType<WorkflowGraphStoppedException>(thrown.InnerException);
    }

    [Fact]
    public async Task Disposing_a_graph_should_stop_it_and_stopping_again_should_wait_for_the_same_end()
    {
        var step = new StuckStep();
        WorkflowGraph graph;
        Task<WorkflowRunResult> run;
        await using (graph = MaterializeWithoutDeadline(Stuck(step), "disposable"))
        {
            run = graph.RunAsync("input");
            await step.Entered.Task.WaitAsync(Patience);
        }

        Assert.IsType<WorkflowGraphStoppedException>((await run.WaitAsync(Patience)).Failure!.Exception);
        await graph.StopAsync().WaitAsync(Patience);
        Assert.IsType<WorkflowGraphStoppedException>((await graph.RunAsync("again").WaitAsync(Patience)).Failure!.Exception);
    }

    [Fact]
    public async Task Stopping_one_graph_should_leave_another_graph_of_the_same_definition_running()
    {
        var definition = Lambda.From<string, string>(s => s + "?", "ask");
        var stopped = MaterializeWithoutDeadline(definition, "first");
        var running = MaterializeWithoutDeadline(definition, "second");

        await stopped.StopAsync().WaitAsync(Patience);

        Assert.Equal("ok?", await running.ExecuteAsync("ok").WaitAsync(Patience));
    }
}
