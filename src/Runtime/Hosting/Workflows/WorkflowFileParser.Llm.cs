using System.Text.Json;
using System.Text.Json.Nodes;
using TtaActors.Actors.Llm;
using TtaActors.Actors.Llm.Prompts;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace TtaActors.Runtime.Workflows;

/// <summary>The parts of an <c>llm:</c> step beyond its template prompt: a Langfuse prompt, and the JSON schema of its output.</summary>
public sealed partial class WorkflowFileParser
{
    /// <summary>The most nodes an <c>output_schema:</c> may have; a schema is sent with every request, so it stays small.</summary>
    public const int MaxSchemaNodes = 2_000;

    /// <summary><c>prompt: {langfuse: NAME, label: L | version: N, fallback: "..."}</c>.</summary>
    private LangfusePromptReference? LangfusePromptOf(YamlNode node)
    {
        var keys = Keys(node, "a Langfuse prompt", ["langfuse", "label", "version", "fallback"]);
        if (keys is null) return null;
        if (!keys.TryGetValue("langfuse", out var nameNode))
            return Missing<LangfusePromptReference>(node, "A prompt given as a mapping takes its name from Langfuse: 'langfuse: NAME' (and label: or version:, fallback:).");
        var name = String(nameNode, "langfuse");
        var label = keys.TryGetValue("label", out var labelNode) ? String(labelNode, "label") : null;
        int? version = null;
        var ok = name is not null && (labelNode is null || label is not null);
        if (keys.TryGetValue("version", out var versionNode))
        {
            version = Int(versionNode, "version", 1, int.MaxValue);
            ok &= version is not null;
        }
        string? fallback = null;
        if (keys.TryGetValue("fallback", out var fallbackNode))
        {
            fallback = String(fallbackNode, "fallback");
            ok &= fallback is not null;
        }
        if (!ok) return null;
        if (LangfusePromptReference.Problem(name, label, version) is { } problem)
        {
            Problem(At(label is not null && version is not null ? versionNode! : labelNode ?? nameNode), problem);
            return null;
        }
        return new LangfusePromptReference(name!, label, version, fallback);
    }

    /// <summary><c>output_schema:</c> a JSON schema written as a YAML (or JSON) mapping, checked against the JSON Schema meta-schema now.</summary>
    private LlmOutputSchema? OutputSchemaOf(YamlNode node, string? stepName)
    {
        if (node is not YamlMappingNode)
            return Missing<LlmOutputSchema>(node, $"'output_schema' takes a JSON schema as a mapping (such as {{type: object, properties: ...}}); found {Describe(node)}.");
        var nodes = 0;
        var json = ToJson(node, ref nodes);
        if (nodes > MaxSchemaNodes)
            return Missing<LlmOutputSchema>(node, $"'output_schema' has more than {MaxSchemaNodes} nodes (MaxSchemaNodes); a schema goes with every request, keep it small.");
        if (json is null) return null;
        var element = JsonSerializer.SerializeToElement(json);
        if (LlmOutputSchema.ProblemOf(element) is { } problem)
        {
            Problem(At(Find(node, problem.Path)), $"'output_schema' is not a valid JSON schema {LlmOutputSchema.DescribePath(problem.Path)}: {problem.Problem}");
            return null;
        }
        var name = stepName is not null && System.Text.RegularExpressions.Regex.IsMatch(stepName, "^[A-Za-z0-9_-]{1,64}$") ? stepName : "output";
        return LlmOutputSchema.FromJson(element, name);
    }

    /// <summary>YAML as JSON: plain scalars that read as null, booleans or numbers become those, every other scalar a string.</summary>
    private JsonNode? ToJson(YamlNode node, ref int nodes)
    {
        nodes++;
        switch (node)
        {
            case YamlScalarNode scalar:
                if (scalar.Style == ScalarStyle.Plain && PlainLiteral(scalar.Value ?? "", out var literal)) return literal;
                return JsonValue.Create(scalar.Value ?? "");
            case YamlSequenceNode sequence:
                var array = new JsonArray();
                foreach (var item in sequence.Children) array.Add(ToJson(item, ref nodes));
                return array;
            case YamlMappingNode mapping:
                var obj = new JsonObject();
                foreach (var (keyNode, value) in mapping.Children)
                {
                    if (keyNode is not YamlScalarNode { Value: { } key })
                    {
                        Problem(At(keyNode), "A key of 'output_schema' is not a plain name.");
                        return null;
                    }
                    if (obj.ContainsKey(key))
                    {
                        Problem(At(keyNode), $"'output_schema' has the key '{key}' twice.");
                        return null;
                    }
                    obj[key] = ToJson(value, ref nodes);
                }
                return obj;
            default:
                return null;
        }
    }

    /// <summary>The YAML node a JSON pointer into the schema names, or the nearest one above it, for the problem's line and column.</summary>
    private static YamlNode Find(YamlNode root, string pointer)
    {
        var node = root;
        foreach (var raw in pointer.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            var segment = raw.Replace("~1", "/").Replace("~0", "~");
            YamlNode? next = node switch
            {
                YamlMappingNode mapping => mapping.Children.FirstOrDefault(c => (c.Key as YamlScalarNode)?.Value == segment).Value,
                YamlSequenceNode sequence when int.TryParse(segment, out var index) && index >= 0 && index < sequence.Children.Count => sequence.Children[index],
                _ => null,
            };
            if (next is null) break;
            node = next;
        }
        return node;
    }
}
