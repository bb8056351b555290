using System.Collections.Concurrent;
using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Sharding;
using TtaActors.Telemetry.ActorMetrics;

namespace TtaActors.Runtime.Hosting;

/// <summary>
/// Feeds <c>akka_cluster_members{status}</c> and <c>akka_sharding_entities{region}</c> when the actor system runs
/// the cluster provider. Members are read from the cluster state at each collection; entity counts are polled from
/// every shard region on this node (an ask, so not inside the collection callback) and the last answer is reported.
/// </summary>
public static class ClusterTelemetry
{
    /// <summary>True when <paramref name="system"/> runs the cluster provider.</summary>
    public static bool IsClustered(ActorSystem system) => ((ExtendedActorSystem)system).Provider is IClusterActorRefProvider;

    /// <summary>Starts reporting for <paramref name="system"/>; reporting stops when the handle is disposed or the system terminates.</summary>
    public static IDisposable Start(ActorSystem system, TimeSpan? shardingPollInterval = null)
    {
        if (!IsClustered(system)) throw new InvalidOperationException($"Actor system '{system.Name}' does not run the cluster provider.");
        var cluster = Akka.Cluster.Cluster.Get(system);
        var entities = new ConcurrentDictionary<string, long>();
        var members = ActorSystemMetrics.ObserveClusterMembers(() => MembersByStatus(cluster));
        var sharded = ActorSystemMetrics.ObserveShardedEntities(() => entities.Select(e => (e.Key, e.Value)));
        var poller = system.ActorOf(Props.Create(() => new ShardingPoller(entities, shardingPollInterval ?? TimeSpan.FromSeconds(5))),
            "tta-sharding-metrics");
        var handle = new Handle(() =>
        {
            members.Dispose();
            sharded.Dispose();
            if (!system.WhenTerminated.IsCompleted) system.Stop(poller);
        });
        system.WhenTerminated.ContinueWith(_ => handle.Dispose(), TaskScheduler.Default);
        return handle;
    }

    private static IEnumerable<(string Status, long Members)> MembersByStatus(Akka.Cluster.Cluster cluster)
    {
        var state = cluster.State;
        var counts = Enum.GetValues<MemberStatus>().ToDictionary(status => status.ToString().ToLowerInvariant(), _ => 0L);
        foreach (var member in state.Members) counts[member.Status.ToString().ToLowerInvariant()]++;
        counts["unreachable"] = state.Unreachable.Count;
        return counts.Select(c => (c.Key, c.Value));
    }

    private sealed class Handle(Action dispose) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0) dispose();
        }
    }

    /// <summary>Asks every shard region of this node for its per-shard entity counts, periodically.</summary>
    private sealed class ShardingPoller : UntypedActor, IWithTimers
    {
        private readonly ConcurrentDictionary<string, long> _entities;
        private readonly TimeSpan _interval;

        public ShardingPoller(ConcurrentDictionary<string, long> entities, TimeSpan interval)
        {
            _entities = entities;
            _interval = interval;
        }

        public ITimerScheduler Timers { get; set; } = null!;

        protected override void PreStart() => Timers.StartPeriodicTimer("poll", Poll.Instance, TimeSpan.Zero, _interval);

        protected override void OnReceive(object message)
        {
            switch (message)
            {
                case Poll:
                    // Sharding is started by whoever uses it; looking must not start it.
                    if (!Context.System.HasExtension<ClusterSharding>()) return;
                    var sharding = ClusterSharding.Get(Context.System);
                    foreach (var typeName in sharding.ShardTypeNames)
                    {
                        sharding.ShardRegion(typeName).Ask<ShardRegionStats>(GetShardRegionStats.Instance, _interval)
                            .PipeTo(Self, success: stats => new RegionCounted(typeName, stats.Stats.Values.Sum()), failure: _ => new RegionUnanswered(typeName));
                    }
                    break;
                case RegionCounted counted:
                    _entities[counted.Region] = counted.Entities;
                    break;
                case RegionUnanswered:
                    break; // keep the last count; the region answers again at the next poll
                default:
                    Unhandled(message);
                    break;
            }
        }

        private sealed class Poll
        {
            public static readonly Poll Instance = new();
        }

        private sealed record RegionCounted(string Region, long Entities);

        private sealed record RegionUnanswered(string Region);
    }
}
