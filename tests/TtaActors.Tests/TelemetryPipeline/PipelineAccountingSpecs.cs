using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Diagnostics.Tracing;
using Akka.Actor;
using Akka.Event;
using Akka.TestKit;
using TtaActors.Telemetry;
using TtaActors.Telemetry.Export;
using Pipeline = TtaActors.Telemetry.Export.TelemetryPipeline;

namespace TtaActors.Tests.TelemetryPipeline;

/// <summary>
/// The edges of the telemetry pipeline's bookkeeping on a virtual clock: when a flush may answer (never before a batch
/// that is waiting for its retry, never before the slowest exporter), what it answers when its deadline passes, spans
/// that ended before the actor started, flushes an exporter fails or hangs in, the export-duration histogram, the drop
/// warnings, and what a clean or an abrupt stop counts and logs.
/// </summary>
public class PipelineAccountingSpecs() : PipelineSpecsBase("akka.loglevel = INFO")
{

    private Pipeline Start(TelemetryPipelineOptions options, params (string Name, OpenTelemetry.BaseExporter<Activity> Exporter)[] exporters) =>
        Start(new Pipeline(exporters.Select(e => new NamedExporter(e.Name, e.Exporter)), options));

    private TestProbe Subscribe<T>()
    {
        var probe = CreateTestProbe();
        Sys.EventStream.Subscribe(probe.Ref, typeof(T));
        return probe;
    }

    private static string Text(LogEvent log) => log.Message.ToString()!;

    [Fact]
    public async Task A_flush_should_not_answer_before_a_batch_waiting_for_its_retry_is_exported()
    {
        var exporter = new TestExporter();
        exporter.FailNext(1);
        var options = new TelemetryPipelineOptions
        {
            MaxExportBatchSize = 4, ScheduledDelay = TimeSpan.FromHours(1),
            InitialRetryBackoff = TimeSpan.FromSeconds(5), MaxRetryBackoff = TimeSpan.FromSeconds(5),
        };
        using var pipeline = Start(options, ("retrying", exporter));
        End(pipeline, 4);
        AwaitCondition(() => pipeline.Statistics()["retrying"].Retries == 1, Patience);

        var flush = pipeline.FlushAsync(TimeSpan.FromHours(1));
        Settle(pipeline);
        Assert.False(flush.IsCompleted);

        // The retry hangs in the exporter: the flush marker came after the batch, so it must wait behind it.
        exporter.Hang();
        Clock.Advance(options.InitialRetryBackoff);
        Assert.True(exporter.Hanging.Wait(Patience), "the retry never reached the exporter");
        Settle(pipeline);
        Assert.False(flush.IsCompleted, "the flush answered while the batch before it was still in export");

        exporter.Release();
        Assert.True(await flush.WaitAsync(Patience));
        Assert.Equal(4, exporter.Exported.Count);
        Assert.Equal(1, exporter.FlushCalls);
    }

    [Fact]
    public async Task A_flush_should_wait_for_the_slowest_exporter()
    {
        var fast = new TestExporter();
        var slow = new TestExporter();
        slow.Hang();
        using var pipeline = Start(new TelemetryPipelineOptions { MaxExportBatchSize = 4, ScheduledDelay = TimeSpan.FromHours(1) },
            ("fast", fast), ("slow", slow));
        End(pipeline, 3);

        var flush = pipeline.FlushAsync(TimeSpan.FromHours(1));
        Assert.True(slow.Hanging.Wait(Patience), "the slow exporter was never called");
        AwaitCondition(() => fast.Exported.Count == 3 && fast.FlushCalls == 1, Patience);
        Settle(pipeline);
        Assert.False(flush.IsCompleted, "the flush answered before every exporter had drained");

        slow.Release();
        Assert.True(await flush.WaitAsync(Patience));
        Assert.Equal(3, slow.Exported.Count);
    }

    [Fact]
    public async Task A_flush_should_answer_false_when_its_deadline_passes_on_the_scheduler()
    {
        var hanging = new TestExporter();
        hanging.Hang();
        using var pipeline = Start(new TelemetryPipelineOptions { MaxExportBatchSize = 4, ScheduledDelay = TimeSpan.FromHours(1) },
            ("hanging", hanging));
        End(pipeline, 1);

        // The bound is virtual time; the real wait below is far shorter, so only the scheduler can end the flush.
        var flush = pipeline.FlushAsync(TimeSpan.FromHours(1));
        Assert.True(hanging.Hanging.Wait(Patience));
        Settle(pipeline);
        Clock.Advance(TimeSpan.FromHours(1));

        Assert.False(await flush.WaitAsync(Patience));
        hanging.Release();
    }

