using System.Collections.Concurrent;
using System.Diagnostics;
using Akka.Actor;
using Akka.Event;
using OpenTelemetry;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace TtaActors.Telemetry.Export;

/// <summary>
/// The telemetry pipeline of one node: a span processor (<see cref="Processor"/>) puts every finished span into a
/// bounded intake queue without blocking, and the telemetry actor batches them and exports them to every
/// <see cref="NamedExporter"/>. Memory is bounded by <see cref="TelemetryPipelineOptions.MaxQueueSize"/> spans and
/// <see cref="TelemetryPipelineOptions.MaxQueueBytes"/> bytes; what does not fit is dropped and counted per exporter and
/// reason.
/// </summary>
/// <remarks>
/// Lifecycle: construct, add <see cref="Processor"/> to the tracer provider, <see cref="Start"/> on the actor system.
/// Spans that end before <see cref="Start"/> wait in the queue. Coordinated shutdown of that actor system flushes
/// within <see cref="TelemetryPipelineOptions.ShutdownTimeout"/>, then counts what is left as dropped (reason
/// <c>shutdown</c>) and logs what each exporter delivered and lost (<see cref="ShutdownReport"/>);
/// <see cref="Dispose"/> shuts the exporters down.
/// </remarks>
public sealed class TelemetryPipeline : IDisposable
{
    internal static readonly ConcurrentDictionary<TelemetryPipeline, byte> Live = new();

    /// <summary>Time the shutdown keeps, within its coordinated-shutdown phase, for counting and reporting after the flush.</summary>
    internal static readonly TimeSpan CloseAllowance = TimeSpan.FromSeconds(1);

    private readonly ConcurrentQueue<(Activity Span, int Size)> _intake = new();
    private readonly ExporterStatistics[] _statistics;
    private readonly TracerProvider[] _exporterHosts;
    private long _queued;
    private long _queuedBytes;
    private int _closed;
    private long _accepted;
    private int _drainRequested;
    private long _lastFlushId;
    private IActorRef? _actor;
    private ActorSystem? _system;
    private int _disposed;

    /// <summary>A pipeline that exports to <paramref name="exporters"/>; spans are queued until <see cref="Start"/>.</summary>
    /// <param name="exporters">The destinations; their names must be unique.</param>
    /// <param name="options">Batch sizes, bounds, retries and shutdown time; the defaults when null.</param>
    /// <param name="resource">The resource every exporter reports (service.name and the rest); the SDK default when null.</param>
    /// <param name="serviceName">The <c>service_name</c> label of the pipeline's own metrics.</param>
    /// <exception cref="ArgumentException">Two exporters have the same name, or an option is out of range.</exception>
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

    /// <summary>The options the pipeline was made with, validated.</summary>
    public TelemetryPipelineOptions Options { get; }
    /// <summary>The exporters, in the order given.</summary>
    public IReadOnlyList<NamedExporter> Exporters { get; }

    /// <summary>The <c>service_name</c> label of the pipeline's own metrics, when set.</summary>
    public string? ServiceName { get; }

    /// <summary>Add this to the tracer provider: it hands every finished, recorded span to the pipeline.</summary>
    public BaseProcessor<Activity> Processor { get; }

    /// <summary>Spans waiting in the intake queue.</summary>
    public long QueueDepth => Volatile.Read(ref _queued);

    /// <summary>Estimated size of the spans waiting in the intake queue (<see cref="SpanSize"/>).</summary>
    public long QueueBytes => Volatile.Read(ref _queuedBytes);

    /// <summary>
    /// What each exporter delivered and lost, once shutdown has counted what was left (null before). Delivered plus
    /// dropped is then every span offered, per exporter.
    /// </summary>
    public PipelineSnapshot? ShutdownReport { get; private set; }

    private bool IsClosed => Volatile.Read(ref _closed) == 1;
    private bool IsDisposed => Volatile.Read(ref _disposed) == 1;

    /// <summary>The telemetry actor, once started.</summary>
    public IActorRef? Actor => _actor;

    internal ExporterStatistics StatisticsOf(int index) => _statistics[index];

    /// <summary>
    /// Puts a finished span in the queue, or drops and counts it if the queue is full (or the pipeline has shut down).
    /// Never blocks; safe from any thread.
    /// </summary>
    public bool Offer(Activity span)
    {
        if (IsClosed) return Refuse(DropReasons.Shutdown);
        var size = SpanSize.Estimate(span);
        var depth = Interlocked.Increment(ref _queued);
        var bytes = Interlocked.Add(ref _queuedBytes, size);
        if (depth > Options.MaxQueueSize || bytes > Options.MaxQueueBytes)
        {
            Interlocked.Decrement(ref _queued);
            Interlocked.Add(ref _queuedBytes, -size);
            return Refuse(DropReasons.QueueFull);
        }
        _intake.Enqueue((span, size));
        Interlocked.Increment(ref _accepted);
        if (depth >= Options.MaxExportBatchSize && Volatile.Read(ref _drainRequested) == 0
            && Interlocked.Exchange(ref _drainRequested, 1) == 0)
        {
            _actor?.Tell(TelemetryProtocol.Drain.Instance);
        }
        return true;
    }

    private bool Refuse(string reason)
    {
        foreach (var statistics in _statistics) statistics.AddDropped(reason, 1);
        return false;
    }

    internal void ClearDrainRequest() => Volatile.Write(ref _drainRequested, 0);

