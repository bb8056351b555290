using System.Text.Json;
using System.Text.Json.Nodes;

namespace TtaActors.Telemetry.Llm;

/// <summary>
/// The JSON shapes the latest GenAI conventions give content: a message is <c>{role, parts[], finish_reason?}</c>, a part
/// is <c>{type: text, content}</c>, <c>{type: tool_call, id, name, arguments}</c> or <c>{type: tool_call_response, id, response}</c>.
/// Every text handed in must already have passed the capture policy; this only shapes it.
/// </summary>
public static class GenAiMessageJson
{
    /// <summary>A text part.</summary>
    public static JsonObject Text(string? content) => new() { ["type"] = "text", ["content"] = content };

    /// <summary>A tool call; <paramref name="arguments"/> is kept as JSON when it still parses after redaction, else as text.</summary>
    public static JsonObject ToolCall(string? id, string name, string? arguments) => new()
    {
        ["type"] = "tool_call",
        ["id"] = id,
        ["name"] = name,
        ["arguments"] = JsonOrText(arguments),
    };

    /// <summary>The result of a tool call, answering the call with id <paramref name="id"/>.</summary>
    public static JsonObject ToolCallResponse(string? id, string? response) => new()
    {
        ["type"] = "tool_call_response",
        ["id"] = id,
        ["response"] = response,
    };

    /// <summary>A message of <paramref name="role"/> (<c>system</c>, <c>user</c>, <c>assistant</c>, <c>tool</c>) made of <paramref name="parts"/>.</summary>
    public static JsonObject Message(string role, JsonArray parts, string? finishReason = null)
    {
        var message = new JsonObject { ["role"] = role, ["parts"] = parts };
        if (finishReason is not null) message["finish_reason"] = finishReason;
        return message;
    }

    /// <summary>A completion that is only text, as the conventions' output messages.</summary>
    public static string TextOutput(string? text, string? finishReason) =>
        new JsonArray(Message("assistant", [Text(text)], FinishReason(finishReason))).ToJsonString();

    /// <summary>
    /// The conventions' finish reason for a provider's or Microsoft.Extensions.AI's (<c>tool_calls</c> becomes <c>tool_call</c>);
    /// a reason the conventions do not list is kept as it came, a missing one is <c>stop</c>.
    /// </summary>
    public static string FinishReason(string? reason) => reason switch
    {
        null or "" => "stop",
        "tool_calls" or "tool_use" or "function_call" => "tool_call",
        "end_turn" or "stop_sequence" => "stop",
        "max_tokens" => "length",
        _ => reason,
    };

    private static JsonNode? JsonOrText(string? text)
    {
        if (text is null) return null;
        try
        {
            return JsonNode.Parse(text);
        }
        catch (JsonException)
        {
            // Truncation by the capture policy can cut the JSON; the text is still worth showing.
            return JsonValue.Create(text);
        }
    }
}
