using System.Text.Json.Nodes;
using TtaActors.Runtime.Runs;
using TtaActors.Telemetry;

namespace TtaActors.Runtime.Inspector;

/// <summary>
/// The event stream of an in-memory run (<c>GET /runs/{id}/events</c>), in AG-UI event types: RUN_STARTED from the run's
/// record, a STEP_STARTED and a STEP_FINISHED for each primitive span of the run as the span store receives it (spans
/// reach the store once they have ended, so both arrive together, with the span's start time, duration and status),
/// then RUN_FINISHED or RUN_ERROR once the run has finished and its root span is in. Event ids count from 1 in that
/// order, which only grows, so <c>Last-Event-ID</c> resumes a stream.
/// </summary>
/// <remarks>
/// This mapping of spans to step events is the inspector's own; the durable runs' journal has its own mapping
/// (<see cref="Actors.Durable.AgUiEvents"/>).
/// </remarks>
public static class InspectorEvents
{
    /// <summary>The events of <paramref name="stored"/> as far as they are known now, and whether the stream is complete.</summary>
    public static (IReadOnlyList<JsonObject> Events, bool Complete) Of(StoredRun stored, StoredTrace? trace)
    {
        var run = stored.Record;
        var thread = run.Session ?? run.RunId;
        var events = new List<JsonObject>
        {
            new()
            {
                ["type"] = "RUN_STARTED", ["threadId"] = thread, ["runId"] = run.RunId,
                ["input"] = new JsonObject { ["workflow"] = run.Workflow }, ["timestamp"] = run.StartedAt.ToUnixTimeMilliseconds(),
            },
        };
        var rootArrived = false;
        foreach (var span in trace?.Spans ?? [])
        {
            if (span.ParentSpanId is null && span.Name.StartsWith(TelemetryNames.Spans.WorkflowRunPrefix, StringComparison.Ordinal))
                rootArrived = true;
            if (!IsStep(span)) continue;
            var path = span.Attribute(TelemetryNames.Attributes.PrimitiveName) ?? span.Name;
            var type = span.Attribute(TelemetryNames.Attributes.PrimitiveType);
            events.Add(new JsonObject
            {
                ["type"] = "STEP_STARTED", ["stepName"] = path, ["primitiveType"] = type, ["spanId"] = span.SpanId,
                ["parentSpanId"] = span.ParentSpanId, ["timestamp"] = span.Start.ToUnixTimeMilliseconds(),
            });
            var failed = span.Status == "error" || span.Attribute(TelemetryNames.Attributes.PrimitiveStatus) == TelemetryNames.Status.Error;
            events.Add(new JsonObject
            {
                ["type"] = "STEP_FINISHED", ["stepName"] = path, ["primitiveType"] = type, ["spanId"] = span.SpanId,
                ["durationMs"] = span.Duration.TotalMilliseconds, ["status"] = failed ? TelemetryNames.Status.Error : TelemetryNames.Status.Success,
                ["timestamp"] = (span.Start + span.Duration).ToUnixTimeMilliseconds(),
            });
        }
        if (run.Status is RunStatus.Running or RunStatus.Waiting || !rootArrived) return (events, false);
        events.Add(Finish(stored));
        return (events, true);
    }

    /// <summary>RUN_FINISHED or RUN_ERROR of a finished run, also for a stream that ends without the run's spans.</summary>
    public static JsonObject Finish(StoredRun stored)
    {
        var run = stored.Record;
        var at = (run.FinishedAt ?? DateTimeOffset.UtcNow).ToUnixTimeMilliseconds();
        return run.Error is { } error
            ? new JsonObject { ["type"] = "RUN_ERROR", ["message"] = $"{error.PrimitivePath}: {error.Message}", ["code"] = error.ErrorType, ["timestamp"] = at }
            : new JsonObject
            {
                ["type"] = "RUN_FINISHED", ["threadId"] = run.Session ?? run.RunId, ["runId"] = run.RunId,
                ["result"] = stored.Output, ["timestamp"] = at,
            };
    }

    private static bool IsStep(StoredSpan span) =>
        span.Name.StartsWith(TelemetryNames.Spans.PrimitivePrefix, StringComparison.Ordinal)
        || span.Name.StartsWith(TelemetryNames.Spans.RetryAttemptPrefix, StringComparison.Ordinal);
}
