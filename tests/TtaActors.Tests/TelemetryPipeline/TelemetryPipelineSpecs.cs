using System.Diagnostics;
using Akka.Actor;
using Akka.TestKit;
using TtaActors.Telemetry.Export;
using Pipeline = TtaActors.Telemetry.Export.TelemetryPipeline;

namespace TtaActors.Tests.TelemetryPipeline;

/// <summary>
/// The telemetry actor on a virtual clock (Akka's TestScheduler): batching by size and by time, flush, retry with
/// backoff, the memory bound and isolation of a hanging exporter.
/// </summary>
public class TelemetryPipelineSpecs() : Akka.TestKit.Xunit2.TestKit(
    "akka.scheduler.implementation = \"Akka.TestKit.TestScheduler, Akka.TestKit\"")
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);
    private TestScheduler Clock => (TestScheduler)Sys.Scheduler;

    private Pipeline Start(TelemetryPipelineOptions options, params TestExporter[] exporters)
    {
        var pipeline = new Pipeline(
            exporters.Select((e, i) => new NamedExporter($"test-{i}", e)), options);
        var actor = pipeline.Start(Sys);
        // The timers start before the first message is processed; after this answer the virtual clock may move.
        actor.Tell(new Identify(1), TestActor);
        ExpectMsg<ActorIdentity>();
        return pipeline;
    }

    private static Activity FinishedSpan(string name = "span")
    {
        var span = new Activity(name) { ActivityTraceFlags = ActivityTraceFlags.Recorded };
        span.SetIdFormat(ActivityIdFormat.W3C);
        span.Start();
        span.Stop();
        return span;
    }

    private static List<Activity> End(Pipeline pipeline, int count)
    {
        var spans = Enumerable.Range(0, count).Select(i => FinishedSpan($"s{i}")).ToList();
        foreach (var span in spans) pipeline.Processor.OnEnd(span);
        return spans;
    }

    [Fact]
    public void A_full_batch_should_be_exported_without_waiting_for_the_delay()
    {
        var exporter = new TestExporter();
        using var pipeline = Start(new TelemetryPipelineOptions { MaxExportBatchSize = 4, ScheduledDelay = TimeSpan.FromHours(1) }, exporter);

        var spans = End(pipeline, 4);

        AwaitCondition(() => exporter.Exported.Count == 4, Patience);
        Assert.Equal(spans.Select(s => s.SpanId.ToHexString()), exporter.Exported);
        Assert.Equal(1, exporter.BatchesExported);
    }

    [Fact]
    public void A_partial_batch_should_wait_for_the_delay_and_then_be_exported()
    {
        var exporter = new TestExporter();
        var options = new TelemetryPipelineOptions { MaxExportBatchSize = 4, ScheduledDelay = TimeSpan.FromSeconds(5) };
        using var pipeline = Start(options, exporter);

        End(pipeline, 3);
        Assert.Equal(3, pipeline.QueueDepth);
        Assert.Equal(0, exporter.Calls);

        Clock.Advance(options.ScheduledDelay);

        AwaitCondition(() => exporter.Exported.Count == 3, Patience);
        Assert.Equal(0, pipeline.QueueDepth);
    }

    [Fact]
    public async Task Flush_should_return_once_everything_queued_so_far_is_exported()
    {
        var first = new TestExporter();
        var second = new TestExporter();
        using var pipeline = Start(new TelemetryPipelineOptions { MaxExportBatchSize = 8, ScheduledDelay = TimeSpan.FromHours(1) }, first, second);
        End(pipeline, 21);

        Assert.True(await pipeline.FlushAsync(Patience));

        Assert.Equal(21, first.Exported.Count);
        Assert.Equal(21, second.Exported.Count);
        var statistics = pipeline.Statistics();
        Assert.Equal(21, statistics["test-0"].Exported);
        Assert.Equal(0, statistics["test-0"].DroppedTotal);
        Assert.Equal(0, statistics["test-1"].Backlog);
    }

    [Fact]
    public async Task A_failed_export_should_be_retried_after_backoff_and_delivered_exactly_once()
    {
        var exporter = new TestExporter();
        exporter.FailNext(2);
        var options = new TelemetryPipelineOptions
        {
            MaxExportBatchSize = 4, ScheduledDelay = TimeSpan.FromHours(1),
            InitialRetryBackoff = TimeSpan.FromSeconds(2), MaxRetryBackoff = TimeSpan.FromSeconds(60),
        };
        using var pipeline = Start(options, exporter);
        var spans = End(pipeline, 4);

        AwaitCondition(() => pipeline.Statistics()["test-0"].Retries == 1, Patience);
        Clock.Advance(TimeSpan.FromSeconds(2));
        AwaitCondition(() => pipeline.Statistics()["test-0"].Retries == 2, Patience);
        // The second failure doubles the backoff: 2 s more is not enough, 4 s is.
        Clock.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(2, exporter.Calls);
        Clock.Advance(TimeSpan.FromSeconds(2));
        AwaitCondition(() => exporter.Exported.Count == 4, Patience);

        Assert.Equal(spans.Select(s => s.SpanId.ToHexString()), exporter.Exported);
        var statistics = pipeline.Statistics()["test-0"];
        Assert.Equal(2, statistics.Retries);
        Assert.Equal(4, statistics.Exported);
        Assert.Equal(0, statistics.DroppedTotal);
    }

    [Fact]
    public void Backoff_should_double_per_failure_up_to_the_cap()
    {
        var options = new TelemetryPipelineOptions { InitialRetryBackoff = TimeSpan.FromSeconds(1), MaxRetryBackoff = TimeSpan.FromSeconds(30) };
        Assert.Equal(
            new[] { 1, 2, 4, 8, 16, 30, 30 }.Select(s => TimeSpan.FromSeconds(s)),
            Enumerable.Range(1, 7).Select(n => ExporterActor.Backoff(n, options)));
    }

    [Fact]
    public async Task A_hanging_exporter_should_not_hold_up_the_other_exporters_or_the_threads_that_end_spans()
    {
        var hanging = new TestExporter();
        var healthy = new TestExporter();
        hanging.Hang();
        using var pipeline = Start(new TelemetryPipelineOptions { MaxExportBatchSize = 10, ScheduledDelay = TimeSpan.FromHours(1) }, hanging, healthy);

        End(pipeline, 100);

        Assert.True(hanging.Hanging.Wait(Patience), "the hanging exporter was never called");
        AwaitCondition(() => healthy.Exported.Count == 100, Patience);
        Assert.True(hanging.Hanging.IsSet);
        Assert.Empty(hanging.Exported);

        hanging.Release();
        Assert.True(await pipeline.FlushAsync(Patience));
        Assert.Equal(100, hanging.Exported.Count);
    }

    [Fact]
    public async Task Spans_beyond_the_bound_should_be_dropped_and_counted_exactly()
    {
        var hanging = new TestExporter();
        hanging.Hang();
        var options = new TelemetryPipelineOptions { MaxQueueSize = 10, MaxExportBatchSize = 2, ScheduledDelay = TimeSpan.FromSeconds(1) };
        using var pipeline = Start(options, hanging);

        End(pipeline, 25);
        Assert.True(hanging.Hanging.Wait(Patience));
        Clock.Advance(options.ScheduledDelay);
        AwaitCondition(() => pipeline.QueueDepth == 0, Patience);

        var held = pipeline.Statistics()["test-0"];
        Assert.Equal(10, held.Backlog);
        Assert.Equal(15, held.DroppedTotal);

        hanging.Release();
        Assert.True(await pipeline.FlushAsync(Patience));
        var final = pipeline.Statistics()["test-0"];
        Assert.Equal(10, final.Exported);
        Assert.Equal(15, final.DroppedTotal);
        Assert.Equal(25, final.Exported + final.DroppedTotal);
        Assert.Equal(10, hanging.Exported.Count);
    }

    [Fact]
    public void A_full_intake_queue_should_drop_without_blocking_and_count_the_drops_for_every_exporter()
    {
        var exporter = new TestExporter();
        // Not started: nothing drains the queue, so the bound is reached deterministically.
        using var pipeline = new Pipeline([new NamedExporter("a", exporter), new NamedExporter("b", new TestExporter())],
            new TelemetryPipelineOptions { MaxQueueSize = 5, MaxExportBatchSize = 100 });

        var accepted = Enumerable.Range(0, 12).Count(_ => pipeline.Offer(FinishedSpan()));

        Assert.Equal(5, accepted);
        Assert.Equal(5, pipeline.QueueDepth);
        Assert.Equal(7, pipeline.Statistics()["a"].Dropped[DropReasons.QueueFull]);
        Assert.Equal(7, pipeline.Statistics()["b"].Dropped[DropReasons.QueueFull]);
    }

    [Fact]
    public async Task Coordinated_shutdown_should_export_what_is_still_queued()
    {
        var exporter = new TestExporter();
        var pipeline = Start(new TelemetryPipelineOptions { MaxExportBatchSize = 100, ScheduledDelay = TimeSpan.FromHours(1) }, exporter);
        End(pipeline, 7);
        Assert.Equal(0, exporter.Calls);

        await CoordinatedShutdown.Get(Sys).Run(CoordinatedShutdown.ClrExitReason.Instance).WaitAsync(Patience);

        Assert.Equal(7, exporter.Exported.Count);
        pipeline.Dispose();
    }
}
