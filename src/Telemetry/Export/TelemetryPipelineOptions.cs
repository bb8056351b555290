namespace TtaActors.Telemetry.Export;

/// <summary>Bounds and timings of the telemetry pipeline.</summary>
public sealed record TelemetryPipelineOptions
{
    /// <summary>
    /// The memory bound, in spans: at most this many spans wait to be batched, and at most this many wait for (or are
    /// in) export per exporter. A span beyond the bound is dropped and counted, never waited for.
    /// </summary>
    public int MaxQueueSize { get; init; } = 65_536;

    /// <summary>Spans per export call.</summary>
    public int MaxExportBatchSize { get; init; } = 512;

    /// <summary>A partial batch is exported at the latest this long after its first span arrived.</summary>
    public TimeSpan ScheduledDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Delay before the first retry of a failed export; doubled per attempt up to <see cref="MaxRetryBackoff"/>.</summary>
    public TimeSpan InitialRetryBackoff { get; init; } = TimeSpan.FromSeconds(1);

    public TimeSpan MaxRetryBackoff { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Export attempts per batch before it is dropped (reason <c>retries_exhausted</c>); null retries until the backend
    /// answers, holding the batch within the memory bound.
    /// </summary>
    public int? MaxExportAttempts { get; init; }

    /// <summary>How long coordinated shutdown waits for queued spans to be exported.</summary>
    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromSeconds(10);

    internal void Validate()
    {
        if (MaxQueueSize < 1) throw new ArgumentOutOfRangeException(nameof(MaxQueueSize), MaxQueueSize, "The telemetry queue needs room for at least one span.");
        if (MaxExportBatchSize < 1) throw new ArgumentOutOfRangeException(nameof(MaxExportBatchSize), MaxExportBatchSize, "An export batch holds at least one span.");
        if (ScheduledDelay <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(ScheduledDelay), ScheduledDelay, "The export delay must be positive.");
        if (InitialRetryBackoff <= TimeSpan.Zero || MaxRetryBackoff < InitialRetryBackoff)
            throw new ArgumentOutOfRangeException(nameof(InitialRetryBackoff), InitialRetryBackoff, "Retry backoff must be positive and at most MaxRetryBackoff.");
        if (MaxExportAttempts is < 1) throw new ArgumentOutOfRangeException(nameof(MaxExportAttempts), MaxExportAttempts, "At least one export attempt is needed.");
    }
}
