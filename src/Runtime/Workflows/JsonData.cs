using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace TtaActors.Runtime.Workflows;

/// <summary>
/// Conversions between what primitives pass along (any object; a Parallel yields an array of its branches'
/// outputs) and the JSON that file steps read and write.
/// </summary>
public static class JsonData
{
    public static JsonNode? ToNode(object? value) => value switch
    {
        null => null,
        JsonNode node => Clone(node),
        JsonElement element => JsonNode.Parse(element.GetRawText()),
        object?[] items => new JsonArray(items.Select(ToNode).ToArray()),
        _ => JsonSerializer.SerializeToNode(value, value.GetType()),
    };

    /// <summary>A node can have only one parent, so values reused in a new document are copied.</summary>
    public static JsonNode? Clone(JsonNode? node) => node?.DeepClone();

    /// <summary>Strings as they are, missing values as nothing, everything else as compact JSON.</summary>
    public static string ToText(JsonNode? node) => node switch
    {
        null => "",
        JsonValue value when value.TryGetValue<string>(out var text) => text,
        _ => node.ToJsonString(),
    };

    /// <summary>Any output as a JSON document for the API and the command line.</summary>
    public static string Serialize(object? value, bool indented = false)
    {
        var options = indented ? Indented : Compact;
        return ToNode(value)?.ToJsonString(options) ?? "null";
    }

    // Output is read by people and tools, not embedded in HTML, so quotes and non-ASCII letters stay as they are.
    private static readonly JsonSerializerOptions Compact = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
}
