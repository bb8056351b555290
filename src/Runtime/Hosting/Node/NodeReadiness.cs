using Akka.Actor;
using Akka.Cluster;
using TtaActors.Actors.Sessions;

namespace TtaActors.Runtime.Node;

/// <summary>One condition of <c>GET /readyz</c>; the cluster and persistence add theirs beside the node's own.</summary>
public interface INodeReadinessCheck
{
    /// <summary>The check's name in the <c>/readyz</c> answer.</summary>
    string Name { get; }

    /// <summary>Null when ready, else what is not ready yet.</summary>
    Task<string?> CheckAsync(CancellationToken cancellation);
}

/// <summary>The actor system is running (started, not shutting down).</summary>
public sealed class ActorSystemReadiness(ActorSystem system) : INodeReadinessCheck
{
    /// <inheritdoc/>
    public string Name => "actor-system";

    /// <inheritdoc/>
    public Task<string?> CheckAsync(CancellationToken cancellation) =>
        Task.FromResult(system.WhenTerminated.IsCompleted || CoordinatedShutdown.Get(system).ShutdownReason is not null
            ? "the actor system is shutting down"
            : null);
}

/// <summary>The workflow files were loaded (a node is not ready before it knows what it can run).</summary>
public sealed class WorkflowsLoadedReadiness : INodeReadinessCheck
{
    private volatile bool _loaded;

    /// <inheritdoc/>
    public string Name => "workflows";

    /// <summary>Called once the workflow files are loaded.</summary>
    public void MarkLoaded() => _loaded = true;

    /// <inheritdoc/>
    public Task<string?> CheckAsync(CancellationToken cancellation) =>
        Task.FromResult(_loaded ? null : "workflow files are still loading");
}

/// <summary>This node is an Up member of its cluster.</summary>
public sealed class ClusterMemberReadiness(ActorSystem system) : INodeReadinessCheck
{
    /// <inheritdoc/>
    public string Name => "cluster-member";

    /// <inheritdoc/>
    public Task<string?> CheckAsync(CancellationToken cancellation)
    {
        var status = Akka.Cluster.Cluster.Get(system).SelfMember.Status;
        return Task.FromResult(status == MemberStatus.Up ? null : $"this node is {status}, not Up, in the cluster");
    }
}

/// <summary>
/// The persona sessions answer, which needs their journal: reading the probe session recovers it from the journal,
/// so an unreachable database shows here.
/// </summary>
public sealed class SessionJournalReadiness(IPersonaSessions sessions) : INodeReadinessCheck
{
    /// <summary>The session read to probe the journal.</summary>
    public const string ProbeSessionId = "tta-readyz-probe";
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(5);

    /// <inheritdoc/>
    public string Name => "sessions-journal";

    /// <inheritdoc/>
    public async Task<string?> CheckAsync(CancellationToken cancellation)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        timeout.CancelAfter(Limit);
        try
        {
            await sessions.GetAsync(ProbeSessionId, timeout.Token);
            return null;
        }
        catch (Exception error) when (error is not OperationCanceledException || !cancellation.IsCancellationRequested)
        {
            return $"the persona sessions did not answer: {error.Message}";
        }
    }
}
