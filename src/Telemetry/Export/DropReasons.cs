namespace TtaActors.Telemetry.Export;

/// <summary>Values of the <c>reason</c> label of <c>telemetry_spans_dropped_total</c>.</summary>
public static class DropReasons
{
    /// <summary>The span arrived while the intake queue held <see cref="TelemetryPipelineOptions.MaxQueueSize"/> spans.</summary>
    public const string QueueFull = "queue_full";

    /// <summary>The exporter already held <see cref="TelemetryPipelineOptions.MaxQueueSize"/> spans it could not deliver yet.</summary>
    public const string BacklogFull = "backlog_full";

    /// <summary>Every attempt allowed by <see cref="TelemetryPipelineOptions.MaxExportAttempts"/> failed.</summary>
    public const string RetriesExhausted = "retries_exhausted";

    /// <summary>The process stopped before the span could be exported within the shutdown timeout.</summary>
    public const string Shutdown = "shutdown";

    internal static readonly string[] All = [QueueFull, BacklogFull, RetriesExhausted, Shutdown];
}