    /// <summary>Takes up to <see cref="TelemetryPipelineOptions.MaxExportBatchSize"/> spans off the intake queue; null when it is empty.</summary>
    internal SpanBatch? TakeBatch(long sequence)
    {
        if (_intake.IsEmpty) return null;
        var size = Options.MaxExportBatchSize;
        var items = new Activity[size];
        var sizes = new int[size];
        var count = 0;
        long bytes = 0;
        while (count < size && _intake.TryDequeue(out var entry))
        {
            items[count] = entry.Span;
            sizes[count++] = entry.Size;
            bytes += entry.Size;
        }
        if (count == 0) return null;
        Interlocked.Add(ref _queued, -count);
        Interlocked.Add(ref _queuedBytes, -bytes);
        return new SpanBatch(sequence, items, sizes, count);
    }

    /// <summary>Refuses every later span (counted as <c>shutdown</c>) and empties the intake queue; answers how many spans it held.</summary>
    internal long Close()
    {
        Volatile.Write(ref _closed, 1);
        long left = 0;
        while (_intake.TryDequeue(out var entry))
        {
            left++;
            Interlocked.Decrement(ref _queued);
            Interlocked.Add(ref _queuedBytes, -entry.Size);
        }
        return left;
    }

    /// <summary>
    /// Starts the telemetry actor on <paramref name="system"/> and registers the flush on its coordinated shutdown.
    /// </summary>
    public IActorRef Start(ActorSystem system)
    {
        ArgumentNullException.ThrowIfNull(system);
        if (_actor is not null) throw new InvalidOperationException("The telemetry pipeline is already started.");
        _system = system;
        _actor = system.ActorOf(TelemetryActor.Props(this), "tta-telemetry");
        var shutdown = CoordinatedShutdown.Get(system);
        var flushBound = FlushBound(shutdown.Timeout(CoordinatedShutdown.PhaseBeforeActorSystemTerminate), system.Log);
        shutdown.AddTask(CoordinatedShutdown.PhaseBeforeActorSystemTerminate, "tta-telemetry-flush",
            async () =>
            {
                await ShutdownAsync(flushBound).ConfigureAwait(false);
                return Akka.Done.Instance;
            });
        return _actor;
    }

    /// <summary>
    /// The flush must end, and the report be made, inside the coordinated-shutdown phase it runs in; a phase shorter
    /// than the shutdown timeout shortens the flush, and says so.
    /// </summary>
    private TimeSpan FlushBound(TimeSpan phaseTimeout, ILoggingAdapter log)
    {
        var available = phaseTimeout - CloseAllowance;
        if (available >= Options.ShutdownTimeout) return Options.ShutdownTimeout;
        var bound = available > TimeSpan.Zero ? available : TimeSpan.FromTicks(phaseTimeout.Ticks / 2);
        log.Warning("tta.telemetry.shutdown-timeout ({0} s) does not fit in akka.coordinated-shutdown.phases.before-actor-system-terminate.timeout " +
                    "({1} s) with {2} s to spare for the shutdown report; the telemetry flush at shutdown waits {3} s. Raise the phase timeout.",
            Options.ShutdownTimeout.TotalSeconds, phaseTimeout.TotalSeconds, CloseAllowance.TotalSeconds, bound.TotalSeconds);
        return bound;
    }

    /// <summary>
    /// Flushes within <paramref name="flushBound"/>, then counts everything still queued or in export as dropped
    /// (reason <c>shutdown</c>), refuses later spans, and logs and returns what each exporter delivered and lost.
    /// </summary>
    internal async Task<PipelineSnapshot> ShutdownAsync(TimeSpan flushBound)
    {
        if (!IsDisposed)
        {
            await FlushAsync(flushBound).ConfigureAwait(false);
            try
            {
                return ShutdownReport = await _actor!.Ask<PipelineSnapshot>(TelemetryProtocol.Close.Instance, CloseAllowance).ConfigureAwait(false);
            }
            catch (Exception error) when (error is AskTimeoutException or TaskCanceledException)
            {
                // The telemetry actor is gone: the system stopped under us. It is counted from here below.
            }
        }
        // Disposed, or the actor is gone: its exporters counted their backlogs as they stopped; the intake queue is
        // counted here.
        var left = Close();
        foreach (var statistics in _statistics) statistics.AddDropped(DropReasons.Shutdown, left);
        return ShutdownReport = Statistics();
    }

    /// <summary>
    /// Exports everything queued so far to every exporter. True when all of it is exported (or dropped after its last
    /// allowed attempt); false when <paramref name="timeout"/> passes first. Once the pipeline has stopped: true when it
    /// lost nothing at shutdown.
    /// </summary>
    public Task<bool> FlushAsync(TimeSpan timeout, CancellationToken cancellation = default)
    {
        if (IsClosed || IsDisposed || _actor is null || _system is null || _system.WhenTerminated.IsCompleted)
            return Task.FromResult(QueueDepth == 0 && _statistics.All(s => s.Backlog == 0 && s.Dropped(DropReasons.Shutdown) == 0));
        var done = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        var flushId = Interlocked.Increment(ref _lastFlushId);
        // The deadline runs on the actor system's scheduler; the wait below only guards against an actor that is gone.
        _actor.Tell(new TelemetryProtocol.Flush(flushId, timeout, ok => done.TrySetResult(ok)));
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
        new(Volatile.Read(ref _accepted), QueueDepth, _statistics.Select(s => s.Snapshot()).ToArray()) { QueueBytes = QueueBytes };

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
