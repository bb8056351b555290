using System.Diagnostics;
using Akka.Actor;
using OpenTelemetry;

namespace TtaActors.Telemetry.Export;

/// <summary>
/// Exports batches to one exporter, one batch at a time, in order. Runs on its own pinned thread: an exporter's
/// <c>Export</c> is synchronous and may block for as long as its backend hangs, and that must stall nobody else.
/// A failed export is retried after an exponential backoff on the scheduler; the batch stays at the head of the
/// backlog, so spans are neither lost nor reordered while the backend is away.
/// </summary>
internal sealed class ExporterActor : UntypedActor, IWithTimers
{
    public const string DispatcherId = "tta.telemetry.exporter-dispatcher";
    private const string RetryTimer = "retry";

    private readonly NamedExporter _exporter;
    private readonly ExporterStatistics _statistics;
    private readonly TelemetryPipelineOptions _options;
    private readonly KeyValuePair<string, object?> _exporterTag;
    private readonly Queue<SpanBatch> _backlog = new();
    private readonly List<(long FlushId, long LastSequence, IActorRef ReplyTo)> _flushes = [];
    private int _failedAttempts;
    private bool _exportScheduled;
    private bool _waitingForRetry;

    public ExporterActor(NamedExporter exporter, ExporterStatistics statistics, TelemetryPipelineOptions options)
    {
        _exporter = exporter;
        _statistics = statistics;
        _options = options;
        _exporterTag = new(TelemetryNames.Labels.Exporter, exporter.Name);
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(NamedExporter exporter, ExporterStatistics statistics, TelemetryPipelineOptions options) =>
        Akka.Actor.Props.Create(() => new ExporterActor(exporter, statistics, options)).WithDispatcher(DispatcherId);

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case SpanBatch batch:
                _backlog.Enqueue(batch);
                ScheduleExport();
                break;
            case ExportNext:
                _exportScheduled = false;
                if (!_waitingForRetry) ExportHead();
                break;
            case RetryDue:
                _waitingForRetry = false;
                ExportHead();
                break;
            case ExporterProtocol.FlushMarker marker:
                if (_backlog.Count == 0) Drained(marker.FlushId, Sender);
                else _flushes.Add((marker.FlushId, _backlog.Last().Sequence, Sender));
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    private void ScheduleExport()
    {
        if (_exportScheduled || _waitingForRetry) return;
        _exportScheduled = true;
        Self.Tell(ExportNext.Instance);
    }

    private void ExportHead()
    {
        if (!_backlog.TryPeek(out var batch)) return;
        var started = Stopwatch.GetTimestamp();
        bool succeeded;
        try
        {
            succeeded = _exporter.Exporter.Export(new Batch<Activity>(batch.Items, batch.Count)) == ExportResult.Success;
        }
        catch (Exception)
        {
            // An exporter that throws is treated like one that reports failure: the batch is retried.
            succeeded = false;
        }
        RecordDuration(Stopwatch.GetElapsedTime(started).TotalSeconds, succeeded);

        if (succeeded)
        {
            _backlog.Dequeue();
            _failedAttempts = 0;
            _statistics.AddExported(batch.Count);
            _statistics.Release(batch.Count);
            AnswerFlushes();
            if (_backlog.Count > 0) ScheduleExport();
            return;
        }

        _failedAttempts++;
        if (_options.MaxExportAttempts is { } maxAttempts && _failedAttempts >= maxAttempts)
        {
            _backlog.Dequeue();
            _failedAttempts = 0;
            _statistics.AddDropped(DropReasons.RetriesExhausted, batch.Count);
            _statistics.Release(batch.Count);
            AnswerFlushes();
            if (_backlog.Count > 0) ScheduleExport();
            return;
        }

        _waitingForRetry = true;
        Timers.StartSingleTimer(RetryTimer, RetryDue.Instance, Backoff(_failedAttempts));
        _statistics.AddRetry();
    }

    /// <summary>Delay before the retry after the <paramref name="failures"/>-th consecutive failure: doubling, capped.</summary>
    internal static TimeSpan Backoff(int failures, TelemetryPipelineOptions options)
    {
        var factor = Math.Pow(2, Math.Min(failures - 1, 30));
        var delay = options.InitialRetryBackoff.TotalMilliseconds * factor;
        return TimeSpan.FromMilliseconds(Math.Min(delay, options.MaxRetryBackoff.TotalMilliseconds));
    }

    private TimeSpan Backoff(int failures) => Backoff(failures, _options);

    private void AnswerFlushes()
    {
        if (_flushes.Count == 0) return;
        var nextSequence = _backlog.TryPeek(out var head) ? head.Sequence : long.MaxValue;
        _flushes.RemoveAll(flush =>
        {
            if (flush.LastSequence >= nextSequence) return false;
            Drained(flush.FlushId, flush.ReplyTo);
            return true;
        });
    }

    /// <summary>
    /// Answers a flush once its spans are exported. An exporter may still hold what <c>Export</c> accepted (Langfuse
    /// delivers from a queue of its own), so the exporter is flushed too; this blocks only this exporter's thread.
    /// </summary>
    private void Drained(long flushId, IActorRef replyTo)
    {
        _exporter.Exporter.ForceFlush((int)_options.ShutdownTimeout.TotalMilliseconds);
        replyTo.Tell(new ExporterProtocol.ExporterDrained(flushId));
    }

    private void RecordDuration(double seconds, bool succeeded)
    {
        var histogram = TtaInstrumentation.TelemetryExportDuration;
        if (!histogram.Enabled) return;
        histogram.Record(seconds, _exporterTag,
            new KeyValuePair<string, object?>(TelemetryNames.Labels.Outcome, succeeded ? TelemetryNames.Status.Success : TelemetryNames.Status.Error));
    }

    protected override void PostStop()
    {
        // Whatever is still here when the pipeline stops is lost; it is counted, not silently forgotten.
        var remaining = _backlog.Sum(batch => (long)batch.Count);
        _statistics.AddDropped(DropReasons.Shutdown, remaining);
        _statistics.Release((int)remaining);
        _backlog.Clear();
        base.PostStop();
    }

    private sealed class ExportNext
    {
        public static readonly ExportNext Instance = new();
    }

    private sealed class RetryDue
    {
        public static readonly RetryDue Instance = new();
    }
}

internal static class ExporterProtocol
{
    /// <summary>Answered with <see cref="ExporterDrained"/> once every batch received before it is exported or dropped.</summary>
    public sealed record FlushMarker(long FlushId);

    public sealed record ExporterDrained(long FlushId);
}
