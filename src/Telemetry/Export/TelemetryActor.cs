using Akka.Actor;
using Akka.Event;

namespace TtaActors.Telemetry.Export;

/// <summary>
/// The one telemetry actor of a node. It takes finished spans from the pipeline's bounded intake queue, cuts them
/// into batches by size (as soon as a full batch is waiting) and by time (every <see cref="TelemetryPipelineOptions.ScheduledDelay"/>),
/// and hands every batch to each exporter's own actor, within each exporter's memory bound. It never exports itself,
/// so it never waits for a backend. Spans dropped at a bound are logged (rate-limited) as well as counted, and at
/// shutdown it counts what is left and logs, per exporter, what was delivered and what was lost.
/// </summary>
internal sealed class TelemetryActor : UntypedActor, IWithTimers
{
    private const string TickTimer = "tick";

    private readonly TelemetryPipeline _pipeline;
    private readonly Exporter[] _exporters;
    private readonly Dictionary<long, PendingFlush> _flushes = new();
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private long _nextSequence;
    private Closing? _closing;

    public TelemetryActor(TelemetryPipeline pipeline)
    {
        _pipeline = pipeline;
        _exporters = pipeline.Exporters
            .Select((exporter, i) => new Exporter(exporter,
                Context.ActorOf(ExporterActor.Props(exporter, pipeline.StatisticsOf(i), pipeline.Options), $"exporter-{i}"),
                pipeline.StatisticsOf(i), new RateLimitedLog(_log, pipeline.Options.FailureLogInterval)))
            .ToArray();
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(TelemetryPipeline pipeline) => Akka.Actor.Props.Create(() => new TelemetryActor(pipeline));

    private TelemetryPipelineOptions Options => _pipeline.Options;

    protected override void PreStart()
    {
        Timers.StartPeriodicTimer(TickTimer, TelemetryProtocol.Tick.Instance, Options.ScheduledDelay);
        // Spans that ended before the actor system was up are waiting already.
        DrainFullBatches();
    }

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case TelemetryProtocol.Drain:
                DrainFullBatches();
                break;
            case TelemetryProtocol.Tick:
                DrainAll();
                ReportDrops();
                break;
            case TelemetryProtocol.Flush flush:
                StartFlush(flush);
                break;
            case TelemetryProtocol.FlushDeadline deadline when _flushes.Remove(deadline.FlushId, out var expired):
                expired.Complete(false);
                break;
            case TelemetryProtocol.CancelFlush cancel:
                _flushes.Remove(cancel.FlushId);
                Timers.Cancel(cancel.FlushId);
                break;
            case ExporterProtocol.ExporterDrained drained when _flushes.TryGetValue(drained.FlushId, out var pending):
                if (--pending.Remaining == 0)
                {
                    _flushes.Remove(drained.FlushId);
                    Timers.Cancel(drained.FlushId);
                    pending.Complete(true);
                }
                break;
            case TelemetryProtocol.Close when _closing is null:
                Close();
                break;
            case ExporterProtocol.Closed when _closing is { } closing:
                if (--closing.Remaining == 0) Closed(closing);
                break;
            case ExporterProtocol.ExporterDrained or TelemetryProtocol.FlushDeadline or TelemetryProtocol.Close or ExporterProtocol.Closed:
                break; // a flush its caller has given up on, or a second close
            default:
                Unhandled(message);
                break;
        }
    }

    private void StartFlush(TelemetryProtocol.Flush flush)
    {
        DrainAll();
        if (_exporters.Length == 0)
        {
            flush.Complete(true);
            return;
        }
        _flushes[flush.FlushId] = new PendingFlush(flush.Complete, _exporters.Length);
        Timers.StartSingleTimer(flush.FlushId, new TelemetryProtocol.FlushDeadline(flush.FlushId), flush.Timeout);
        var marker = new ExporterProtocol.FlushMarker(flush.FlushId);
        foreach (var exporter in _exporters) exporter.Actor.Tell(marker);
    }

    private void DrainFullBatches()
    {
        _pipeline.ClearDrainRequest();
        while (_pipeline.QueueDepth >= Options.MaxExportBatchSize)
        {
            if (!Dispatch()) break;
        }
    }

    private void DrainAll()
    {
        _pipeline.ClearDrainRequest();
        while (_pipeline.QueueDepth > 0)
        {
            if (!Dispatch()) break;
        }
    }

    /// <summary>Takes up to a batch of spans off the intake queue and hands them to every exporter that has room.</summary>
    private bool Dispatch()
    {
        var batch = _pipeline.TakeBatch(++_nextSequence);
        if (batch is null) return false;
        foreach (var exporter in _exporters)
        {
            var accepted = exporter.Statistics.Reserve(batch, Options.MaxQueueSize, Options.MaxQueueBytes);
            exporter.Statistics.AddDropped(DropReasons.BacklogFull, batch.Count - (accepted?.Count ?? 0));
            if (accepted is not null) exporter.Actor.Tell(accepted);
        }
        return true;
    }

    /// <summary>Logs the spans dropped at a bound since the last warning, per exporter.</summary>
    private void ReportDrops()
    {
        foreach (var exporter in _exporters)
        {
            var queueFull = exporter.Statistics.Dropped(DropReasons.QueueFull);
            var backlogFull = exporter.Statistics.Dropped(DropReasons.BacklogFull);
            var newlyDropped = queueFull + backlogFull - exporter.ReportedDrops;
            if (newlyDropped == 0) continue;
            var logged = exporter.Drops.Warning(
                $"Telemetry for exporter {exporter.Named}: {newlyDropped} spans dropped at the memory bound " +
                $"({Options.MaxQueueSize} spans, {Options.MaxQueueBytes} bytes; so far {DropReasons.QueueFull} {queueFull}, " +
                $"{DropReasons.BacklogFull} {backlogFull}). The backend is slower than spans arrive, or away.",
                Context.System.Scheduler.Now);
            if (logged) exporter.ReportedDrops = queueFull + backlogFull;
        }
    }

    /// <summary>Shutdown: what is still in the intake queue is lost for every exporter; each exporter closes too.</summary>
    private void Close()
    {
        Timers.Cancel(TickTimer);
        var left = _pipeline.Close();
        foreach (var exporter in _exporters) exporter.Statistics.AddDropped(DropReasons.Shutdown, left);
        _closing = new Closing(Sender, _exporters.Length);
        if (_exporters.Length == 0)
        {
            Closed(_closing);
            return;
        }
        foreach (var exporter in _exporters) exporter.Actor.Tell(ExporterProtocol.Close.Instance);
    }

    private void Closed(Closing closing)
    {
        var report = _pipeline.Statistics();
        var lines = _exporters.Select(e => $"exporter {e.Named}: {report[e.Named.Name].Summary()}");
        var message = $"Telemetry pipeline stopped. {string.Join("; ", lines)}.";
        if (report.Lost > 0) _log.Warning(message);
        else _log.Info(message);
        closing.ReplyTo.Tell(report);
    }

    private sealed class Exporter(NamedExporter named, IActorRef actor, ExporterStatistics statistics, RateLimitedLog drops)
    {
        public NamedExporter Named { get; } = named;
        public IActorRef Actor { get; } = actor;
        public ExporterStatistics Statistics { get; } = statistics;
        public RateLimitedLog Drops { get; } = drops;
        public long ReportedDrops { get; set; }
    }

    private sealed class PendingFlush(Action<bool> complete, int remaining)
    {
        public Action<bool> Complete { get; } = complete;
        public int Remaining { get; set; } = remaining;
    }

    private sealed class Closing(IActorRef replyTo, int remaining)
    {
        public IActorRef ReplyTo { get; } = replyTo;
        public int Remaining { get; set; } = remaining;
    }
}

internal static class TelemetryProtocol
{
    /// <summary>A full batch is waiting in the intake queue.</summary>
    public sealed class Drain
    {
        public static readonly Drain Instance = new();
    }

    public sealed class Tick
    {
        public static readonly Tick Instance = new();
    }

    /// <summary>
    /// Export everything queued so far, then call <see cref="Complete"/> with true; with false when
    /// <see cref="Timeout"/> (on the actor system's scheduler) passes first.
    /// </summary>
    public sealed record Flush(long FlushId, TimeSpan Timeout, Action<bool> Complete);

    public sealed record FlushDeadline(long FlushId);

    public sealed record CancelFlush(long FlushId);

    /// <summary>Shutdown: count what is left as dropped and answer with the final <see cref="PipelineSnapshot"/>.</summary>
    public sealed class Close
    {
        public static readonly Close Instance = new();
    }
}
