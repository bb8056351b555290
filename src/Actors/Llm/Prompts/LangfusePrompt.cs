using System.Collections;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Extensions.AI;
using TtaActors.Actors.Context;

namespace TtaActors.Actors.Llm.Prompts;

/// <summary>
/// Which prompt of Langfuse's prompt management an LLM step uses: a name with a label (default <c>production</c>, as
/// Langfuse serves) or a version, and the text to use when Langfuse cannot be reached. Checked when it is made.
/// </summary>
public sealed partial record LangfusePromptReference
{
    /// <summary>The label asked for when neither label nor version is given (what Langfuse serves by default).</summary>
    public const string DefaultLabel = "production";
    /// <summary>The longest prompt name.</summary>
    public const int MaxNameLength = 200;
    /// <summary>The longest label.</summary>
    public const int MaxLabelLength = 64;

    /// <param name="name">The prompt's name in Langfuse.</param>
    /// <param name="label">The label to fetch; <see cref="DefaultLabel"/> when neither it nor a version is given.</param>
    /// <param name="version">A fixed version to fetch instead of a label.</param>
    /// <param name="fallback">The text used when Langfuse cannot be reached and nothing is cached.</param>
    /// <exception cref="ArgumentException">A value is malformed, or both label and version are given (see <see cref="Problem"/>).</exception>
    public LangfusePromptReference(string name, string? label = null, int? version = null, string? fallback = null)
    {
        if (Problem(name, label, version) is { } problem) throw new ArgumentException(problem, nameof(name));
        Name = name;
        Label = version is null ? label ?? DefaultLabel : null;
        Version = version;
        Fallback = fallback;
    }

    /// <summary>The prompt's name in Langfuse.</summary>
    public string Name { get; }

    /// <summary>The label asked for; null when a version is.</summary>
    public string? Label { get; }

    /// <summary>The version asked for; null when a label is.</summary>
    public int? Version { get; }

    /// <summary>
    /// A text prompt (same <c>{{variable}}</c> placeholders) used when Langfuse is unreachable (connection error, timeout,
    /// 5xx) and nothing is cached; never when Langfuse answers that the prompt or label does not exist.
    /// </summary>
    public string? Fallback { get; }

    /// <summary>How errors name it: <c>'name' label 'production'</c> or <c>'name' version 3</c>.</summary>
    public override string ToString() => Version is { } v ? $"'{Name}' version {v}" : $"'{Name}' label '{Label}'";

    /// <summary>What is wrong with these values, or null; shared with the workflow file parser.</summary>
    public static string? Problem(string? name, string? label, int? version)
    {
        if (string.IsNullOrWhiteSpace(name)) return "A Langfuse prompt needs a name.";
        if (name.Length > MaxNameLength) return $"The Langfuse prompt name is {name.Length} characters long; the most is {MaxNameLength}.";
        if (name.Any(char.IsControl)) return "The Langfuse prompt name holds a control character.";
        if (label is not null && version is not null) return "A Langfuse prompt takes a label or a version, not both.";
        if (version is < 1) return $"A Langfuse prompt version is 1 or more; found {version}.";
        if (label is not null && !ValidLabel().IsMatch(label))
            return $"The Langfuse label '{Bounded(label)}' must be 1 to {MaxLabelLength} lowercase letters, digits, '_', '-' or '.'.";
        return null;
    }

    private static string Bounded(string text) => text.Length <= 40 ? text : text[..40] + "...";

    [GeneratedRegex("^[a-z0-9_.-]{1,64}$", RegexOptions.CultureInvariant)]
    private static partial Regex ValidLabel();
}

/// <summary>The kinds of prompt Langfuse stores.</summary>
public enum LangfusePromptType
{
    /// <summary>One text with placeholders.</summary>
    Text,

    /// <summary>A list of role messages, each with placeholders.</summary>
    Chat,
}

