namespace TtaActors.Telemetry.Export;

/// <summary>Bounds and timings of the telemetry pipeline.</summary>
public sealed record TelemetryPipelineOptions
{
    /// <summary>
    /// The memory bound, in spans: at most this many spans wait to be batched, and at most this many wait for (or are
    /// in) export per exporter. A span beyond the bound is dropped and counted, never waited for.
    /// </summary>
    public int MaxQueueSize { get; init; } = 65_536;

    /// <summary>
    /// The memory bound, in bytes (estimated by <see cref="SpanSize"/>: name, attributes, events, links): at most this
    /// much waits to be batched, and at most this much per exporter. Both this and <see cref="MaxQueueSize"/> apply; an
    /// LLM span with 32 K characters of prompt counts for what it holds, not as one span among 65,536.
    /// </summary>
    public long MaxQueueBytes { get; init; } = 64L * 1024 * 1024;

    /// <summary>Spans per export call.</summary>
    public int MaxExportBatchSize { get; init; } = 512;

    /// <summary>A partial batch is exported at the latest this long after its first span arrived.</summary>
    public TimeSpan ScheduledDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Delay before the first retry of a failed export; doubled per attempt up to <see cref="MaxRetryBackoff"/>.</summary>
    public TimeSpan InitialRetryBackoff { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest delay between export retries; 30 seconds by default.</summary>
    public TimeSpan MaxRetryBackoff { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Export attempts per batch before it is dropped (reason <c>retries_exhausted</c>). The default, 5, gives a backend
    /// about 15 s (1 + 2 + 4 + 8 s of backoff) before a batch is given up, so one batch that always fails cannot hold
    /// an exporter. Null retries until the backend answers, holding spans within the memory bound (what does not fit is
    /// dropped as <c>backlog_full</c>, counted and logged).
    /// </summary>
    public int? MaxExportAttempts { get; init; } = 5;

    /// <summary>
    /// How long one <c>Export</c> call may take. A call still running then counts as a failed attempt (logged, retried
    /// or dropped like any failure); the exporter is called again only once that call has returned, as OpenTelemetry
    /// exporters are called by one thread at a time.
    /// </summary>
    public TimeSpan ExportTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Export failures are logged for the first one, then at most once per this interval per exporter, with the number
    /// of failures not logged in between.
    /// </summary>
    public TimeSpan FailureLogInterval { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// How long coordinated shutdown waits for queued spans to be exported. Whatever is still queued or in export then
    /// is counted as dropped (reason <c>shutdown</c>) and the pipeline logs, per exporter, what it delivered and lost.
    /// </summary>
    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromSeconds(5);

    internal void Validate()
    {
        if (MaxQueueSize < 1) throw new ArgumentOutOfRangeException(nameof(MaxQueueSize), MaxQueueSize, "The telemetry queue needs room for at least one span.");
        if (MaxQueueBytes < 1) throw new ArgumentOutOfRangeException(nameof(MaxQueueBytes), MaxQueueBytes, "The telemetry queue needs room for at least one byte.");
        if (MaxExportBatchSize < 1) throw new ArgumentOutOfRangeException(nameof(MaxExportBatchSize), MaxExportBatchSize, "An export batch holds at least one span.");
        if (ScheduledDelay <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(ScheduledDelay), ScheduledDelay, "The export delay must be positive.");
        if (InitialRetryBackoff <= TimeSpan.Zero || MaxRetryBackoff < InitialRetryBackoff)
            throw new ArgumentOutOfRangeException(nameof(InitialRetryBackoff), InitialRetryBackoff, "Retry backoff must be positive and at most MaxRetryBackoff.");
        if (MaxExportAttempts is < 1) throw new ArgumentOutOfRangeException(nameof(MaxExportAttempts), MaxExportAttempts, "At least one export attempt is needed.");
        if (ExportTimeout <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(ExportTimeout), ExportTimeout, "The export timeout must be positive.");
        if (FailureLogInterval <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(FailureLogInterval), FailureLogInterval, "The failure log interval must be positive.");
        if (ShutdownTimeout <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(ShutdownTimeout), ShutdownTimeout, "The shutdown timeout must be positive.");
    }
}
