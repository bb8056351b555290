using Microsoft.Agents.AI.Workflows;

namespace TtaActors.Benchmarks.Peers;

/// <summary>
/// The Microsoft Agent Framework peers (Microsoft.Agents.AI.Workflows): function executors joined by edges,
/// run in process the way its samples run them, with its OpenTelemetry option on for the traced variants.
/// </summary>
public static class AgentFrameworkPeers
{
    /// <summary>Executors step-0 .. step-(n-1), each adding one, joined by edges; the last one's result is the output.</summary>
    public static Workflow Chain(int length, bool traced)
    {
        var steps = Enumerable.Range(0, length)
            .Select(i => ((Func<int, int>)(value => value + 1)).BindAsExecutor($"step-{i}", threadsafe: true))
            .ToArray();
        var builder = new WorkflowBuilder(steps[0]);
        for (var i = 1; i < steps.Length; i++) builder.AddEdge(steps[i - 1], steps[i]);
        builder.WithOutputFrom(steps[^1]).WithName("seq10");
        if (traced) builder.WithOpenTelemetry();
        return builder.Build();
    }

    /// <summary>A start executor fanning out to <paramref name="branches"/> executors, joined again by a barrier edge.</summary>
    public static Workflow FanOut(int branches, bool traced)
    {
        var start = ((Func<int, int>)(value => value)).BindAsExecutor("start", threadsafe: true);
        var workers = Enumerable.Range(0, branches)
            .Select(i => ((Func<int, int>)(value => value + 1)).BindAsExecutor($"branch-{i}", threadsafe: true))
            .ToArray();
        // The gatherer counts per run, so each run gets its own instance from a factory.
        var gather = ExecutorBindingExtensions.BindExecutor<FunctionExecutor<int>>((id, _) => ValueTask.FromResult(Gatherer(id, branches)), "gather");
        var builder = new WorkflowBuilder(start)
            .AddFanOutEdge(start, workers)
            .AddFanInBarrierEdge(workers, gather)
            .WithOutputFrom(gather)
            .WithName("fanout100");
        if (traced) builder.WithOpenTelemetry();
        return builder.Build();
    }

    /// <summary>Runs one input through <paramref name="workflow"/> and returns its output.</summary>
    /// <remarks>
    /// The concurrent in-process environment is the one that lets many runs share one workflow instance (the default
    /// one refuses a workflow "already owned by another runner"); every executor here is declared thread-safe.
    /// </remarks>
    public static async ValueTask<T> RunAsync<T>(Workflow workflow, int input)
    {
        await using var run = await InProcessExecution.Concurrent.RunAsync(workflow, input).ConfigureAwait(false);
        var events = run.NewEvents.ToList();
        foreach (var item in events)
        {
            if (item is WorkflowOutputEvent output && output.Is<T>(out var value)) return value;
        }
        throw new InvalidOperationException(
            $"The Agent Framework workflow '{workflow.Name}' finished without an output of type {typeof(T).Name}: " +
            string.Join(", ", events.OfType<ExecutorFailedEvent>().Select(e => $"{e.ExecutorId} failed: {e.Data}")
                .Concat(events.OfType<WorkflowErrorEvent>().Select(e => $"workflow error: {e.Exception?.Message}"))
                .DefaultIfEmpty("no failure reported")));
    }

    /// <summary>Collects the branch results of one run and yields them once all have arrived.</summary>
    private static FunctionExecutor<int> Gatherer(string id, int expected)
    {
        var results = new List<int>(expected);
        return new FunctionExecutor<int>(id, async (message, context, cancellation) =>
        {
            results.Add(message);
            if (results.Count == expected) await context.YieldOutputAsync(results.ToArray(), cancellation).ConfigureAwait(false);
        }, outputTypes: [typeof(int[])]);
    }
}