    [Fact]
    public async Task A_pipeline_without_exporters_should_flush_at_once_and_stop_with_an_info_line_not_a_warning()
    {
        using var pipeline = Start(new Pipeline([], new TelemetryPipelineOptions { ScheduledDelay = TimeSpan.FromHours(1) }));
        var infos = Subscribe<Info>();

        Assert.True(await pipeline.FlushAsync(TimeSpan.FromHours(1)).WaitAsync(Patience));
        var report = await pipeline.ShutdownAsync(TimeSpan.FromHours(1)).WaitAsync(Patience);

        Assert.Empty(report.Exporters);
        Assert.Equal(0, report.Lost);
        Assert.Equal("Telemetry pipeline stopped. .", Text(infos.FishForMessage<Info>(i => Text(i).StartsWith("Telemetry pipeline stopped"), Patience)));
    }

    [Fact]
    public void Full_batches_of_spans_that_ended_before_the_actor_started_should_be_exported_without_waiting_for_a_tick()
    {
        var exporter = new TestExporter();
        var pipeline = new Pipeline([new NamedExporter("early", exporter)],
            new TelemetryPipelineOptions { MaxExportBatchSize = 4, ScheduledDelay = TimeSpan.FromHours(1) });
        using var _ = pipeline;
        End(pipeline, 9);

        Start(pipeline);

        AwaitCondition(() => exporter.Exported.Count == 8, Patience);
        Settle(pipeline);
        Assert.Equal(1, pipeline.QueueDepth);
        Assert.Equal([4, 4], exporter.BatchSizes);
    }

    [Fact]
    public async Task A_clean_shutdown_should_log_what_was_delivered_as_info_and_warn_nothing()
    {
        var exporter = new TestExporter();
        var pipeline = Start(new TelemetryPipelineOptions { MaxExportBatchSize = 10, ScheduledDelay = TimeSpan.FromHours(1) }, ("clean", exporter));
        using var _ = pipeline;
        var infos = Subscribe<Info>();
        var warnings = Subscribe<Warning>();
        End(pipeline, 3);

        var report = await pipeline.ShutdownAsync(TimeSpan.FromHours(1)).WaitAsync(Patience);

        Assert.Equal(3, report["clean"].Exported);
        var stopped = Text(infos.FishForMessage<Info>(i => Text(i).StartsWith("Telemetry pipeline stopped"), Patience));
        Assert.Contains("exporter 'clean'", stopped);
        Assert.Contains("delivered 3 spans, lost 0", stopped);
        warnings.ExpectNoMsg(TimeSpan.Zero);
    }

    [Fact]
    public void An_exporter_stopped_without_the_shutdown_protocol_should_count_what_it_held_as_lost_at_shutdown()
    {
        var failing = new TestExporter();
        failing.FailNext(int.MaxValue);
        var options = new TelemetryPipelineOptions
        {
            MaxExportBatchSize = 4, ScheduledDelay = TimeSpan.FromHours(1), MaxExportAttempts = null,
            InitialRetryBackoff = TimeSpan.FromHours(1), MaxRetryBackoff = TimeSpan.FromHours(1),
        };
        var pipeline = Start(options, ("held", failing));
        End(pipeline, 8);
        AwaitCondition(() => pipeline.Statistics()["held"].Retries == 1, Patience);
        Settle(pipeline);
        Assert.Equal(8, pipeline.Statistics()["held"].Backlog);

        pipeline.Dispose();

        AwaitCondition(() => pipeline.Statistics()["held"].Dropped[DropReasons.Shutdown] == 8, Patience);
        Assert.Equal(0, pipeline.Statistics()["held"].Backlog);
        Assert.Equal(0, pipeline.Statistics()["held"].BacklogBytes);
    }

