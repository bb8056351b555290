using System.Diagnostics;
using Akka.Actor;
using Akka.Event;
using OpenTelemetry;

namespace TtaActors.Telemetry.Export;

/// <summary>
/// Exports batches to one exporter, one batch at a time, in order. The exporter is called on its own thread
/// (<see cref="ExportWorker"/>), so this actor is never blocked: a call that does not return within
/// <see cref="TelemetryPipelineOptions.ExportTimeout"/> counts as a failure, and at shutdown whatever is still here is
/// counted at once. A failed export is retried after an exponential backoff on the scheduler, at most
/// <see cref="TelemetryPipelineOptions.MaxExportAttempts"/> times, then dropped and counted
/// (<c>retries_exhausted</c>); the batch stays at the head of the backlog meanwhile, so spans are not reordered.
/// Failures are logged with the exporter's name, endpoint and error, rate-limited.
/// </summary>
internal sealed class ExporterActor : UntypedActor, IWithTimers
{
    private const string RetryTimer = "retry";
    private const string TimeoutTimer = "export-timeout";

    private readonly NamedExporter _exporter;
    private readonly ExporterStatistics _statistics;
    private readonly TelemetryPipelineOptions _options;
    private readonly KeyValuePair<string, object?> _exporterTag;
    private readonly Queue<SpanBatch> _backlog = new();
    private readonly List<(long FlushId, long LastSequence, IActorRef ReplyTo)> _flushes = [];
    private readonly RateLimitedLog _failures;
    private ExportWorker? _worker;
    private Job? _running;
    private int _failedAttempts;
    private bool _waitingForRetry;
    private bool _closed;

