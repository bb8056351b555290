using Akka.Actor;
using TtaActors.Actors.Execution;
using TtaActors.Actors.Primitives;

namespace TtaActors.Runtime.Hosting;

/// <summary>The public facade of a running node: materialises workflow definitions on its actor system.</summary>
public sealed class TtaRuntime(ActorSystem system, TtaRuntimeOptions options)
{
    /// <summary>The node's actor system.</summary>
    public ActorSystem System { get; } = system;
    /// <summary>The runtime's settings.</summary>
    public TtaRuntimeOptions Options { get; } = options;

    /// <summary>What of each run's input and output its root span records (the LLM capture policy when LLM settings are registered).</summary>
    public Telemetry.Llm.CapturePolicy TraceContent { get; init; } = Telemetry.Llm.CapturePolicy.Default;

    /// <summary>Spawns the actors of a workflow once; run it as often as needed through the returned graph.</summary>
    public WorkflowGraph Materialize(Primitive definition, string name, TimeSpan? defaultTimeout = null) =>
        WorkflowGraph.Materialize(System, definition, name, new WorkflowGraphOptions
        {
            ServiceName = Options.ServiceName,
            DefaultTimeout = defaultTimeout,
            TraceContent = TraceContent,
        });
}
