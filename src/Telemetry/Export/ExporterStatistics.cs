namespace TtaActors.Telemetry.Export;

/// <summary>
/// Live counters of one exporter, written by the pipeline with atomic operations and read by the metric callbacks
/// and by <see cref="TelemetryPipeline.Statistics"/>.
/// </summary>
internal sealed class ExporterStatistics(string name)
{
    private long _backlog;
    private long _backlogBytes;
    private long _exported;
    private long _retries;
    private long _calls;
    private readonly long[] _dropped = new long[DropReasons.All.Length];

    public string Name { get; } = name;

    /// <summary>Spans handed to this exporter and not yet exported or dropped (including the batch in export).</summary>
    public long Backlog => Volatile.Read(ref _backlog);

    /// <summary>Estimated size of <see cref="Backlog"/>.</summary>
    public long BacklogBytes => Volatile.Read(ref _backlogBytes);

    public long Exported => Volatile.Read(ref _exported);
    public long Retries => Volatile.Read(ref _retries);

    /// <summary>Export calls started (each attempt of each batch).</summary>
    public long Calls => Volatile.Read(ref _calls);

    public long Dropped(string reason) => Volatile.Read(ref _dropped[Array.IndexOf(DropReasons.All, reason)]);

    public IReadOnlyDictionary<string, long> DroppedByReason() =>
        DropReasons.All.ToDictionary(reason => reason, Dropped);

    /// <summary>
    /// Reserves room for the longest head of <paramref name="batch"/> that fits under both bounds; returns that batch
    /// (null when not one span fits).
    /// </summary>
    public SpanBatch? Reserve(SpanBatch batch, int maxSpans, long maxBytes)
    {
        // Only the telemetry actor reserves, so read-then-add cannot overshoot; the exporter side only releases.
        var count = (int)Math.Max(0, Math.Min(batch.Count, maxSpans - Backlog));
        var roomBytes = maxBytes - BacklogBytes;
        var fitting = 0;
        long bytes = 0;
        while (fitting < count && bytes + batch.Sizes[fitting] <= roomBytes) bytes += batch.Sizes[fitting++];
        if (fitting == 0) return null;
        Interlocked.Add(ref _backlog, fitting);
        Interlocked.Add(ref _backlogBytes, bytes);
        return batch.Take(fitting);
    }

    public void Release(SpanBatch batch)
    {
        Interlocked.Add(ref _backlog, -batch.Count);
        Interlocked.Add(ref _backlogBytes, -batch.Bytes);
    }
    public void AddExported(int count) => Interlocked.Add(ref _exported, count);
    public void AddRetry() => Interlocked.Increment(ref _retries);
    public void AddCall() => Interlocked.Increment(ref _calls);

    public void AddDropped(string reason, long count)
    {
        if (count > 0) Interlocked.Add(ref _dropped[Array.IndexOf(DropReasons.All, reason)], count);
    }

    public ExporterSnapshot Snapshot() => new(Name, Exported, Backlog, Retries, DroppedByReason()) { BacklogBytes = BacklogBytes, Calls = Calls };
}

/// <summary>What one exporter has done so far.</summary>
public sealed record ExporterSnapshot(string Name, long Exported, long Backlog, long Retries, IReadOnlyDictionary<string, long> Dropped)
{
    /// <summary>Spans dropped for any reason (the sum of <see cref="Dropped"/>).</summary>
    public long DroppedTotal => Dropped.Values.Sum();

    /// <summary>Estimated size of <see cref="Backlog"/>, in bytes.</summary>
    public long BacklogBytes { get; init; }

    /// <summary>Export calls started, retries included.</summary>
    public long Calls { get; init; }

    /// <summary>"delivered 120 spans, lost 8 (shutdown 8)": the line the pipeline logs for this exporter when it stops.</summary>
    public string Summary()
    {
        var lost = Dropped.Where(d => d.Value > 0).Select(d => $"{d.Key} {d.Value}").ToList();
        var summary = $"delivered {Exported} spans, lost {DroppedTotal}";
        return lost.Count == 0 ? summary : $"{summary} ({string.Join(", ", lost)})";
    }
}

/// <summary>What the pipeline has done so far: spans accepted, waiting, and each exporter's counts.</summary>
public sealed record PipelineSnapshot(long Accepted, long QueueDepth, IReadOnlyList<ExporterSnapshot> Exporters)
{
    /// <summary>Estimated size of the spans waiting in the intake queue, in bytes.</summary>
    public long QueueBytes { get; init; }

    /// <summary>Spans dropped by any exporter for any reason.</summary>
    public long Lost => Exporters.Sum(e => e.DroppedTotal);

    /// <summary>The snapshot of the exporter of that name.</summary>
    /// <exception cref="KeyNotFoundException">The pipeline has no exporter of that name (the message lists the ones it has).</exception>
    public ExporterSnapshot this[string exporter] =>
        Exporters.FirstOrDefault(e => e.Name == exporter)
        ?? throw new KeyNotFoundException($"No exporter named '{exporter}'; the pipeline has: {string.Join(", ", Exporters.Select(e => e.Name))}.");
}