    public ExporterActor(NamedExporter exporter, ExporterStatistics statistics, TelemetryPipelineOptions options)
    {
        _exporter = exporter;
        _statistics = statistics;
        _options = options;
        _exporterTag = new(TelemetryNames.Labels.Exporter, exporter.Name);
        _failures = new RateLimitedLog(Context.GetLogger(), options.FailureLogInterval);
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(NamedExporter exporter, ExporterStatistics statistics, TelemetryPipelineOptions options) =>
        Akka.Actor.Props.Create(() => new ExporterActor(exporter, statistics, options));

    private DateTimeOffset Now => Context.System.Scheduler.Now;

    protected override void PreStart() => _worker = new ExportWorker(_exporter.Name);

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case SpanBatch batch when _closed:
                Drop(batch, DropReasons.Shutdown);
                break;
            case SpanBatch batch:
                _backlog.Enqueue(batch);
                Next();
                break;
            case JobDone done when done.Job == _running:
                Timers.Cancel(TimeoutTimer);
                _running = null;
                done.Job.Answered?.Invoke();
                if (!done.Job.TimedOut) Finished(done);
                Next();
                break;
            case JobTimedOut timedOut when timedOut.Job == _running && !timedOut.Job.TimedOut:
                TimedOut(timedOut.Job);
                break;
            case RetryDue:
                _waitingForRetry = false;
                Next();
                break;
            case ExporterProtocol.FlushMarker marker:
                _flushes.Add((marker.FlushId, _backlog.Count == 0 ? 0 : _backlog.Last().Sequence, Sender));
                Next();
                break;
            case ExporterProtocol.Close:
                Close();
                Sender.Tell(ExporterProtocol.Closed.Instance);
                break;
            case JobDone or JobTimedOut:
                break; // the late answer of a call given up on at shutdown
            default:
                Unhandled(message);
                break;
        }
    }

    /// <summary>Starts the next call when the exporter is free: a due flush first, else the head of the backlog.</summary>
    private void Next()
    {
        if (_running is not null || _waitingForRetry || _closed) return;
        var headSequence = _backlog.TryPeek(out var head) ? head.Sequence : long.MaxValue;
        var due = _flushes.Where(flush => flush.LastSequence < headSequence).ToList();
        if (due.Count > 0)
        {
            _flushes.RemoveAll(due.Contains);
            // An exporter may still hold what Export accepted (Langfuse delivers from a queue of its own).
            var timeout = (int)_options.ShutdownTimeout.TotalMilliseconds;
            Start(new Job(null), exporter => exporter.ForceFlush(timeout) ? ExportResult.Success : ExportResult.Failure,
                () => due.ForEach(flush => flush.ReplyTo.Tell(new ExporterProtocol.ExporterDrained(flush.FlushId))));
            return;
        }
        if (head is null) return;
        _statistics.AddCall();
        Start(new Job(head), exporter => exporter.Export(new Batch<Activity>(head.Items, head.Count)), null);
    }

    private void Start(Job job, Func<BaseExporter<Activity>, ExportResult> call, Action? answered)
    {
        _running = job;
        job.Answered = answered;
        var self = Self;
        var exporter = _exporter.Exporter;
        Timers.StartSingleTimer(TimeoutTimer, new JobTimedOut(job), _options.ExportTimeout);
        _worker!.Enqueue(() =>
        {
            var started = Stopwatch.GetTimestamp();
            using var diagnostics = ExporterDiagnostics.Start();
            try
            {
                var succeeded = call(exporter) == ExportResult.Success;
                self.Tell(new JobDone(job, succeeded, succeeded ? null : diagnostics.Reported ?? "the exporter reported failure",
                    Stopwatch.GetElapsedTime(started)));
            }
            catch (Exception error)
            {
                self.Tell(new JobDone(job, false, $"{error.GetType().Name}: {error.Message}", Stopwatch.GetElapsedTime(started)));
            }
        });
    }

    private void Finished(JobDone done)
    {
        if (done.Job.Batch is not { } batch)
        {
            if (!done.Succeeded) _failures.Warning($"Flushing exporter {_exporter} failed: {done.Error}", Now);
            return;
        }
        RecordDuration(done.Elapsed.TotalSeconds, done.Succeeded);
        if (done.Succeeded)
        {
            _backlog.Dequeue();
            _failedAttempts = 0;
            _statistics.AddExported(batch.Count);
            _statistics.Release(batch);
            return;
        }
        Failed(batch, done.Error!);
    }

    private void TimedOut(Job job)
    {
        // The call goes on on the worker thread; its outcome is no longer waited for, and the next call starts when it returns.
        job.TimedOut = true;
        if (job.Batch is not { } batch)
        {
            _failures.Warning($"Flushing exporter {_exporter} did not return within {_options.ExportTimeout.TotalSeconds:0.###} s.", Now);
            return;
        }
        RecordDuration(_options.ExportTimeout.TotalSeconds, false);
        Failed(batch, $"no answer within the export timeout of {_options.ExportTimeout.TotalSeconds:0.###} s");
    }

    private void Failed(SpanBatch batch, string error)
    {
        _failedAttempts++;
        var attempts = _options.MaxExportAttempts is { } max ? $"attempt {_failedAttempts} of {max}" : $"attempt {_failedAttempts}";
        if (_options.MaxExportAttempts is { } maxAttempts && _failedAttempts >= maxAttempts)
        {
            _backlog.Dequeue();
            _failedAttempts = 0;
            Drop(batch, DropReasons.RetriesExhausted);
            _failures.Warning($"Export of {batch.Count} spans to {_exporter} failed ({attempts}): {error}. " +
                              $"The batch is dropped ({DropReasons.RetriesExhausted}).", Now);
            return;
        }
        var backoff = Backoff(_failedAttempts, _options);
        _waitingForRetry = true;
        Timers.StartSingleTimer(RetryTimer, RetryDue.Instance, backoff);
        _statistics.AddRetry();
        _failures.Warning($"Export of {batch.Count} spans to {_exporter} failed ({attempts}): {error}. " +
                          $"Retrying in {backoff.TotalSeconds:0.###} s.", Now);
    }

    /// <summary>Delay before the retry after the <paramref name="failures"/>-th consecutive failure: doubling, capped.</summary>
    internal static TimeSpan Backoff(int failures, TelemetryPipelineOptions options)
    {
        var factor = Math.Pow(2, Math.Min(failures - 1, 30));
        var delay = options.InitialRetryBackoff.TotalMilliseconds * factor;
        return TimeSpan.FromMilliseconds(Math.Min(delay, options.MaxRetryBackoff.TotalMilliseconds));
    }

    private void Drop(SpanBatch batch, string reason)
    {
        _statistics.AddDropped(reason, batch.Count);
        _statistics.Release(batch);
    }

    /// <summary>Counts everything still here, the batch in export included, as dropped at shutdown; later batches too.</summary>
    private void Close()
    {
        _closed = true;
        Timers.CancelAll();
        while (_backlog.TryDequeue(out var batch)) Drop(batch, DropReasons.Shutdown);
        _flushes.Clear();
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
        // Stopped without the shutdown protocol (the pipeline disposed): what is still here is lost; it is counted.
        Close();
        _worker?.Dispose();
        base.PostStop();
    }

    /// <summary>One call on the worker: an export of <see cref="Batch"/>, or a flush of the exporter when it is null.</summary>
    private sealed class Job(SpanBatch? batch)
    {
        public SpanBatch? Batch { get; } = batch;
        public Action? Answered { get; set; }
        public bool TimedOut { get; set; }
    }

    /// <summary>A call returned; <see cref="Error"/> says why it failed, when it did.</summary>
    private sealed record JobDone(Job Job, bool Succeeded, string? Error, TimeSpan Elapsed);

    private sealed record JobTimedOut(Job Job);

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

    /// <summary>Shutdown: count what is held as dropped, drop what comes later, answer <see cref="Closed"/>.</summary>
    public sealed class Close
    {
        public static readonly Close Instance = new();
    }

    public sealed class Closed
    {
        public static readonly Closed Instance = new();
    }
}
