using Akka.Actor;
using Akka.Cluster;
using Microsoft.Extensions.Logging;

namespace TtaActors.Runtime.Durable;

/// <summary>
/// Finds unfinished durable runs without a client asking: once the node has loaded its workflows, and again after a
/// cluster member was removed (its runs' shards move to the survivors), it wakes every run the journal shows running or
/// waiting. Waking a run that is already in memory does nothing; remembered entities normally come back by themselves,
/// this is the second way that does not depend on which node kept the shard's memory.
/// </summary>
public static class DurableRunRecovery
{
    /// <summary>How long after a member is removed the sweep runs, so the shards have been handed over.</summary>
    public static TimeSpan AfterMemberRemoved { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Starts the sweeps: once the workflows are loaded and after each member removal, every unfinished run is woken.</summary>
    public static void Start(ActorSystem system, DurableRuns runs, ILogger log)
    {
        _ = SweepAsync(runs, log, "start-up");
        system.ActorOf(Props.Create(() => new MemberWatcher(runs, log)), "durable-run-recovery");
    }

    private static async Task SweepAsync(DurableRuns runs, ILogger log, string reason)
    {
        try
        {
            var woken = await runs.WakeUnfinishedAsync(CancellationToken.None);
            if (woken > 0) log.LogInformation("Durable runs: {Count} unfinished run(s) woken ({Reason})", woken, reason);
        }
        catch (Exception error)
        {
            log.LogWarning(error, "Durable runs: unfinished runs could not be read from the journal ({Reason}): {Message}; they are woken by their next request",
                reason, error.Message);
        }
    }

    private sealed class MemberWatcher : ReceiveActor
    {
        public MemberWatcher(DurableRuns runs, ILogger log)
        {
            Receive<ClusterEvent.MemberRemoved>(removed =>
                Context.System.Scheduler.Advanced.ScheduleOnce(AfterMemberRemoved, () => _ = SweepAsync(runs, log, $"member {removed.Member.Address} removed")));
            Receive<ClusterEvent.IMemberEvent>(_ => { });
            Receive<ClusterEvent.CurrentClusterState>(_ => { });
        }

        protected override void PreStart() =>
            Akka.Cluster.Cluster.Get(Context.System).Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsSnapshot, typeof(ClusterEvent.MemberRemoved));

        protected override void PostStop() => Akka.Cluster.Cluster.Get(Context.System).Unsubscribe(Self);
    }
}
