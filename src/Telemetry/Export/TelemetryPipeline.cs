using System.Collections.Concurrent;
using System.Diagnostics;
using Akka.Actor;
using Akka.Configuration;
using OpenTelemetry;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace TtaActors.Telemetry.Export;

/// <summary>
/// The telemetry pipeline of one node: a span processor (<see cref="Processor"/>) puts every finished span into a
/// bounded intake queue without blocking, and the telemetry actor batches them and exports them to every
/// <see cref="NamedExporter"/>. Memory is bounded by <see cref="TelemetryPipelineOptions.MaxQueueSize"/>; what does
/// not fit is dropped and counted per exporter and reason.
/// </summary>
/// <remarks>
/// Lifecycle: construct, add <see cref="Processor"/> to the tracer provider, <see cref="Start"/> on the actor system.
/// Spans that end before <see cref="Start"/> wait in the queue. Coordinated shutdown of that actor system flushes
/// (within <see cref="TelemetryPipelineOptions.ShutdownTimeout"/>); <see cref="Dispose"/> shuts the exporters down.
/// </remarks>
public sealed class TelemetryPipeline : IDisposable
{
    internal static readonly ConcurrentDictionary<TelemetryPipeline, byte> Live = new();

    private readonly ConcurrentQueue<Activity> _intake = new();
    private readonly ExporterStatistics[] _statistics;
    private readonly TracerProvider[] _exporterHosts;
    private long _queued;
    private long _accepted;
    private int _drainRequested;
    private long _lastFlushId;
    private IActorRef? _actor;
    private ActorSystem? _system;
    private int _disposed;

    public TelemetryPipeline(IEnumerable<NamedExporter> exporters, TelemetryPipelineOptions? options = null,
        ResourceBuilder? resource = null, string? serviceName = null)
    {
        ArgumentNullException.ThrowIfNull(exporters);
        Options = options ?? new TelemetryPipelineOptions();
        Options.Validate();
        Exporters = exporters.ToArray();
        var duplicate = Exporters.GroupBy(e => e.Name).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
            throw new ArgumentException($"Two exporters are named '{duplicate.Key}'; exporter names label the pipeline's metrics and must be unique.", nameof(exporters));
        ServiceName = serviceName;
        _statistics = Exporters.Select(e => new ExporterStatistics(e.Name)).ToArray();
        // Each exporter gets a provider of its own that subscribes to no source: it gives the exporter its resource
        // (service.name and the rest, read through ParentProvider) and owns its shutdown. Spans reach the exporter only
        // through the telemetry actor.
        _exporterHosts = Exporters.Select(e => Sdk.CreateTracerProviderBuilder()
                .SetResourceBuilder(resource ?? ResourceBuilder.CreateDefault())
                .AddProcessor(new SimpleActivityExportProcessor(e.Exporter))
                .Build())
            .ToArray();
        Processor = new TelemetrySpanProcessor(this);
        Live.TryAdd(this, 0);
    }

    public TelemetryPipelineOptions Options { get; }
    public IReadOnlyList<NamedExporter> Exporters { get; }

    /// <summary>The <c>service_name</c> label of the pipeline's own metrics, when set.</summary>
    public string? ServiceName { get; }

    /// <summary>Add this to the tracer provider: it hands every finished, recorded span to the pipeline.</summary>
    public BaseProcessor<Activity> Processor { get; }

    /// <summary>Spans waiting in the intake queue.</summary>
    public long QueueDepth => Volatile.Read(ref _queued);

    /// <summary>The telemetry actor, once started.</summary>
    public IActorRef? Actor => _actor;

    internal ExporterStatistics StatisticsOf(int index) => _statistics[index];

    /// <summary>
    /// Puts a finished span in the queue, or drops and counts it if the queue is full. Never blocks; safe from any thread.
    /// </summary>
    public bool Offer(Activity span)
    {
        var depth = Interlocked.Increment(ref _queued);
        if (depth > Options.MaxQueueSize)
        {
            Interlocked.Decrement(ref _queued);
            foreach (var statistics in _statistics) statistics.AddDropped(DropReasons.QueueFull, 1);
            return false;
        }
        _intake.Enqueue(span);
        Interlocked.Increment(ref _accepted);
        if (depth >= Options.MaxExportBatchSize && Volatile.Read(ref _drainRequested) == 0
            && Interlocked.Exchange(ref _drainRequested, 1) == 0)
        {
            _actor?.Tell(TelemetryProtocol.Drain.Instance);
        }
        return true;
    }

    internal void ClearDrainRequest() => Volatile.Write(ref _drainRequested, 0);

    internal int TakeSpans(Activity[] into)
    {
        var count = 0;
        while (count < into.Length && _intake.TryDequeue(out var span)) into[count++] = span;
        if (count > 0) Interlocked.Add(ref _queued, -count);
        return count;
    }

    /// <summary>
    /// Starts the telemetry actor on <paramref name="system"/> and registers the flush on its coordinated shutdown.
    /// </summary>
    public IActorRef Start(ActorSystem system)
    {
        ArgumentNullException.ThrowIfNull(system);
        if (_actor is not null) throw new InvalidOperationException("The telemetry pipeline is already started.");
        system.Settings.InjectTopLevelFallback(ConfigurationFactory.ParseString(
            $"{ExporterActor.DispatcherId} {{ type = PinnedDispatcher }}"));
        _system = system;
        _actor = system.ActorOf(TelemetryActor.Props(this), "tta-telemetry");
        CoordinatedShutdown.Get(system).AddTask(CoordinatedShutdown.PhaseBeforeActorSystemTerminate, "tta-telemetry-flush",
            async () =>
            {
                await FlushAsync(Options.ShutdownTimeout).ConfigureAwait(false);
                return Akka.Done.Instance;
            });
        return _actor;
    }

    /// <summary>
    /// Exports everything queued so far to every exporter. True when all of it is exported (or dropped after its last
    /// allowed attempt); false when <paramref name="timeout"/> passes first or the pipeline is not running.
    /// </summary>
    public Task<bool> FlushAsync(TimeSpan timeout, CancellationToken cancellation = default)
    {
        if (_actor is null || _system is null || _system.WhenTerminated.IsCompleted)
            return Task.FromResult(QueueDepth == 0 && _statistics.All(s => s.Backlog == 0));
        var done = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        var flushId = Interlocked.Increment(ref _lastFlushId);
        _actor.Tell(new TelemetryProtocol.Flush(flushId, ok => done.TrySetResult(ok)));
        return WaitAsync(done.Task, flushId, timeout, cancellation);
    }

    private async Task<bool> WaitAsync(Task<bool> flushed, long flushId, TimeSpan timeout, CancellationToken cancellation)
    {
        try
        {
            return await flushed.WaitAsync(timeout, cancellation).ConfigureAwait(false);
        }
        catch (Exception error) when (error is TimeoutException or OperationCanceledException)
        {
            _actor?.Tell(new TelemetryProtocol.CancelFlush(flushId));
            return false;
        }
    }

    /// <summary>Counters of the pipeline and of each exporter, read now.</summary>
    public PipelineSnapshot Statistics() =>
        new(Volatile.Read(ref _accepted), QueueDepth, _statistics.Select(s => s.Snapshot()).ToArray());

    internal IEnumerable<ExporterStatistics> ExporterStatistics => _statistics;

    /// <summary>Stops the telemetry actor (what it still holds is counted as dropped) and shuts the exporters down.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        Live.TryRemove(this, out _);
        if (_actor is not null && _system is { WhenTerminated.IsCompleted: false }) _system.Stop(_actor);
        foreach (var host in _exporterHosts) host.Dispose();
    }
}
