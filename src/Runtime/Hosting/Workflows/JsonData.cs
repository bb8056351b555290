using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;

namespace TtaActors.Runtime.Workflows;

/// <summary>
/// Conversions between what primitives pass along (any object; a Parallel yields an array of its branches'
/// outputs) and the JSON that file steps read and write.
/// </summary>
public static class JsonData
{
    /// <summary>
    /// How deeply a run's output may nest (objects and arrays) to be reported by <c>tta run</c> and the node API. The
    /// .NET default of 64 is easily passed by a workflow that wraps a deep input a few times; beyond this bound the run
    /// fails with <see cref="RunOutputException"/> instead of answering with something that cannot be written.
    /// </summary>
    public const int MaxOutputDepth = 256;

    /// <summary>A step's output as JSON: JSON nodes as they are, other values serialised.</summary>
    public static JsonNode? ToNode(object? value) => value switch
    {
        null => null,
        JsonNode node => Clone(node),
        JsonElement element => JsonNode.Parse(element.GetRawText()),
        object?[] items => new JsonArray(items.Select(ToNode).ToArray()),
        _ => JsonSerializer.SerializeToNode(value, value.GetType(), Compact),
    };

    /// <summary>
    /// A run's output as JSON, for both <c>tta run</c> and the node: written once with the depth bound (the writer stops
    /// at the bound, so even a value nested thousands deep costs no deeper recursion) and read back as a new document.
    /// Throws <see cref="RunOutputException"/> when the output cannot be JSON: too deep, a cycle, or a type JSON cannot hold.
    /// </summary>
    public static JsonNode? ToOutput(object? output)
    {
        if (output is null) return null;
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        try
        {
            using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { MaxDepth = MaxOutputDepth, Encoder = Compact.Encoder }))
            {
                switch (output)
                {
                    case JsonNode node:
                        node.WriteTo(writer, Compact);
                        break;
                    case object?[] items:
                        // A Parallel's result: each branch's output, written in order.
                        writer.WriteStartArray();
                        foreach (var item in items) WriteItem(writer, item);
                        writer.WriteEndArray();
                        break;
                    default:
                        JsonSerializer.Serialize(writer, output, output.GetType(), Compact);
                        break;
                }
            }
            return JsonNode.Parse(buffer.WrittenSpan, documentOptions: new JsonDocumentOptions { MaxDepth = MaxOutputDepth });
        }
        catch (Exception error) when (error is JsonException or InvalidOperationException or NotSupportedException)
        {
            throw new RunOutputException(output.GetType(), error);
        }
    }

    private static void WriteItem(Utf8JsonWriter writer, object? item)
    {
        switch (item)
        {
            case null:
                writer.WriteNullValue();
                break;
            case JsonNode node:
                node.WriteTo(writer, Compact);
                break;
            case object?[] items:
                writer.WriteStartArray();
                foreach (var inner in items) WriteItem(writer, inner);
                writer.WriteEndArray();
                break;
            default:
                JsonSerializer.Serialize(writer, item, item.GetType(), Compact);
                break;
        }
    }

    /// <summary>A node can have only one parent, so values reused in a new document are copied.</summary>
    public static JsonNode? Clone(JsonNode? node) => node?.DeepClone();

    /// <summary>Strings as they are, missing values as nothing, everything else as compact JSON.</summary>
    public static string ToText(JsonNode? node) => node switch
    {
        null => "",
        JsonValue value when value.TryGetValue<string>(out var text) => text,
        _ => node.ToJsonString(),
    };

    /// <summary>Any output as a JSON document for the API and the command line; see <see cref="ToOutput"/>.</summary>
    public static string Serialize(object? value, bool indented = false) =>
        ToOutput(value)?.ToJsonString(indented ? Indented : Compact) ?? "null";

    /// <summary>
    /// For documents that carry a run's output (the node's run answers): the output's bound plus room for the
    /// envelope around it.
    /// </summary>
    /// <remarks>
    /// Complete and frozen before the first request: ASP.NET's <c>Results.Json</c> fills in a missing type resolver on
    /// options it is given, and two first requests at once then race, one failing with "read-only" (a 500).
    /// </remarks>
    public static readonly JsonSerializerOptions OutputDocument = Frozen(new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        MaxDepth = MaxOutputDepth + 8,
    });

    private static JsonSerializerOptions Frozen(JsonSerializerOptions options)
    {
        options.TypeInfoResolver = new DefaultJsonTypeInfoResolver();
        options.MakeReadOnly();
        return options;
    }

    // Output is read by people and tools, not embedded in HTML, so quotes and non-ASCII letters stay as they are.
    private static readonly JsonSerializerOptions Compact = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, MaxDepth = MaxOutputDepth };
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, MaxDepth = MaxOutputDepth };
}

/// <summary>A run produced an output that cannot be reported as JSON; the run fails with this error.</summary>
public sealed class RunOutputException(Type outputType, Exception inner)
    : Exception($"The run's output ({outputType.Name}) cannot be written as JSON: {inner.Message} " +
                $"Outputs may nest at most {JsonData.MaxOutputDepth} levels of objects and arrays and must not refer to themselves; " +
                "return a flatter value from the last step.", inner);
