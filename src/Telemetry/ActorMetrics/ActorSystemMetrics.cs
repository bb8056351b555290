using System.Collections.Concurrent;
using Akka.Actor;

namespace TtaActors.Telemetry.ActorMetrics;

/// <summary>
/// Entry points for what the mailboxes cannot see: restarts (reported by the restarting actor) and the cluster and
/// sharding gauges, which the runtime provides as callbacks when a cluster is running so that Telemetry does not
/// depend on Akka.Cluster.
/// </summary>
public static class ActorSystemMetrics
{
    private static readonly ConcurrentDictionary<object, Func<IEnumerable<(string Status, long Members)>>> ClusterSources = new();
    private static readonly ConcurrentDictionary<object, Func<IEnumerable<(string Region, long Entities)>>> ShardingSources = new();

    /// <summary>Counts a restart of the actor <paramref name="self"/>; call from <c>PreRestart</c>.</summary>
    public static void RecordRestart(IActorRef self)
    {
        if (self is ActorRefWithCell { Underlying: ActorCell { Mailbox.MessageQueue: ICountingMessageQueue queue } })
            queue.Counters.OnRestarted();
    }

    /// <summary>
    /// Reports cluster members by status (<c>akka_cluster_members{status}</c>) through <paramref name="membersByStatus"/>,
    /// read at each collection, until the returned handle is disposed.
    /// </summary>
    public static IDisposable ObserveClusterMembers(Func<IEnumerable<(string Status, long Members)>> membersByStatus) =>
        Register(ClusterSources, membersByStatus);

    /// <summary>
    /// Reports sharded entities per region (<c>akka_sharding_entities{region}</c>) through <paramref name="entitiesPerRegion"/>
    /// until the returned handle is disposed.
    /// </summary>
    public static IDisposable ObserveShardedEntities(Func<IEnumerable<(string Region, long Entities)>> entitiesPerRegion) =>
        Register(ShardingSources, entitiesPerRegion);

    internal static IEnumerable<(string Status, long Members)> ClusterMembers() => ClusterSources.Values.SelectMany(Safe);

    internal static IEnumerable<(string Region, long Entities)> ShardedEntities() => ShardingSources.Values.SelectMany(Safe);

    // A source whose cluster is shutting down must not break the whole collection.
    private static IEnumerable<T> Safe<T>(Func<IEnumerable<T>> source)
    {
        try
        {
            return source().ToList();
        }
        catch (Exception)
        {
            return [];
        }
    }

    private static IDisposable Register<T>(ConcurrentDictionary<object, T> sources, T source) where T : class
    {
        ArgumentNullException.ThrowIfNull(source);
        var handle = new Registration(key => sources.TryRemove(key, out _));
        sources[handle] = source;
        return handle;
    }

    private sealed class Registration(Action<object> remove) : IDisposable
    {
        public void Dispose() => remove(this);
    }
}
