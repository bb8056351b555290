using System.Diagnostics;

namespace TtaActors.Telemetry.Export.Langfuse;

/// <summary>
/// The trace-level attributes Langfuse reads. They go on every span of a run, not only the root, because Langfuse
/// may receive a run's spans in several batches and takes trace fields from whichever span carries them.
/// </summary>
public static class LangfuseTraceAttributes
{
    /// <summary>Tags <paramref name="span"/>; callers check <see cref="Activity.IsAllDataRequested"/> first.</summary>
    public static void Tag(Activity span, string? traceName, string? userId, string? sessionId, string? chatMode, string? workspace,
        string[]? tags)
    {
        if (traceName is not null) span.SetTag(TelemetryNames.Langfuse.TraceName, traceName);
        if (userId is not null) span.SetTag(TelemetryNames.Langfuse.UserId, userId);
        if (sessionId is not null) span.SetTag(TelemetryNames.Langfuse.SessionId, sessionId);
        if (chatMode is not null) span.SetTag(TelemetryNames.Langfuse.TraceMetadataChatMode, chatMode);
        if (workspace is not null) span.SetTag(TelemetryNames.Langfuse.TraceMetadataWorkspace, workspace);
        if (tags is { Length: > 0 }) span.SetTag(TelemetryNames.Langfuse.TraceTags, tags);
    }
}
