using Akka.Actor;
using Akka.Configuration;
using TtaActors.Actors.Context;
using TtaActors.Actors.Execution;

namespace TtaActors.Actors.Typed;

/// <summary>The answer to one typed run: its output or its failure, the context it ended with, its trace id and LLM usage.</summary>
/// <param name="RunId">The run's id.</param>
/// <param name="Output">What the workflow answered; the type's default when the run failed.</param>
/// <param name="Failure">Why the run failed (the primitive path, the original error); null when it succeeded.</param>
/// <param name="Context">The context the run ended with.</param>
/// <param name="TraceId">The run's trace id, when spans were recorded.</param>
/// <typeparam name="TOut">What the workflow answers.</typeparam>
public sealed record RunResult<TOut>(RunId RunId, TOut? Output, WorkflowFailure? Failure, WorkflowContext Context, string? TraceId)
{
    /// <summary>Whether the run succeeded (then <see cref="Output"/> holds its answer).</summary>
    public bool Succeeded => Failure is null;

    /// <summary>The run's LLM calls, input and output tokens and cost in USD (of the context it ended with).</summary>
    public RunLlmUsage LlmUsage => RunLlmUsage.Of(Context.LlmCalls);
}

/// <summary>
/// A typed workflow materialised into long-lived actors: the typed face of a <see cref="WorkflowGraph"/>, which it owns.
/// Many runs flow through it at once; disposing it stops its actors and fails its runs in flight.
/// </summary>
/// <typeparam name="TIn">What the workflow is given.</typeparam>
/// <typeparam name="TOut">What the workflow answers.</typeparam>
public sealed class WorkflowGraph<TIn, TOut> : IAsyncDisposable
{
    internal WorkflowGraph(WorkflowGraph graph) => Untyped = graph;

    /// <summary>The untyped graph (its root actors, its options, runs with <c>object?</c> payloads).</summary>
    public WorkflowGraph Untyped { get; }

    /// <summary>The workflow's name, as in the <c>workflow.{name}</c> span of every run.</summary>
    public string Name => Untyped.Name;

    /// <summary>Runs the workflow once; a failure is answered as a value, never thrown.</summary>
    /// <param name="input">What the workflow is given.</param>
    /// <param name="context">The run's context; by default a fresh one.</param>
    /// <param name="options">The run's deadline, cancellation and ids; see <see cref="RunOptions"/>.</param>
    public async Task<RunResult<TOut>> RunAsync(TIn input, WorkflowContext? context = null, RunOptions? options = null)
    {
        var result = await Untyped.RunAsync(input, context, options).ConfigureAwait(false);
        if (result.Failure is { } failure) return new(result.RunId, default, failure, result.Context, result.TraceId);
        try
        {
            return new(result.RunId, Payload.As<TOut>(result.Output, $"Workflow '{Name}'"), null, result.Context, result.TraceId);
        }
        catch (InvalidCastException error)
        {
            return new(result.RunId, default, WorkflowFailure.From(Name, error), result.Context, result.TraceId);
        }
    }

    /// <summary>Runs the workflow once and returns its output; a failure throws <see cref="WorkflowFailedException"/>.</summary>
    /// <param name="input">What the workflow is given.</param>
    /// <param name="context">The run's context; by default a fresh one.</param>
    /// <param name="options">The run's deadline, cancellation and ids; see <see cref="RunOptions"/>.</param>
    public async Task<TOut> ExecuteAsync(TIn input, WorkflowContext? context = null, RunOptions? options = null)
    {
        var result = await RunAsync(input, context, options).ConfigureAwait(false);
        return result.Failure is { } failure ? throw new WorkflowFailedException(failure) : result.Output!;
    }

    /// <summary>Stops the graph's actors; see <see cref="WorkflowGraph.StopAsync"/>.</summary>
    /// <param name="cancellation">Stops waiting for the actors to terminate (they still stop).</param>
    public Task StopAsync(CancellationToken cancellation = default) => Untyped.StopAsync(cancellation);

    /// <summary>Stops the graph's actors and fails its runs in flight.</summary>
    public ValueTask DisposeAsync() => Untyped.DisposeAsync();
}

/// <summary>Materialises typed steps into graphs of actors.</summary>
public static class TypedWorkflow
{
    /// <summary>Spawns the actors of <paramref name="workflow"/> under <paramref name="system"/>.</summary>
    /// <param name="workflow">The typed workflow.</param>
    /// <param name="system">The actor system the graph's actors live in.</param>
    /// <param name="name">The workflow's name (span <c>workflow.{name}</c>).</param>
    /// <param name="options">The graph's settings; see <see cref="WorkflowGraphOptions"/>.</param>
    /// <typeparam name="TIn">What the workflow is given.</typeparam>
    /// <typeparam name="TOut">What the workflow answers.</typeparam>
    public static WorkflowGraph<TIn, TOut> Materialize<TIn, TOut>(this Step<TIn, TOut> workflow, ActorSystem system, string name,
        WorkflowGraphOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(workflow);
        ArgumentNullException.ThrowIfNull(system);
        return new(WorkflowGraph.Materialize(system, workflow.Primitive, name, options));
    }

    /// <summary>Spawns the actors of <paramref name="workflow"/> as children of an actor (or the system).</summary>
    /// <param name="workflow">The typed workflow.</param>
    /// <param name="factory">Where the graph's actors are spawned.</param>
    /// <param name="config">Where the default deadline is read when the options set none.</param>
    /// <param name="name">The workflow's name (span <c>workflow.{name}</c>).</param>
    /// <param name="options">The graph's settings; see <see cref="WorkflowGraphOptions"/>.</param>
    /// <typeparam name="TIn">What the workflow is given.</typeparam>
    /// <typeparam name="TOut">What the workflow answers.</typeparam>
    public static WorkflowGraph<TIn, TOut> Materialize<TIn, TOut>(this Step<TIn, TOut> workflow, IActorRefFactory factory, Config config,
        string name, WorkflowGraphOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(workflow);
        return new(WorkflowGraph.Materialize(factory, config, workflow.Primitive, name, options));
    }
}
