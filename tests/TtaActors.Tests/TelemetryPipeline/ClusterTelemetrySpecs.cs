using System.Diagnostics.Metrics;
using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Sharding;
using TtaActors.Runtime.Hosting;
using TtaActors.Telemetry;

namespace TtaActors.Tests.TelemetryPipeline;

/// <summary>Cluster members and sharded entities reported from a real single-node cluster on loopback.</summary>
public class ClusterTelemetrySpecs() : Akka.TestKit.Xunit2.TestKit("""
    akka.loglevel = WARNING
    akka.actor.provider = cluster
    akka.remote.dot-netty.tcp { hostname = 127.0.0.1, port = 0 }
    """)
{
    private sealed class Entity : UntypedActor
    {
        protected override void OnReceive(object message) => Sender.Tell(message);
    }

    private sealed class Extractor() : HashCodeMessageExtractor(10)
    {
        public override string EntityId(object message) => (string)message;
    }

    [Fact]
    public void Members_by_status_and_entities_per_region_should_be_reported()
    {
        var cluster = Akka.Cluster.Cluster.Get(Sys);
        cluster.Join(cluster.SelfAddress);
        AwaitCondition(() => cluster.State.Members.Any(m => m.Status == MemberStatus.Up), TimeSpan.FromSeconds(30));
        var region = ClusterSharding.Get(Sys).Start("spec-entity", Props.Create(() => new Entity()), ClusterShardingSettings.Create(Sys), new Extractor());
        foreach (var id in new[] { "a", "b", "c" })
        {
            region.Tell(id, TestActor);
            ExpectMsg(id, TimeSpan.FromSeconds(30));
        }

        using var reporting = ClusterTelemetry.Start(Sys, TimeSpan.FromMilliseconds(200));

        AwaitAssert(() =>
        {
            var seen = Collect();
            Assert.Contains((TelemetryNames.ActorMetrics.ClusterMembers, "up", 1L), seen);
            Assert.Contains((TelemetryNames.ActorMetrics.ClusterMembers, "unreachable", 0L), seen);
            Assert.Contains((TelemetryNames.ActorMetrics.ShardedEntities, "spec-entity", 3L), seen);
        }, TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(200));

        reporting.Dispose();
        Assert.DoesNotContain(Collect(), m => m.Label == "spec-entity");
    }

    private static List<(string Instrument, string Label, long Value)> Collect()
    {
        var seen = new List<(string, string, long)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == TelemetryNames.SourceName
                && instrument.Name is TelemetryNames.ActorMetrics.ClusterMembers or TelemetryNames.ActorMetrics.ShardedEntities)
                l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            lock (seen) seen.Add((instrument.Name, tags.ToArray().Single().Value!.ToString()!, value));
        });
        listener.Start();
        _ = TtaInstrumentation.ClusterMembers;
        listener.RecordObservableInstruments();
        return seen;
    }
}