    [Fact]
    public async Task A_flush_the_exporter_fails_should_be_logged_and_one_that_hangs_should_time_out_then_finish()
    {
        var exporter = new TestExporter { FlushSucceeds = false };
        var options = new TelemetryPipelineOptions
        {
            MaxExportBatchSize = 4, ScheduledDelay = TimeSpan.FromHours(1), ExportTimeout = TimeSpan.FromSeconds(10),
            FailureLogInterval = TimeSpan.FromSeconds(1),
        };
        using var pipeline = Start(options, ("flaky", exporter));
        var warnings = Subscribe<Warning>();

        var failed = pipeline.FlushAsync(TimeSpan.FromHours(1));
        Assert.Equal("Flushing exporter 'flaky' failed: the exporter reported failure", Text(warnings.ExpectMsg<Warning>(Patience)));
        // Flushing is best effort: what the exporter still holds is its own; the pipeline has drained.
        Assert.True(await failed.WaitAsync(Patience));

        exporter.FlushSucceeds = true;
        exporter.HangFlush();
        var hanging = pipeline.FlushAsync(TimeSpan.FromHours(1));
        Assert.True(exporter.FlushHanging.Wait(Patience), "the second flush never reached the exporter");
        Settle(pipeline);
        Clock.Advance(options.ExportTimeout);
        Assert.Equal("Flushing exporter 'flaky' did not return within 10 s.", Text(warnings.ExpectMsg<Warning>(Patience)));
        Settle(pipeline);
        Assert.False(hanging.IsCompleted);

        // The call returns late: the flush waiting on it is answered, and the exporter takes work again.
        exporter.ReleaseFlush();
        Assert.True(await hanging.WaitAsync(Patience));
        End(pipeline, 4);
        AwaitCondition(() => exporter.Exported.Count == 4, Patience);
    }

    [Fact]
    public void A_failure_with_unlimited_attempts_should_be_logged_with_its_attempt_number_and_the_backoff()
    {
        var exporter = new TestExporter();
        exporter.FailNext(2);
        var options = new TelemetryPipelineOptions
        {
            MaxExportBatchSize = 2, ScheduledDelay = TimeSpan.FromHours(1), MaxExportAttempts = null,
            InitialRetryBackoff = TimeSpan.FromSeconds(1.5), MaxRetryBackoff = TimeSpan.FromMinutes(1), FailureLogInterval = TimeSpan.FromSeconds(1),
        };
        using var pipeline = Start(options, ("unlimited", exporter));
        var warnings = Subscribe<Warning>();

        End(pipeline, 2);
        Assert.Equal("Export of 2 spans to 'unlimited' failed (attempt 1): the exporter reported failure. Retrying in 1.5 s.",
            Text(warnings.ExpectMsg<Warning>(Patience)));
        Settle(pipeline);
        Clock.Advance(TimeSpan.FromSeconds(1.5));
        Assert.Equal("Export of 2 spans to 'unlimited' failed (attempt 2): the exporter reported failure. Retrying in 3 s.",
            Text(warnings.ExpectMsg<Warning>(Patience)));
        Settle(pipeline);
        Clock.Advance(TimeSpan.FromSeconds(3));
        AwaitCondition(() => exporter.Exported.Count == 2, Patience);
    }

    [Fact]
    public void The_export_duration_histogram_should_record_each_call_by_exporter_and_outcome_and_a_timeout_as_the_timeout()
    {
        var recorded = new ConcurrentQueue<(double Seconds, string? Exporter, string? Outcome)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Name == TelemetryNames.PipelineMetrics.ExportDuration && instrument.Meter == TtaInstrumentation.Meter)
                l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<double>((_, value, tags, _) =>
        {
            string? exporterName = null, outcome = null;
            foreach (var tag in tags)
            {
                if (tag.Key == TelemetryNames.Labels.Exporter) exporterName = tag.Value as string;
                if (tag.Key == TelemetryNames.Labels.Outcome) outcome = tag.Value as string;
            }
            if (exporterName == "timed") recorded.Enqueue((value, exporterName, outcome));
        });
        listener.Start();

        var exporter = new TestExporter();
        exporter.FailNext(1);
        var options = new TelemetryPipelineOptions
        {
            MaxExportBatchSize = 1, ScheduledDelay = TimeSpan.FromHours(1), ExportTimeout = TimeSpan.FromSeconds(7),
            InitialRetryBackoff = TimeSpan.FromSeconds(1), MaxRetryBackoff = TimeSpan.FromSeconds(1), MaxExportAttempts = 2,
        };
        using var pipeline = Start(options, ("timed", exporter));

        End(pipeline, 1);
        AwaitCondition(() => pipeline.Statistics()["timed"].Retries == 1, Patience);
        Settle(pipeline);
        Clock.Advance(TimeSpan.FromSeconds(1));
        AwaitCondition(() => exporter.Exported.Count == 1, Patience);
        exporter.Hang();
        End(pipeline, 1);
        Assert.True(exporter.Hanging.Wait(Patience));
        Settle(pipeline);
        Clock.Advance(options.ExportTimeout);
        AwaitCondition(() => recorded.Count == 3, Patience);

