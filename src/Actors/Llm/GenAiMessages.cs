using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;
using TtaActors.Telemetry.Llm;

namespace TtaActors.Actors.Llm;

/// <summary>
/// A conversation in the latest GenAI conventions' shapes (<see cref="GenAiMessageJson"/>): system messages become
/// <c>gen_ai.system_instructions</c>, the rest <c>gen_ai.input.messages</c>, a response <c>gen_ai.output.messages</c>.
/// Every text, argument and result passes the capture policy first; with capture off there is nothing.
/// </summary>
internal static class GenAiMessages
{
    public static (string? Input, string? SystemInstructions) Input(IReadOnlyList<ChatMessage> messages, CapturePolicy capture)
    {
        if (!capture.Enabled) return (null, null);
        var input = new JsonArray();
        var system = new JsonArray();
        foreach (var message in messages)
        {
            var parts = Parts(message, capture);
            if (message.Role == ChatRole.System)
            {
                foreach (var part in parts.ToList())
                {
                    parts.Remove(part);
                    system.Add(part);
                }
            }
            else input.Add(GenAiMessageJson.Message(message.Role.Value, parts));
        }
        return (input.ToJsonString(), system.Count == 0 ? null : system.ToJsonString());
    }

    public static string? Output(ChatResponse response, CapturePolicy capture)
    {
        if (!capture.Enabled) return null;
        var finish = GenAiMessageJson.FinishReason(response.FinishReason?.Value);
        var output = new JsonArray();
        foreach (var message in response.Messages) output.Add(GenAiMessageJson.Message(message.Role.Value, Parts(message, capture), finish));
        return output.ToJsonString();
    }

    private static JsonArray Parts(ChatMessage message, CapturePolicy capture)
    {
        var parts = new JsonArray();
        foreach (var content in message.Contents)
        {
            switch (content)
            {
                case TextContent text:
                    parts.Add(GenAiMessageJson.Text(capture.Apply(text.Text)));
                    break;
                case FunctionCallContent call:
                    var arguments = call.Arguments is null ? "{}" : JsonSerializer.Serialize(call.Arguments, AIJsonUtilities.DefaultOptions);
                    parts.Add(GenAiMessageJson.ToolCall(call.CallId, call.Name, capture.Apply(arguments)));
                    break;
                case FunctionResultContent result:
                    parts.Add(GenAiMessageJson.ToolCallResponse(result.CallId, capture.Apply(LlmCallClient.ResultText(result.Result))));
                    break;
            }
        }
        return parts;
    }
}
