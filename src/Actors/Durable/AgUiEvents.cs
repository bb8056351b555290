using System.Diagnostics;
using System.Text.Json.Nodes;
using TtaActors.Telemetry;
using static TtaActors.Actors.Durable.DurableRunEvents;

namespace TtaActors.Actors.Durable;

/// <summary>
/// A durable run's journal as AG-UI events (https://docs.ag-ui.com): RUN_STARTED, STEP_STARTED, STEP_FINISHED,
/// RUN_FINISHED, RUN_ERROR, TEXT_MESSAGE_START/CONTENT/END for streaming LLM steps, and CUSTOM for waits and signals (<c>approval_requested</c>, <c>signal_awaited</c>,
/// <c>signal_received</c>, <c>signal_timed_out</c>). One journal event is one stream event; its id is the sequence number.
/// </summary>
public static class AgUiEvents
{
    /// <summary>CUSTOM event name of a wait for a human approval.</summary>
    public const string ApprovalRequested = "approval_requested";
    /// <summary>CUSTOM event name of a wait for a signal.</summary>
    public const string SignalAwaited = "signal_awaited";
    /// <summary>CUSTOM event name of a signal that ended a wait.</summary>
    public const string SignalReceivedName = "signal_received";
    /// <summary>CUSTOM event name of a wait that passed its timeout.</summary>
    public const string SignalTimedOut = "signal_timed_out";

    /// <summary>The AG-UI JSON of one journal event.</summary>
    /// <param name="event">The journal event.</param>
    /// <param name="runId">The run (AG-UI <c>runId</c>).</param>
    /// <param name="threadId">The AG-UI <c>threadId</c> the run belongs to.</param>
    public static JsonObject ToJson(IEvent @event, string runId, string threadId)
    {
        var json = @event switch
        {
            RunStarted started => new JsonObject
            {
                ["type"] = "RUN_STARTED", ["threadId"] = threadId, ["runId"] = runId,
                ["input"] = new JsonObject { ["workflow"] = started.Workflow, ["definitionHash"] = started.DefinitionHash },
            },
            StepStarted step => new JsonObject
            {
                ["type"] = "STEP_STARTED", ["stepName"] = step.Path, ["idempotencyKey"] = step.IdempotencyKey, ["attempt"] = step.Attempt,
            },
            StepCompleted step => new JsonObject
            {
                ["type"] = "STEP_FINISHED", ["stepName"] = step.Path, ["durationMs"] = step.DurationMs,
                ["output"] = step.Output is null ? null : JsonNode.Parse(step.Output.Json),
            },
            WaitStarted wait => Custom(wait.IsApproval ? ApprovalRequested : SignalAwaited, new JsonObject
            {
                ["stepName"] = wait.Path,
                ["signals"] = new JsonArray(wait.Signals.Select(s => (JsonNode?)JsonValue.Create(s)).ToArray()),
                ["prompt"] = wait.Prompt,
                ["payload"] = DurableJson.Node(wait.PayloadJson),
                ["timeoutAt"] = wait.TimeoutAt,
            }),
            SignalReceived signal => Custom(SignalReceivedName, new JsonObject
            {
                ["name"] = signal.Name, ["signalId"] = signal.SignalId, ["payload"] = DurableJson.Node(signal.PayloadJson),
            }),
            WaitTimedOut timedOut => Custom(SignalTimedOut, new JsonObject { ["step"] = timedOut.Index, ["takesBranch"] = timedOut.TakesBranch }),
            TextMessageStarted text => new JsonObject
            {
                ["type"] = "TEXT_MESSAGE_START", ["messageId"] = text.MessageId, ["role"] = "assistant", ["stepName"] = text.Path,
            },
            TextMessageContent text => new JsonObject { ["type"] = "TEXT_MESSAGE_CONTENT", ["messageId"] = text.MessageId, ["delta"] = text.Delta },
            TextMessageEnded text => new JsonObject { ["type"] = "TEXT_MESSAGE_END", ["messageId"] = text.MessageId },
            RunSucceeded succeeded => new JsonObject
            {
                ["type"] = "RUN_FINISHED", ["threadId"] = threadId, ["runId"] = runId,
                ["result"] = succeeded.Output is null ? null : JsonNode.Parse(succeeded.Output.Json),
            },
            RunFailed failed => new JsonObject
            {
                ["type"] = "RUN_ERROR", ["message"] = $"{failed.PrimitivePath}: {failed.Message}", ["code"] = failed.ErrorType,
            },
            _ => Custom(@event.GetType().Name, null),
        };
        json["timestamp"] = @event.At.ToUnixTimeMilliseconds();
        return json;
    }

