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
public class TelemetryPipelineSpecs : PipelineSpecsBase
{

    private Pipeline Start(TelemetryPipelineOptions options, params TestExporter[] exporters) =>
        Start(new Pipeline(exporters.Select((e, i) => new NamedExporter($"test-{i}", e)), options));

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
        Settle(pipeline);
        Assert.Equal(3, pipeline.QueueDepth);
        Assert.Equal(0, pipeline.Statistics()["test-0"].Calls);

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
        // 1 s short of the first backoff, the exporter actor (once it has handled what the clock sent it) has not retried.
        Clock.Advance(TimeSpan.FromSeconds(1));
        Settle(pipeline);
        Assert.Equal(1, pipeline.Statistics()["test-0"].Calls);
        Clock.Advance(TimeSpan.FromSeconds(1));
        AwaitCondition(() => pipeline.Statistics()["test-0"].Retries == 2, Patience);
        // The second failure doubles the backoff: 2 s more is not enough, 4 s is.
        Clock.Advance(TimeSpan.FromSeconds(2));
        Settle(pipeline);
        Assert.Equal(2, pipeline.Statistics()["test-0"].Calls);
        Clock.Advance(TimeSpan.FromSeconds(2));
        // The exporter holds the spans before its actor has heard the call returned; the actor's count is what settles.
        AwaitCondition(() => pipeline.Statistics()["test-0"].Exported == 4, Patience);

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
        // The queue empties before the telemetry actor has counted the last batch it took.
        Settle(pipeline);

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
        Settle(pipeline);
        Assert.Equal(0, pipeline.Statistics()["test-0"].Calls);

        await CoordinatedShutdown.Get(Sys).Run(CoordinatedShutdown.ClrExitReason.Instance).WaitAsync(Patience);