/// <summary>One message of a chat prompt.</summary>
public sealed record LangfusePromptMessage(string Role, string Content);

/// <summary>A prompt as Langfuse serves it (or the reference's fallback, which has no version).</summary>
public sealed partial record LangfusePrompt(string Name, int? Version, LangfusePromptType Type, string? Text, IReadOnlyList<LangfusePromptMessage> Messages,
    IReadOnlyList<string> Labels)
{
    /// <summary>The prompt's <c>config</c> object (model parameters and the like) as Langfuse stores it; null when it has none.</summary>
    public JsonElement? Config { get; init; }

    /// <summary>True for the reference's fallback text: the generation is then not linked to a Langfuse prompt version.</summary>
    public bool IsFallback { get; init; }

    internal static LangfusePrompt FromFallback(LangfusePromptReference reference) =>
        new(reference.Name, null, LangfusePromptType.Text, reference.Fallback, [], []) { IsFallback = true };

    /// <summary>
    /// The messages sent for <paramref name="input"/>: a text prompt is one user message, a chat prompt its messages.
    /// <c>{{name}}</c> takes a field of the input when it is a JSON object or a dictionary, else one of the step
    /// template's names (<c>input</c>, <c>persona</c>, <c>session</c>, <c>state.KEY</c>, <c>metadata.KEY</c>, ...); a
    /// variable neither has fails the step naming it, rather than sending the braces to the model.
    /// </summary>
    public List<ChatMessage> Render(object? input, WorkflowContext context)
    {
        if (Type == LangfusePromptType.Text) return [new ChatMessage(ChatRole.User, Fill(Text ?? "", input, context))];
        return Messages.Select(m => new ChatMessage(new ChatRole(m.Role), Fill(m.Content, input, context))).ToList();
    }

    private string Fill(string text, object? input, WorkflowContext context) =>
        Variable().Replace(text, match => Value(match.Groups[1].Value, input, context));

    private string Value(string name, object? input, WorkflowContext context)
    {
        switch (input)
        {
            case JsonObject json when json.TryGetPropertyValue(name, out var field):
                return field is JsonValue value && value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : field?.ToJsonString() ?? "";
            case JsonElement { ValueKind: JsonValueKind.Object } element when element.TryGetProperty(name, out var property):
                return property.ValueKind == JsonValueKind.String ? property.GetString()! : property.GetRawText();
            case IReadOnlyDictionary<string, string> strings when strings.TryGetValue(name, out var text):
                return text;
            case IReadOnlyDictionary<string, object?> objects when objects.TryGetValue(name, out var item):
                return Convert.ToString(item, CultureInfo.InvariantCulture) ?? "";
            case IDictionary dictionary when dictionary.Contains(name):
                return Convert.ToString(dictionary[name], CultureInfo.InvariantCulture) ?? "";
        }
        if (name == "input" && input is JsonNode node) return node is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : node.ToJsonString();
        if (PromptTemplate.IsKnown(name))
        {
            try
            {
                return PromptTemplate.Resolve(name, input, context);
            }
            catch (KeyNotFoundException error)
            {
                throw new LangfusePromptException($"Langfuse prompt {Describe()} uses {{{{{name}}}}}: {error.Message}");
            }
        }
        throw new LangfusePromptException(
            $"Langfuse prompt {Describe()} uses {{{{{name}}}}}, which is neither a field of the step's input nor one of input, persona, chatmode, " +
            "workspace, session, workflow, state.KEY, metadata.KEY.");
    }

    private string Describe() => IsFallback ? $"'{Name}' (its fallback)" : $"'{Name}' version {Version}";

    /// <summary>Langfuse's own variable syntax: a word between double braces, spaces allowed around it.</summary>
    [GeneratedRegex(@"\{\{\s*([A-Za-z_][A-Za-z0-9_.\-]*)\s*\}\}", RegexOptions.CultureInvariant)]
    private static partial Regex Variable();

    /// <summary>Reads Langfuse's answer to <c>GET /api/public/v2/prompts/{name}</c>; anything not of its shape throws saying what.</summary>
    internal static LangfusePrompt Parse(ReadOnlySpan<byte> body, LangfusePromptReference reference)
    {
        JsonElement root;
        try
        {
            using var document = JsonDocument.Parse(body.ToArray(), new JsonDocumentOptions { MaxDepth = 32 });
            root = document.RootElement.Clone();
        }
        catch (JsonException error)
        {
            throw Bad(reference, $"the body is not JSON ({error.Message})");
        }
        if (root.ValueKind != JsonValueKind.Object) throw Bad(reference, "the body is not a JSON object");
        var type = root.TryGetProperty("type", out var t) ? t.ValueKind == JsonValueKind.String ? t.GetString() : null : "text";
        var version = root.TryGetProperty("version", out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var number) ? number
            : throw Bad(reference, "it has no integer 'version'");
        var labels = root.TryGetProperty("labels", out var l) && l.ValueKind == JsonValueKind.Array
            ? l.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.String).Select(e => e.GetString()!).ToList()
            : [];
        // Langfuse answers 404 for a label no version carries; should anything in between answer with another version,
        // the step must not quietly run a prompt it did not ask for.
        if (reference.Version is { } wanted && version != wanted) throw Bad(reference, $"it is version {version}");
        if (reference.Label is { } label && !labels.Contains(label)) throw Bad(reference, $"version {version} does not carry the label '{label}'");
        JsonElement? config = root.TryGetProperty("config", out var c) && c.ValueKind == JsonValueKind.Object ? c : null;
        if (!root.TryGetProperty("prompt", out var prompt)) throw Bad(reference, "it has no 'prompt'");
        switch (type)
        {
            case "text" when prompt.ValueKind == JsonValueKind.String:
                return new LangfusePrompt(reference.Name, version, LangfusePromptType.Text, prompt.GetString(), [], labels) { Config = config };
            case "chat" when prompt.ValueKind == JsonValueKind.Array:
                var messages = new List<LangfusePromptMessage>();
                foreach (var item in prompt.EnumerateArray())
                {
                    if (item.ValueKind != JsonValueKind.Object) throw Bad(reference, "a chat message is not an object");
                    if (item.TryGetProperty("type", out var kind) && kind.ValueKind == JsonValueKind.String && kind.GetString() == "placeholder")
                        throw Bad(reference, "it holds a message placeholder, which LLM steps do not fill; use {{variables}} in messages instead");
                    var role = item.TryGetProperty("role", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString()! : "";
                    if (role is not ("system" or "user" or "assistant" or "developer"))
                        throw Bad(reference, $"a chat message has the role '{(role.Length > 20 ? role[..20] : role)}' (system, user, assistant or developer)");
                    var content = item.TryGetProperty("content", out var text) && text.ValueKind == JsonValueKind.String ? text.GetString()!
                        : throw Bad(reference, "a chat message has no string 'content'");
                    messages.Add(new LangfusePromptMessage(role, content));
                }
                if (messages.Count == 0) throw Bad(reference, "the chat prompt has no messages");
                return new LangfusePrompt(reference.Name, version, LangfusePromptType.Chat, null, messages, labels) { Config = config };
            default:
                throw Bad(reference, "it is neither a text prompt (type text, prompt a string) nor a chat prompt (type chat, prompt a list of messages)");
        }
    }

    private static LangfusePromptException Bad(LangfusePromptReference reference, string what) =>
        new($"Langfuse answered for prompt {reference} with something that is not a usable prompt: {what}.");
}

/// <summary>A prompt that Langfuse does not have, refused keys, or an answer that is no prompt: never replaced by the fallback.</summary>
public sealed class LangfusePromptException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>Langfuse could not be reached (connection, timeout, 5xx) and the reference has no fallback and nothing is cached.</summary>
public sealed class LangfusePromptUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
