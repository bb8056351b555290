using System.Diagnostics;
using Akka.Actor;
using Akka.Event;
using Akka.TestKit;
using TtaActors.Telemetry.Export;
using Pipeline = TtaActors.Telemetry.Export.TelemetryPipeline;

namespace TtaActors.Tests.TelemetryPipeline;

/// <summary>
/// Telemetry honesty on a virtual clock: an exporter that throws or hangs is logged with its name, endpoint and error
/// (rate-limited), its batches are dropped and counted per reason once their attempts are spent, and shutdown waits
/// at most its bound, then reports delivered and lost spans that add up to what was offered.
/// </summary>
public class ExporterFailureSpecs : PipelineSpecsBase
{
    private static readonly Uri EndpointWithCredentials = new("https://user:s3cr3t@collector.example:4318/v1/traces?api_key=k3y");
    private const string PrintedEndpoint = "https://collector.example:4318/v1/traces";

    private Pipeline Start(TelemetryPipelineOptions options, params (string Name, TestExporter Exporter)[] exporters)
    {
        var pipeline = new Pipeline(exporters.Select(e => new NamedExporter(e.Name, e.Exporter, EndpointWithCredentials)), options);
        return Start(pipeline);
    }

    private TestProbe Warnings()
    {
        var probe = CreateTestProbe();
        Sys.EventStream.Subscribe(probe.Ref, typeof(Warning));
        return probe;
    }

    private static string Text(Warning warning) => warning.Message.ToString()!;

    [Fact]
    public void An_exporter_that_always_throws_should_be_logged_by_name_endpoint_and_error_rate_limited_and_its_batches_counted_as_retries_exhausted()
    {
        var throwing = new TestExporter();
        throwing.ThrowAlways(new InvalidOperationException("backend exploded"));
        var options = new TelemetryPipelineOptions
        {
            MaxExportBatchSize = 4, ScheduledDelay = TimeSpan.FromHours(1), MaxExportAttempts = 2,
            InitialRetryBackoff = TimeSpan.FromSeconds(1), MaxRetryBackoff = TimeSpan.FromSeconds(1),
            FailureLogInterval = TimeSpan.FromSeconds(60),
        };
        using var pipeline = Start(options, ("thrower", throwing));
        var warnings = Warnings();

        End(pipeline, 4);
        var first = Text(warnings.ExpectMsg<Warning>(Patience));
        Assert.Contains($"'thrower' ({PrintedEndpoint})", first);
        Assert.Contains("InvalidOperationException: backend exploded", first);
        Assert.Contains("attempt 1 of 2", first);
        Assert.DoesNotContain("s3cr3t", first);
        Assert.DoesNotContain("k3y", first);

        // The second attempt fails too and the batch is dropped; within the interval that is counted, not logged.
        AwaitCondition(() => pipeline.Statistics()["thrower"].Retries == 1, Patience);
        Clock.Advance(TimeSpan.FromSeconds(1));
        AwaitCondition(() => pipeline.Statistics()["thrower"].Dropped[DropReasons.RetriesExhausted] == 4, Patience);
        End(pipeline, 4);
        AwaitCondition(() => pipeline.Statistics()["thrower"].Retries == 2, Patience);
        Settle(pipeline);
        warnings.ExpectNoMsg(TimeSpan.Zero);

        // After the interval the next failure is logged again, with how many were held back.
        Clock.Advance(TimeSpan.FromSeconds(60));
        var later = Text(warnings.ExpectMsg<Warning>(Patience));
        Assert.Contains("'thrower'", later);
        Assert.Contains("dropped (retries_exhausted)", later);
        Assert.Contains("2 more since the last warning were not logged", later);

        AwaitCondition(() => pipeline.Statistics()["thrower"].Dropped[DropReasons.RetriesExhausted] == 8, Patience);
        var statistics = pipeline.Statistics()["thrower"];
        Assert.Equal(0, statistics.Exported);
        Assert.Equal(0, statistics.Backlog);
        Assert.Equal(4, statistics.Calls);
    }

    [Fact]
    public void With_unlimited_attempts_a_batch_that_always_fails_should_hold_the_exporter_but_every_later_drop_is_counted_and_logged()
    {
        var failing = new TestExporter();
        failing.FailNext(int.MaxValue);
        var options = new TelemetryPipelineOptions
        {
            MaxQueueSize = 4, MaxExportBatchSize = 4, ScheduledDelay = TimeSpan.FromSeconds(1), MaxExportAttempts = null,
            InitialRetryBackoff = TimeSpan.FromSeconds(1), MaxRetryBackoff = TimeSpan.FromSeconds(1),
        };
        using var pipeline = Start(options, ("failing", failing));
        var warnings = Warnings();

        End(pipeline, 4);
        Assert.Contains("the exporter reported failure", Text(warnings.ExpectMsg<Warning>(Patience)));
        End(pipeline, 3);
        Settle(pipeline);
        Clock.Advance(options.ScheduledDelay);
        AwaitCondition(() => pipeline.Statistics()["failing"].Dropped[DropReasons.BacklogFull] == 3, Patience);
        AwaitCondition(() => pipeline.Statistics()["failing"].Retries == 2, Patience);
        Settle(pipeline);
        Clock.Advance(options.FailureLogInterval);

        // Retrying the first batch and dropping the later spans are both in the log once the interval has passed.
        var logged = new[] { warnings.ExpectMsg<Warning>(Patience), warnings.ExpectMsg<Warning>(Patience) }.Select(Text).ToList();
        Assert.Contains(logged, text => text.Contains("3 spans dropped at the memory bound") && text.Contains("backlog_full 3") && text.Contains("'failing'"));
        Assert.Equal(0, pipeline.Statistics()["failing"].Dropped[DropReasons.RetriesExhausted]);
    }

