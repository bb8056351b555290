using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Json.Schema;
using Microsoft.Extensions.AI;

namespace TtaActors.Actors.Llm;

/// <summary>The model's answer did not match the step's output schema, after every re-ask; names where and why.</summary>
public sealed class LlmOutputException(string message, string path, string problem) : Exception(message)
{
    /// <summary>Where in the answer the first problem is, as a JSON pointer (empty for the whole answer).</summary>
    public string Path { get; } = path;

    /// <summary>What is wrong there, in words.</summary>
    public string Problem { get; } = problem;
}

/// <summary>
/// The JSON an LLM step must answer with. The request asks the provider for it (OpenAI: <c>response_format</c> of type
/// <c>json_schema</c>); the answer is parsed and checked against the schema, and the parsed JSON is the step's output.
/// </summary>
public sealed partial class LlmOutputSchema
{
    private readonly JsonSchema _validator;

    private LlmOutputSchema(JsonElement schema, string name, string? description, JsonSchema validator)
    {
        Schema = schema;
        Name = name;
        Description = description;
        _validator = validator;
        ResponseFormat = ChatResponseFormat.ForJsonSchema(schema, name, description);
    }

    /// <summary>The JSON schema the answer must match.</summary>
    public JsonElement Schema { get; }

    /// <summary>The schema's name in the request (OpenAI requires 1 to 64 letters, digits, '_' or '-').</summary>
    public string Name { get; }

    /// <summary>What the schema is for, sent to the provider with it; null sends none.</summary>
    public string? Description { get; }

    internal ChatResponseFormat ResponseFormat { get; }

    /// <summary>The schema of <typeparamref name="T"/>, as Microsoft.Extensions.AI describes types to models.</summary>
    public static LlmOutputSchema For<T>(string? name = null, string? description = null, JsonSerializerOptions? serializerOptions = null) =>
        FromJson(AIJsonUtilities.CreateJsonSchema(typeof(T), description, serializerOptions: serializerOptions ?? AIJsonUtilities.DefaultOptions),
            name ?? SafeName(typeof(T).Name), description);

    /// <summary>A schema written as JSON; one that is not a valid JSON schema throws saying where and why.</summary>
    public static LlmOutputSchema FromJson(JsonElement schema, string name = "output", string? description = null)
    {
        if (!ValidName().IsMatch(name ?? ""))
            throw new ArgumentException($"The output schema's name '{name}' must be 1 to 64 letters, digits, '_' or '-'.", nameof(name));
        var (validator, problem) = Build(schema);
        if (validator is null) throw new ArgumentException($"The output schema is not a valid JSON schema {DescribePath(problem!.Value.Path)}: {problem.Value.Problem}", nameof(schema));
        return new LlmOutputSchema(schema.Clone(), name!, description, validator);
    }

    /// <summary>What makes <paramref name="schema"/> no valid JSON schema (the place in it as a JSON pointer, and why), or null.</summary>
    public static (string Path, string Problem)? ProblemOf(JsonElement schema) => Build(schema).Problem;

    private static (JsonSchema? Validator, (string Path, string Problem)? Problem) Build(JsonElement schema)
    {
        if (schema.ValueKind is not (JsonValueKind.Object or JsonValueKind.True or JsonValueKind.False))
            return (null, ("", "a schema is a JSON object (or true or false)"));
        // The meta-schema catches what building alone lets through, such as "type": "strnig" or "required": "x".
        var meta = MetaSchemas.Draft202012.Evaluate(schema, new EvaluationOptions { OutputFormat = OutputFormat.Hierarchical });
        if (!meta.IsValid) return (null, First(meta));
        try
        {
            // A registry of its own: schemas with the same $id in two steps must not meet in the global one.
            return (JsonSchema.Build(schema, new BuildOptions { SchemaRegistry = new SchemaRegistry() }), null);
        }
        catch (Exception error) when (error is JsonSchemaException or JsonException or ArgumentException or InvalidOperationException or UriFormatException)
        {
            return (null, ("", error.Message));
        }
    }

    /// <summary>The answer parsed and checked: its JSON, or where and why it does not match.</summary>
    internal (JsonNode? Json, string Path, string? Problem) Check(string answer)
    {
        var text = Unfenced(answer);
        JsonElement element;
        try
        {
            using var document = JsonDocument.Parse(text, new JsonDocumentOptions { MaxDepth = 64 });
            element = document.RootElement.Clone();
        }
        catch (JsonException error)
        {
            return (null, "", $"the answer is not JSON ({error.Message})");
        }
        var result = _validator.Evaluate(element, new EvaluationOptions { OutputFormat = OutputFormat.Hierarchical });
        if (!result.IsValid)
        {
            var (path, problem) = First(result);
            return (null, path, problem);
        }
        return (JsonNode.Parse(element.GetRawText(), documentOptions: new JsonDocumentOptions { MaxDepth = 64 }), "", null);
    }

    /// <summary>The message that asks the model again, with what was wrong.</summary>
    internal static string FollowUp(string path, string problem) =>
        $"Your answer does not match the required JSON schema: {DescribePath(path)}: {problem}. Answer again with only the JSON, matching the schema.";

    /// <summary>How messages name a place in a JSON document: <c>at /a/0</c>, or <c>at the root</c>.</summary>
    public static string DescribePath(string path) => path.Length == 0 ? "at the root" : "at " + path;

    /// <summary>
    /// The deepest failing node along a path of failures. A flat list would also hold the errors of branches that failed
    /// inside an <c>anyOf</c> that passed, so the walk follows only nodes that failed themselves.
    /// </summary>
    private static (string Path, string Problem) First(EvaluationResults results)
    {
        foreach (var detail in (IEnumerable<EvaluationResults>?)results.Details ?? [])
        {
            if (!detail.IsValid) return First(detail);
        }
        if (results.Errors is { Count: > 0 } errors) return (results.InstanceLocation.ToString(), string.Join("; ", errors.Values));
        return (results.InstanceLocation.ToString(), "the value does not match the schema");
    }

    /// <summary>An answer in a Markdown code fence (some models add one even when asked for JSON) without the fence.</summary>
    private static string Unfenced(string answer)
    {
        var text = answer.Trim();
        if (!text.StartsWith("```", StringComparison.Ordinal) || !text.EndsWith("```", StringComparison.Ordinal) || text.Length < 6) return text;
        var firstLine = text.IndexOf('\n');
        return firstLine < 0 ? text : text[(firstLine + 1)..^3].Trim();
    }

    private static string SafeName(string typeName)
    {
        var name = NameUnsafe().Replace(typeName, "_");
        return name.Length > 64 ? name[..64] : name;
    }

    [GeneratedRegex("^[A-Za-z0-9_-]{1,64}$", RegexOptions.CultureInvariant)]
    private static partial Regex ValidName();

    [GeneratedRegex("[^A-Za-z0-9_-]", RegexOptions.CultureInvariant)]
    private static partial Regex NameUnsafe();
}
