using System.Text.Json;
using System.Text.Json.Nodes;
using TtaActors.Actors.Context;
using TtaActors.Actors.Serialization;

namespace TtaActors.Actors.Durable;

/// <summary>How durable runs write values and contexts into the journal, and read them back on another node.</summary>
public static class DurableJson
{
    /// <summary>A value as JSON with its type name (<c>Namespace.Type, Assembly</c>); throws when the value is not JSON-writable.</summary>
    public static TypedJson? From(object? value)
    {
        if (value is null) return null;
        var type = value.GetType();
        try
        {
            return new TypedJson($"{type.FullName}, {type.Assembly.GetName().Name}", JsonSerializer.Serialize(value, type, JsonManifestSerializer.Options));
        }
        catch (Exception error) when (error is NotSupportedException or JsonException or InvalidOperationException)
        {
            throw new NotSupportedException(
                $"A durable run journals each step's output as JSON, but a {type.Name} cannot be written as JSON ({error.Message}). " +
                "Return JSON-friendly values (records, strings, numbers, JsonNode) from the steps of durable workflows.", error);
        }
    }

    /// <summary>The value back as its own type when this process has it, else as a <see cref="JsonNode"/>.</summary>
    public static object? Read(TypedJson? value)
    {
        if (value is null) return null;
        var type = Type.GetType(value.Type, throwOnError: false);
        if (type is null || typeof(JsonNode).IsAssignableFrom(type) || type == typeof(JsonElement)) return JsonNode.Parse(value.Json);
        return JsonSerializer.Deserialize(value.Json, type, JsonManifestSerializer.Options);
    }

    /// <summary>The journal form of a context; the step's idempotency key is left out (each step gets its own).</summary>
    public static string Context(WorkflowContext context) =>
        JsonSerializer.Serialize(context.Metadata.ContainsKey(DurableRunContext.IdempotencyKeyMetadata)
            ? context with { Metadata = context.Metadata.Remove(DurableRunContext.IdempotencyKeyMetadata) }
            : context, JsonManifestSerializer.Options);

    /// <summary>A context read back from its journal form.</summary>
    /// <exception cref="System.Text.Json.JsonException">The journal holds an empty or malformed context.</exception>
    public static WorkflowContext Context(string json) =>
        JsonSerializer.Deserialize<WorkflowContext>(json, JsonManifestSerializer.Options)
        ?? throw new JsonException("A durable run's journal holds an empty context.");

    /// <summary>The JSON of <paramref name="json"/>; null for null.</summary>
    public static JsonNode? Node(string? json) => json is null ? null : JsonNode.Parse(json);
}