        var calls = recorded.ToArray();
        Assert.Equal([TelemetryNames.Status.Error, TelemetryNames.Status.Success, TelemetryNames.Status.Error], calls.Select(c => c.Outcome));
        Assert.All(calls.Take(2), c => Assert.InRange(c.Seconds, 0, 5));
        Assert.Equal(7, calls[2].Seconds);
        exporter.Release();
    }

    [Fact]
    public void Drop_warnings_should_name_only_the_spans_dropped_since_the_last_one()
    {
        var failing = new TestExporter();
        failing.FailNext(int.MaxValue);
        var options = new TelemetryPipelineOptions
        {
            MaxQueueSize = 4, MaxExportBatchSize = 4, ScheduledDelay = TimeSpan.FromSeconds(1), MaxExportAttempts = null,
            InitialRetryBackoff = TimeSpan.FromHours(1), MaxRetryBackoff = TimeSpan.FromHours(1), FailureLogInterval = TimeSpan.FromSeconds(1),
        };
        using var pipeline = Start(options, ("full", failing));
        var warnings = Subscribe<Warning>();
        string NextDropWarning() => Text(warnings.FishForMessage<Warning>(w => Text(w).Contains("dropped at the memory bound"), Patience));

        End(pipeline, 4);
        AwaitCondition(() => pipeline.Statistics()["full"].Retries == 1, Patience);
        End(pipeline, 3);
        Settle(pipeline);
        Clock.Advance(options.ScheduledDelay);
        Assert.Contains("3 spans dropped at the memory bound", NextDropWarning());

        // A tick with nothing new dropped says nothing; the next drops are reported on their own, the totals beside them.
        Settle(pipeline);
        Clock.Advance(options.ScheduledDelay);
        Settle(pipeline);
        warnings.ExpectNoMsg(TimeSpan.Zero);
        End(pipeline, 2);
        Settle(pipeline);
        Clock.Advance(options.ScheduledDelay);
        var second = NextDropWarning();
        Assert.Contains("2 spans dropped at the memory bound", second);
        Assert.Contains("backlog_full 5", second);
    }

    [Fact]
    public void A_batch_that_reaches_a_closed_exporter_should_be_counted_as_lost_at_shutdown()
    {
        var statistics = new ExporterStatistics("closed");
        var exporter = new TestExporter();
        var actor = Sys.ActorOf(ExporterActor.Props(new NamedExporter("closed", exporter), statistics, new TelemetryPipelineOptions()));
        actor.Tell(ExporterProtocol.Close.Instance, TestActor);
        ExpectMsg<ExporterProtocol.Closed>();

        var span = new Activity("late").Start();
        span.Stop();
        var batch = statistics.Reserve(new SpanBatch(1, [span], [100], 1), 10, 1_000)!;
        actor.Tell(batch);
        actor.Tell(new Identify(0), TestActor);
        ExpectMsg<ActorIdentity>();

        Assert.Equal(1, statistics.Dropped(DropReasons.Shutdown));
        Assert.Equal(0, statistics.Backlog);
        Assert.Equal(0, statistics.BacklogBytes);
        Assert.Equal(0, exporter.Calls);
    }

    [Fact]
    public void The_cause_an_exporter_reports_on_its_event_source_should_be_the_logged_error_without_credentials()
    {
        var exporter = new ReportingExporter();
        var options = new TelemetryPipelineOptions
        {
            MaxExportBatchSize = 1, ScheduledDelay = TimeSpan.FromHours(1), MaxExportAttempts = 1, FailureLogInterval = TimeSpan.FromSeconds(1),
        };
        using var pipeline = Start(options, ("reporting", exporter));
        var warnings = Subscribe<Warning>();

        End(pipeline, 1);

        var warning = Text(warnings.ExpectMsg<Warning>(Patience));
        Assert.Contains("failed (attempt 1 of 1): Export to https://collector.example/v1/traces refused: 503", warning);
        Assert.DoesNotContain("s3cr3t", warning);
        Assert.DoesNotContain("exporter reported failure", warning);
    }

    /// <summary>Fails as OpenTelemetry's exporters do: Failure, with the cause written to an exporter EventSource on the calling thread.</summary>
    private sealed class ReportingExporter : OpenTelemetry.BaseExporter<Activity>
    {
        public override OpenTelemetry.ExportResult Export(in OpenTelemetry.Batch<Activity> batch)
        {
            ReportingEventSource.Log.ExportFailed("https://user:s3cr3t@collector.example/v1/traces", 503);
            return OpenTelemetry.ExportResult.Failure;
        }
    }

    [EventSource(Name = "OpenTelemetry-Exporter-TtaTests")]
    private sealed class ReportingEventSource : EventSource
    {
        public static readonly ReportingEventSource Log = new();

        [Event(1, Level = EventLevel.Warning, Message = "Export to {0} refused: {1}")]
        public void ExportFailed(string endpoint, int status) => WriteEvent(1, endpoint, status);
    }
}
