using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using TtaActors.Telemetry.Llm;

namespace TtaActors.Actors.Execution;

/// <summary>
/// A run's input or output as its root span records it (<c>workflow.input</c> / <c>.output</c>, Langfuse's trace input and output):
/// text as it is, anything else as JSON, written once and then truncated and redacted by the capture policy.
/// </summary>
internal static class RunContent
{
    private static readonly JsonSerializerOptions Json = new() { MaxDepth = 64 };

    /// <summary>The recorded text, or null when capture is off or there is nothing to record.</summary>
    public static string? Render(object? value, CapturePolicy capture)
    {
        if (!capture.Enabled || value is null) return null;
        var text = value switch
        {
            string s => s,
            JsonValue json when json.GetValueKind() == JsonValueKind.String => json.GetValue<string>(),
            JsonNode node => node.ToJsonString(),
            JsonElement element => element.GetRawText(),
            IFormattable formattable when value.GetType().IsPrimitive || value is decimal => formattable.ToString(null, CultureInfo.InvariantCulture),
            _ => Serialize(value),
        };
        return capture.Apply(text);
    }

    /// <summary>User values may be anything; one JSON cannot hold (a cycle, a pointer) is recorded by its type name, never fails the run.</summary>
    private static string Serialize(object value)
    {
        try
        {
            return JsonSerializer.Serialize(value, value.GetType(), Json);
        }
        catch (Exception error) when (error is JsonException or NotSupportedException or InvalidOperationException or ArgumentException)
        {
            return $"({value.GetType().Name}: not representable as JSON)";
        }
    }
}
