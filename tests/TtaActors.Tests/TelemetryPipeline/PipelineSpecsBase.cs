using System.Diagnostics;
using Akka.Actor;
using Akka.TestKit;
using Pipeline = TtaActors.Telemetry.Export.TelemetryPipeline;

namespace TtaActors.Tests.TelemetryPipeline;

/// <summary>
/// The telemetry pipeline under test on a virtual clock (Akka's TestScheduler): what every pipeline spec needs to start
/// a pipeline, end spans into it and wait for its actors without racing them.
/// </summary>
public abstract class PipelineSpecsBase(string? config = null) : Akka.TestKit.Xunit2.TestKit(
    "akka.scheduler.implementation = \"Akka.TestKit.TestScheduler, Akka.TestKit\"" + (config is null ? "" : "\n" + config))
{
    protected static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);
    protected TestScheduler Clock => (TestScheduler)Sys.Scheduler;

    protected Pipeline Start(Pipeline pipeline)
    {
        pipeline.Start(Sys);
        // The timers start before the first message is processed; after this answer the virtual clock may move.
        Settle(pipeline);
        return pipeline;
    }

    /// <summary>
    /// Waits until the telemetry actor, then each exporter actor, has handled everything sent to it so far (Identify
    /// is answered in mailbox order), so what the test reads next is what the actors did, not a race with them.
    /// </summary>
    protected void Settle(Pipeline pipeline)
    {
        pipeline.Actor!.Tell(new Identify(0), TestActor);
        ExpectMsg<ActorIdentity>();
        for (var i = 0; i < pipeline.Exporters.Count; i++)
        {
            Sys.ActorSelection(pipeline.Actor.Path / $"exporter-{i}").Tell(new Identify(i), TestActor);
            ExpectMsg<ActorIdentity>(identity => identity.Subject is not null);
        }
    }

    protected static Activity FinishedSpan(string name = "span")
    {
        var span = new Activity(name) { ActivityTraceFlags = ActivityTraceFlags.Recorded };
        span.SetIdFormat(ActivityIdFormat.W3C);
        span.Start();
        span.Stop();
        return span;
    }

    /// <summary>Ends <paramref name="count"/> recorded spans named s0, s1, … into the pipeline, in order.</summary>
    protected static List<Activity> End(Pipeline pipeline, int count)
    {
        var spans = Enumerable.Range(0, count).Select(i => FinishedSpan($"s{i}")).ToList();
        foreach (var span in spans) pipeline.Processor.OnEnd(span);
        return spans;
    }
}