        Assert.Equal(7, exporter.Exported.Count);
        Assert.Equal(7, pipeline.ShutdownReport!["test-0"].Exported);
        Assert.Equal(0, pipeline.ShutdownReport.Lost);
        pipeline.Dispose();
    }

    [Fact]
    public void Every_batch_should_hold_at_most_the_batch_size_also_when_a_tick_or_flush_finds_more_queued()
    {
        var exporter = new TestExporter();
        var options = new TelemetryPipelineOptions { MaxExportBatchSize = 4, ScheduledDelay = TimeSpan.FromSeconds(1) };
        // Ten spans wait before the actor starts; then ten more end while it runs, and the tick takes what is left.
        var pipeline = new Pipeline([new NamedExporter("test-0", exporter)], options);
        using var _ = pipeline;
        End(pipeline, 10);
        Start(pipeline);
        End(pipeline, 10);
        Settle(pipeline);
        Clock.Advance(options.ScheduledDelay);

        AwaitCondition(() => exporter.Exported.Count == 20, Patience);
        Assert.All(exporter.BatchSizes, size => Assert.InRange(size, 1, 4));
        Assert.Equal([4, 4], exporter.BatchSizes.Take(2));
        Assert.True(exporter.BatchSizes.Count >= 5);
    }

    [Fact]
    public void Spans_that_find_the_exporter_backlog_full_should_be_dropped_and_counted_as_backlog_full()
    {
        var hanging = new TestExporter();
        hanging.Hang();
        var options = new TelemetryPipelineOptions { MaxQueueSize = 10, MaxExportBatchSize = 2, ScheduledDelay = TimeSpan.FromSeconds(1) };
        using var pipeline = Start(options, hanging);

        End(pipeline, 10);
        Clock.Advance(options.ScheduledDelay);
        AwaitCondition(() => pipeline.Statistics()["test-0"].Backlog == 10, Patience);
        // The intake queue has room again, the exporter has none: the next ten pass the intake and find the backlog full.
        End(pipeline, 6);
        Clock.Advance(options.ScheduledDelay);
        AwaitCondition(() => pipeline.QueueDepth == 0, Patience);
        Settle(pipeline);

        var held = pipeline.Statistics()["test-0"];
        Assert.Equal(6, held.Dropped[DropReasons.BacklogFull]);
        Assert.Equal(0, held.Dropped[DropReasons.QueueFull]);
        Assert.Equal(10, held.Backlog);
    }

    private static Activity LlmSpan(int promptCharacters)
    {
        var span = FinishedSpan("chat gpt-4o");
        span.SetTag("langfuse.observation.input", new string('p', promptCharacters));
        return span;
    }

    [Fact]
    public void The_intake_bound_should_count_bytes_so_large_llm_spans_are_dropped_long_before_the_span_count_is_reached()
    {
        var prompt = LlmSpan(32_768);
        var size = SpanSize.Estimate(prompt);
        Assert.InRange(size, 65_536, 70_000);
        // Not started: nothing drains the queue, so the bound is reached deterministically.
        using var pipeline = new Pipeline([new NamedExporter("a", new TestExporter())],
            new TelemetryPipelineOptions { MaxQueueBytes = 3L * size + size / 2 });

        var accepted = Enumerable.Range(0, 6).Count(_ => pipeline.Offer(LlmSpan(32_768)));

        Assert.Equal(3, accepted);
        Assert.Equal(3L * size, pipeline.QueueBytes);
        Assert.Equal(3, pipeline.Statistics()["a"].Dropped[DropReasons.QueueFull]);
        // A small span still fits in what is left.
        Assert.True(pipeline.Offer(FinishedSpan()));
    }

    [Fact]
    public void An_exporter_backlog_should_be_bounded_in_bytes_as_well()
    {
        var hanging = new TestExporter();
        hanging.Hang();
        var size = SpanSize.Estimate(LlmSpan(32_768));
        var options = new TelemetryPipelineOptions { MaxExportBatchSize = 1, MaxQueueBytes = 2L * size + 100, ScheduledDelay = TimeSpan.FromSeconds(1) };
        using var pipeline = Start(options, hanging);

        for (var i = 0; i < 2; i++) pipeline.Processor.OnEnd(LlmSpan(32_768));
        AwaitCondition(() => pipeline.Statistics()["test-0"].Backlog == 2, Patience);
        pipeline.Processor.OnEnd(LlmSpan(32_768));
        AwaitCondition(() => pipeline.QueueDepth == 0, Patience);
        Settle(pipeline);

        var held = pipeline.Statistics()["test-0"];
        Assert.Equal(2L * size, held.BacklogBytes);
        Assert.Equal(1, held.Dropped[DropReasons.BacklogFull]);
    }

    [Fact]
    public void Span_size_should_count_name_attributes_events_and_links()
    {
        var bare = FinishedSpan("n");
        var rich = FinishedSpan("n");
        rich.SetTag("key", "0123456789");
        rich.SetTag("count", 3);
        rich.SetTag("list", new[] { "ab", "cd" });
        rich.AddEvent(new ActivityEvent("exception", tags: new ActivityTagsCollection { ["exception.message"] = "boom" }));
        rich.AddLink(new ActivityLink(bare.Context, new ActivityTagsCollection { ["why"] = "retry" }));

        var expected = SpanSize.Estimate(bare)
                       + (SpanSize.TagOverhead + 2 * "key".Length + 2 * 10)
                       + (SpanSize.TagOverhead + 2 * "count".Length + 8)
                       + (SpanSize.TagOverhead + 2 * "list".Length + 2 * 4)
                       + (SpanSize.EntryOverhead + 2 * "exception".Length + SpanSize.TagOverhead + 2 * "exception.message".Length + 2 * 4)
                       + (SpanSize.EntryOverhead + SpanSize.TagOverhead + 2 * "why".Length + 2 * 5);
        Assert.Equal(expected, SpanSize.Estimate(rich));
        Assert.Equal(SpanSize.SpanOverhead + 2, SpanSize.Estimate(bare));
    }
}