    [Fact]
    public async Task A_hanging_exporter_should_time_out_be_logged_and_shutdown_should_wait_only_its_bound_then_count_the_rest_as_shutdown()
    {
        var hanging = new TestExporter();
        hanging.Hang();
        var healthy = new TestExporter();
        var options = new TelemetryPipelineOptions
        {
            MaxExportBatchSize = 5, ScheduledDelay = TimeSpan.FromHours(1), ExportTimeout = TimeSpan.FromSeconds(10),
            InitialRetryBackoff = TimeSpan.FromSeconds(1), MaxRetryBackoff = TimeSpan.FromSeconds(1),
            ShutdownTimeout = TimeSpan.FromHours(2),
        };
        using var pipeline = Start(options, ("hanging", hanging), ("healthy", healthy));
        var warnings = Warnings();

        End(pipeline, 10);
        Assert.True(hanging.Hanging.Wait(Patience), "the hanging exporter was never called");
        AwaitCondition(() => healthy.Exported.Count == 10, Patience);
        Settle(pipeline);
        Clock.Advance(options.ExportTimeout);
        var timedOut = Text(warnings.ExpectMsg<Warning>(Patience));
        Assert.Contains($"'hanging' ({PrintedEndpoint})", timedOut);
        Assert.Contains("no answer within the export timeout of 10 s", timedOut);

        // Shutdown flushes; the hanging call never returns, so only the bound (virtual time) ends the wait.
        var shutdown = pipeline.ShutdownAsync(options.ShutdownTimeout);
        Settle(pipeline);
        Assert.False(shutdown.IsCompleted);
        Clock.Advance(options.ShutdownTimeout);
        var report = await shutdown.WaitAsync(Patience);

        Assert.Equal(10, report["healthy"].Exported);
        Assert.Equal(0, report["healthy"].DroppedTotal);
        Assert.Equal(0, report["hanging"].Exported);
        Assert.Equal(10, report["hanging"].Dropped[DropReasons.Shutdown]);
        Assert.All(report.Exporters, e => Assert.Equal(10, e.Exported + e.DroppedTotal));
        Assert.All(report.Exporters, e => Assert.Equal(0, e.Backlog));
        var summary = Text(warnings.FishForMessage<Warning>(w => Text(w).StartsWith("Telemetry pipeline stopped"), Patience));
        Assert.Contains($"exporter 'hanging' ({PrintedEndpoint}): delivered 0 spans, lost 10 (shutdown 10)", summary);
        Assert.Contains($"exporter 'healthy' ({PrintedEndpoint}): delivered 10 spans, lost 0", summary);

        // Spans that end after shutdown are refused and counted, and a later flush says that spans were lost.
        End(pipeline, 2);
        Assert.Equal(12, pipeline.Statistics()["hanging"].Dropped[DropReasons.Shutdown]);
        Assert.Equal(2, pipeline.Statistics()["healthy"].Dropped[DropReasons.Shutdown]);
        Assert.False(await pipeline.FlushAsync(Patience));
        hanging.Release();
    }

    [Fact]
    public async Task Shutdown_should_count_every_span_still_held_by_an_exporter_so_delivered_and_lost_add_up()
    {
        var failing = new TestExporter();
        failing.FailNext(int.MaxValue);
        var options = new TelemetryPipelineOptions
        {
            MaxExportBatchSize = 3, ScheduledDelay = TimeSpan.FromHours(1), MaxExportAttempts = null,
            InitialRetryBackoff = TimeSpan.FromHours(1), MaxRetryBackoff = TimeSpan.FromHours(1), ShutdownTimeout = TimeSpan.FromMinutes(1),
        };
        using var pipeline = Start(options, ("failing", failing));

        End(pipeline, 7);
        AwaitCondition(() => pipeline.Statistics()["failing"].Retries == 1, Patience);
        Settle(pipeline);
        var shutdown = pipeline.ShutdownAsync(options.ShutdownTimeout);
        Settle(pipeline);
        Clock.Advance(options.ShutdownTimeout);
        var report = await shutdown.WaitAsync(Patience);

        Assert.Equal(7, report["failing"].Dropped[DropReasons.Shutdown]);
        Assert.Equal(7, report["failing"].Exported + report["failing"].DroppedTotal);
        Assert.Equal(0, report.QueueDepth);
        Assert.Equal(0, report.QueueBytes);
        Assert.Equal(0, report["failing"].BacklogBytes);
        Assert.Same(report, pipeline.ShutdownReport);
    }
}
