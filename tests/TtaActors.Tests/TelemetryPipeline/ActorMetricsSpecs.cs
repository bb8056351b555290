using System.Diagnostics.Metrics;
using Akka.Actor;
using Akka.Configuration;
using TtaActors.Actors.Primitives;
using TtaActors.Actors.Execution;
using TtaActors.Telemetry;
using TtaActors.Telemetry.ActorMetrics;

namespace TtaActors.Tests.TelemetryPipeline;

/// <summary>Actor-system metrics from the counting mailboxes, without Phobos, labelled by actor type.</summary>
public class ActorMetricsSpecs() : Akka.TestKit.Xunit2.TestKit(InstrumentedMailboxConfig.For(Service).WithFallback(ConfigurationFactory.ParseString("akka.loglevel = WARNING")))
{
    private const string Service = "tta-actor-metrics-spec";
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    private static ActorTypeCounters Counters<T>() => ActorTypeRegistry.For(Service, typeof(T));

    [Fact]
    public void Messages_received_and_live_actors_should_be_counted_per_actor_type()
    {
        var echoes = Enumerable.Range(0, 3).Select(i => Sys.ActorOf(Props.Create(() => new Echo()), $"echo-{i}")).ToList();
        foreach (var echo in echoes)
        {
            for (var i = 0; i < 5; i++) echo.Tell(i, TestActor);
        }
        ReceiveN(15);

        Assert.Equal(15, Counters<Echo>().Received);
        Assert.Equal(3, Counters<Echo>().Live);
        Assert.Equal(0, Counters<Echo>().MailboxDepth);

        Watch(echoes[0]);
        Sys.Stop(echoes[0]);
        ExpectTerminated(echoes[0]);
        AwaitCondition(() => Counters<Echo>().Live == 2, Patience);
    }

    [Fact]
    public void Mailbox_depth_should_count_messages_waiting_behind_a_busy_actor()
    {
        using var gate = new ManualResetEventSlim(false);
        var busy = Sys.ActorOf(Props.Create(() => new Blocking(gate)), "busy");

        for (var i = 0; i < 4; i++) busy.Tell(i);
        AwaitCondition(() => Counters<Blocking>().Received == 1, Patience);

        Assert.Equal(3, Counters<Blocking>().MailboxDepth);
        gate.Set();
        AwaitCondition(() => Counters<Blocking>().MailboxDepth == 0 && Counters<Blocking>().Received == 4, Patience);
    }

    [Fact]
    public async Task A_primitive_actor_that_crashes_on_one_envelope_should_answer_it_and_keep_running_without_a_restart()
    {
        var before = ActorTypeRegistry.For(Service, Type.GetType("TtaActors.Actors.Primitives.SequentialActor, TtaActors.Actors")!).Restarts;
        var graph = WorkflowGraph.Materialize(Sys, Lambda.From<int, int>(x => x) >> Lambda.From<int, int>(x => x), "restarts");
        Assert.True((await graph.RunAsync(1)).Succeeded);

        // An envelope without a context makes the Sequential throw; the crash fails that dispatch and nothing else.
        var broken = new WorkflowEnvelope(RunId.New(), WorkflowEnvelope.NextCallId(), 1, null!, default, null, TestActor);
        graph.Root.Tell(broken);

        var answer = ExpectMsg<PrimitiveFailed>(Patience);
        Assert.Equal(broken.CallId, answer.CallId);
        Assert.Equal("restarts/SequentialPrimitive", answer.Failure.PrimitivePath);
        Assert.True((await graph.RunAsync(2)).Succeeded);
        Assert.Equal(before, ActorTypeRegistry.For(Service, Type.GetType("TtaActors.Actors.Primitives.SequentialActor, TtaActors.Actors")!).Restarts);
    }

    [Fact]
    public void Cluster_and_sharding_sources_should_be_reported_while_registered()
    {
        // Labels no real cluster uses, because the sources are process-wide and other specs run alongside.
        var members = new List<(string, long)> { ("spec-up", 3), ("spec-leaving", 1) };
        var seen = new List<(string Instrument, long Value, string Label)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == TelemetryNames.SourceName
                && instrument.Name is TelemetryNames.ActorMetrics.ClusterMembers or TelemetryNames.ActorMetrics.ShardedEntities)
                l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
            seen.Add((instrument.Name, value, tags.ToArray().Single().Value!.ToString()!)));
        listener.Start();

        using (ActorSystemMetrics.ObserveClusterMembers(() => members))
        using (ActorSystemMetrics.ObserveShardedEntities(() => [("spec-persona-session", 42)]))
        {
            _ = TtaInstrumentation.ClusterMembers;
            listener.RecordObservableInstruments();
        }
        Assert.Contains((TelemetryNames.ActorMetrics.ClusterMembers, 3L, "spec-up"), seen);
        Assert.Contains((TelemetryNames.ActorMetrics.ClusterMembers, 1L, "spec-leaving"), seen);
        Assert.Contains((TelemetryNames.ActorMetrics.ShardedEntities, 42L, "spec-persona-session"), seen);

        seen.Clear();
        listener.RecordObservableInstruments();
        // Only this spec's labels: ClusterTelemetrySpecs registers a real region ("spec-entity") at the same time.
        Assert.DoesNotContain(seen, m => m.Label is "spec-up" or "spec-leaving" or "spec-persona-session");
    }

    private sealed class Echo : UntypedActor
    {
        protected override void OnReceive(object message) => Sender.Tell(message);
    }

    private sealed class Blocking(ManualResetEventSlim gate) : UntypedActor
    {
        protected override void OnReceive(object message) => gate.Wait();
    }
}