    /// <summary>
    /// The path of a span's step for its events: the workflow root span is the workflow's name, a primitive span adds its
    /// name to its parent's path, and any other span (a retry attempt, a model call) takes its parent's path, so the steps
    /// inside it keep the path of the step that holds them. Known at the span's start, before its attributes are set.
    /// </summary>
    public static string SpanPath(Activity span, string? parentPath)
    {
        var name = span.OperationName;
        if (name.StartsWith(TelemetryNames.Spans.PrimitivePrefix, StringComparison.Ordinal))
        {
            var step = name[TelemetryNames.Spans.PrimitivePrefix.Length..];
            return parentPath is null ? step : parentPath + "/" + step;
        }
        if (parentPath is null && name.StartsWith(TelemetryNames.Spans.WorkflowRunPrefix, StringComparison.Ordinal))
            return name[TelemetryNames.Spans.WorkflowRunPrefix.Length..];
        return parentPath ?? name;
    }

    /// <summary>
    /// The AG-UI event of an in-memory run's span starting (<paramref name="finished"/> false) or stopping, given the path of
    /// its parent span (null for the run's root; see <see cref="SpanPath"/>): the workflow root span
    /// is RUN_STARTED / RUN_FINISHED (RUN_ERROR when its status is an error), a primitive span STEP_STARTED / STEP_FINISHED
    /// with its path (see <see cref="SpanPath"/>), primitive type, status and duration; other spans make no event (null).
    /// A span's attributes are set just after it starts, so a start event carries what the span's name tells
    /// (the primitive type only when the attribute is already there); its stop event carries them all.
    /// </summary>
    public static JsonObject? FromSpan(Activity span, bool finished, string? parentPath, string runId, string threadId)
    {
        var name = span.OperationName;
        var path = SpanPath(span, parentPath);
        var error = span.Status == ActivityStatusCode.Error;
        JsonObject json;
        if (name.StartsWith(TelemetryNames.Spans.PrimitivePrefix, StringComparison.Ordinal))
        {
            json = new JsonObject { ["type"] = finished ? "STEP_FINISHED" : "STEP_STARTED", ["stepName"] = path };
            if (span.GetTagItem(TelemetryNames.Attributes.PrimitiveType) is string type) json["primitiveType"] = type;
            if (finished)
            {
                json["status"] = error ? TelemetryNames.Status.Error : TelemetryNames.Status.Success;
                json["durationMs"] = Math.Round(span.Duration.TotalMilliseconds, 3);
                if (error) json["error"] = span.StatusDescription;
            }
        }
        else if (parentPath is null && name.StartsWith(TelemetryNames.Spans.WorkflowRunPrefix, StringComparison.Ordinal))
        {
            var id = span.GetTagItem(TelemetryNames.Attributes.WorkflowRunId) as string ?? runId;
            json = !finished
                ? new JsonObject
                {
                    ["type"] = "RUN_STARTED", ["threadId"] = threadId, ["runId"] = id,
                    ["input"] = new JsonObject { ["workflow"] = path, ["traceId"] = span.TraceId.ToHexString() },
                }
                : error
                    ? new JsonObject { ["type"] = "RUN_ERROR", ["message"] = span.StatusDescription ?? "the run failed", ["runId"] = id }
                    : new JsonObject
                    {
                        ["type"] = "RUN_FINISHED", ["threadId"] = threadId, ["runId"] = id, ["durationMs"] = Math.Round(span.Duration.TotalMilliseconds, 3),
                    };
        }
        else return null;
        json["timestamp"] = (finished ? new DateTimeOffset(span.StartTimeUtc + span.Duration) : new DateTimeOffset(span.StartTimeUtc)).ToUnixTimeMilliseconds();
        return json;
    }

    private static JsonObject Custom(string name, JsonNode? value) => new() { ["type"] = "CUSTOM", ["name"] = name, ["value"] = value };
}
