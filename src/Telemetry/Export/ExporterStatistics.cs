namespace TtaActors.Telemetry.Export;

/// <summary>
/// Live counters of one exporter, written by the pipeline with atomic operations and read by the metric callbacks
/// and by <see cref="TelemetryPipeline.Statistics"/>.
/// </summary>
internal sealed class ExporterStatistics(string name)
{
    private long _backlog;
    private long _exported;
    private long _retries;
    private readonly long[] _dropped = new long[DropReasons.All.Length];

    public string Name { get; } = name;

    /// <summary>Spans handed to this exporter and not yet exported or dropped (including the batch in export).</summary>
    public long Backlog => Volatile.Read(ref _backlog);

    public long Exported => Volatile.Read(ref _exported);
    public long Retries => Volatile.Read(ref _retries);

    public long Dropped(string reason) => Volatile.Read(ref _dropped[Array.IndexOf(DropReasons.All, reason)]);

    public IReadOnlyDictionary<string, long> DroppedByReason() =>
        DropReasons.All.ToDictionary(reason => reason, Dropped);

    /// <summary>Reserves room for up to <paramref name="count"/> spans; returns how many fit under <paramref name="bound"/>.</summary>
    public int Reserve(int count, int bound)
    {
        // Only the telemetry actor reserves, so read-then-add cannot overshoot; the exporter side only releases.
        var room = (int)Math.Max(0, Math.Min(count, bound - Backlog));
        if (room > 0) Interlocked.Add(ref _backlog, room);
        return room;
    }

    public void Release(int count) => Interlocked.Add(ref _backlog, -count);
    public void AddExported(int count) => Interlocked.Add(ref _exported, count);
    public void AddRetry() => Interlocked.Increment(ref _retries);

    public void AddDropped(string reason, long count)
    {
        if (count > 0) Interlocked.Add(ref _dropped[Array.IndexOf(DropReasons.All, reason)], count);
    }

    public ExporterSnapshot Snapshot() => new(Name, Exported, Backlog, Retries, DroppedByReason());
}

/// <summary>What one exporter has done so far.</summary>
public sealed record ExporterSnapshot(string Name, long Exported, long Backlog, long Retries, IReadOnlyDictionary<string, long> Dropped)
{
    public long DroppedTotal => Dropped.Values.Sum();
}

/// <summary>What the pipeline has done so far: spans accepted, waiting, and each exporter's counts.</summary>
public sealed record PipelineSnapshot(long Accepted, long QueueDepth, IReadOnlyList<ExporterSnapshot> Exporters)
{
    public ExporterSnapshot this[string exporter] =>
        Exporters.FirstOrDefault(e => e.Name == exporter)
        ?? throw new KeyNotFoundException($"No exporter named '{exporter}'; the pipeline has: {string.Join(", ", Exporters.Select(e => e.Name))}.");
}
