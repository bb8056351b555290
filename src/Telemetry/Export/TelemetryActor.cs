using System.Diagnostics;
using Akka.Actor;

namespace TtaActors.Telemetry.Export;

/// <summary>
/// The one telemetry actor of a node. It takes finished spans from the pipeline's bounded intake queue, cuts them
/// into batches by size (as soon as a full batch is waiting) and by time (every <see cref="TelemetryPipelineOptions.ScheduledDelay"/>),
/// and hands every batch to each exporter's own actor, within each exporter's memory bound. It never exports itself,
/// so it never waits for a backend.
/// </summary>
internal sealed class TelemetryActor : UntypedActor, IWithTimers
{
    private const string TickTimer = "tick";

    private readonly TelemetryPipeline _pipeline;
    private readonly (IActorRef Actor, ExporterStatistics Statistics)[] _exporters;
    private readonly Dictionary<long, PendingFlush> _flushes = new();
    private long _nextSequence;

    public TelemetryActor(TelemetryPipeline pipeline)
    {
        _pipeline = pipeline;
        _exporters = pipeline.Exporters
            .Select((exporter, i) => (Context.ActorOf(ExporterActor.Props(exporter, pipeline.StatisticsOf(i), pipeline.Options),
                $"exporter-{i}"), pipeline.StatisticsOf(i)))
            .ToArray();
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(TelemetryPipeline pipeline) => Akka.Actor.Props.Create(() => new TelemetryActor(pipeline));

    protected override void PreStart()
    {
        Timers.StartPeriodicTimer(TickTimer, TelemetryProtocol.Tick.Instance, _pipeline.Options.ScheduledDelay);
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
                break;
            case TelemetryProtocol.Flush flush:
                StartFlush(flush);
                break;
            case TelemetryProtocol.CancelFlush cancel:
                _flushes.Remove(cancel.FlushId);
                break;
            case ExporterProtocol.ExporterDrained drained when _flushes.TryGetValue(drained.FlushId, out var pending):
                if (--pending.Remaining == 0)
                {
                    _flushes.Remove(drained.FlushId);
                    pending.Complete(true);
                }
                break;
            case ExporterProtocol.ExporterDrained:
                break; // a flush its caller has given up on
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
        var marker = new ExporterProtocol.FlushMarker(flush.FlushId);
        foreach (var (actor, _) in _exporters) actor.Tell(marker);
    }

    private void DrainFullBatches()
    {
        _pipeline.ClearDrainRequest();
        var size = _pipeline.Options.MaxExportBatchSize;
        while (_pipeline.QueueDepth >= size)
        {
            if (!Dispatch(size)) break;
        }
    }

    private void DrainAll()
    {
        _pipeline.ClearDrainRequest();
        var size = _pipeline.Options.MaxExportBatchSize;
        while (_pipeline.QueueDepth > 0)
        {
            if (!Dispatch(size)) break;
        }
    }

    /// <summary>Takes up to <paramref name="size"/> spans off the intake queue and hands them to every exporter.</summary>
    private bool Dispatch(int size)
    {
        var items = new Activity[size];
        var count = _pipeline.TakeSpans(items);
        if (count == 0) return false;
        var batch = new SpanBatch(++_nextSequence, items, count);
        var bound = _pipeline.Options.MaxQueueSize;
        foreach (var (actor, statistics) in _exporters)
        {
            var accepted = statistics.Reserve(count, bound);
            statistics.AddDropped(DropReasons.BacklogFull, count - accepted);
            if (accepted > 0) actor.Tell(batch.Take(accepted));
        }
        return true;
    }

    private sealed class PendingFlush(Action<bool> complete, int remaining)
    {
        public Action<bool> Complete { get; } = complete;
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

    /// <summary>Export everything queued so far, then call <see cref="Complete"/> with true.</summary>
    public sealed record Flush(long FlushId, Action<bool> Complete);

    public sealed record CancelFlush(long FlushId);
}
