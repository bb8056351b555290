using Akka.Actor;

namespace TtaActors.Runtime.Node;

/// <summary>One condition of <c>GET /readyz</c>; the cluster and persistence add theirs beside the node's own.</summary>
public interface INodeReadinessCheck
{
    string Name { get; }

    /// <summary>Null when ready, else what is not ready yet.</summary>
    Task<string?> CheckAsync(CancellationToken cancellation);
}

/// <summary>The actor system is running (started, not shutting down).</summary>
public sealed class ActorSystemReadiness(ActorSystem system) : INodeReadinessCheck
{
    public string Name => "actor-system";

    public Task<string?> CheckAsync(CancellationToken cancellation) =>
        Task.FromResult(system.WhenTerminated.IsCompleted || CoordinatedShutdown.Get(system).ShutdownReason is not null
            ? "the actor system is shutting down"
            : null);
}

/// <summary>The workflow files were loaded (a node is not ready before it knows what it can run).</summary>
public sealed class WorkflowsLoadedReadiness : INodeReadinessCheck
{
    private volatile bool _loaded;

    public string Name => "workflows";

    public void MarkLoaded() => _loaded = true;

    public Task<string?> CheckAsync(CancellationToken cancellation) =>
        Task.FromResult(_loaded ? null : "workflow files are still loading");
}
