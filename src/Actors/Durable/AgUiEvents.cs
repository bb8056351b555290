using System.Text.Json.Nodes;
using static TtaActors.Actors.Durable.DurableRunEvents;

namespace TtaActors.Actors.Durable;

/// <summary>
/// A durable run's journal as AG-UI events (https://docs.ag-ui.com): RUN_STARTED, STEP_STARTED, STEP_FINISHED,
/// RUN_FINISHED, RUN_ERROR, and CUSTOM for waits and signals (<c>approval_requested</c>, <c>signal_awaited</c>,
/// <c>signal_received</c>, <c>signal_timed_out</c>). One journal event is one stream event; its id is the sequence number.
/// </summary>
public static class AgUiEvents
{
    public const string ApprovalRequested = "approval_requested";
    public const string SignalAwaited = "signal_awaited";
    public const string SignalReceivedName = "signal_received";
    public const string SignalTimedOut = "signal_timed_out";

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

    private static JsonObject Custom(string name, JsonNode? value) => new() { ["type"] = "CUSTOM", ["name"] = name, ["value"] = value };
}
