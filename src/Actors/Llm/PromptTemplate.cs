using System.Text;
using TtaActors.Actors.Context;

namespace TtaActors.Actors.Llm;

/// <summary>
/// A prompt with placeholders filled from the step's input and the run's context: <c>{input}</c>, <c>{persona}</c>,
/// <c>{chatmode}</c>, <c>{workspace}</c>, <c>{session}</c>, <c>{workflow}</c>, <c>{state.KEY}</c>,
/// <c>{metadata.KEY}</c>; <c>{{</c> and <c>}}</c> stand for braces. Parsed once, when the step is built.
/// </summary>
public sealed class PromptTemplate
{
    private static readonly HashSet<string> Names = ["input", "persona", "chatmode", "workspace", "session", "workflow"];
    private readonly List<(bool IsPlaceholder, string Text)> _parts;

    /// <summary>Parses <paramref name="template"/> once.</summary>
    /// <exception cref="FormatException">The template has an unknown placeholder or an unmatched brace (the message gives the position).</exception>
    public PromptTemplate(string template)
    {
        Text = template ?? throw new ArgumentNullException(nameof(template));
        _parts = Parse(template);
    }

    /// <summary>The template as given.</summary>
    public string Text { get; }

    /// <summary>The prompt for <paramref name="input"/> in <paramref name="context"/>, every placeholder filled in.</summary>
    /// <exception cref="KeyNotFoundException">A <c>{state.KEY}</c> or <c>{metadata.KEY}</c> placeholder names a key the context does not have.</exception>
    public string Render(object? input, WorkflowContext context)
    {
        var text = new StringBuilder(Text.Length + 64);
        foreach (var (isPlaceholder, part) in _parts)
        {
            if (!isPlaceholder)
            {
                text.Append(part);
                continue;
            }
            text.Append(Resolve(part, input, context));
        }
        return text.ToString();
    }

    /// <summary>The template as given.</summary>
    public override string ToString() => Text;

    /// <summary>Whether <paramref name="name"/> is one of the placeholders this syntax knows (also used by Langfuse prompts' variables).</summary>
    internal static bool IsKnown(string name) => Names.Contains(name) || IsKeyed(name, "state.") || IsKeyed(name, "metadata.");

    /// <summary>The value of a known placeholder; a missing state or metadata key throws naming it.</summary>
    internal static string Resolve(string name, object? input, WorkflowContext context) => name switch
    {
        "input" => input?.ToString() ?? "",
        "persona" => context.Persona ?? "",
        "chatmode" => context.ChatMode ?? "",
        "workspace" => context.Workspace ?? "",
        "session" => context.SessionId ?? "",
        "workflow" => context.WorkflowId,
        _ when name.StartsWith("state.", StringComparison.Ordinal) =>
            context.State.TryGetValue(name[6..], out var value) ? value?.ToString() ?? ""
            : throw new KeyNotFoundException($"Prompt placeholder {{{name}}}: the run's state has no key '{name[6..]}'."),
        _ => context.Metadata.TryGetValue(name[9..], out var meta) ? meta
            : throw new KeyNotFoundException($"Prompt placeholder {{{name}}}: the run's metadata has no key '{name[9..]}'."),
    };

    private static List<(bool, string)> Parse(string template)
    {
        var parts = new List<(bool, string)>();
        var literal = new StringBuilder();
        for (var i = 0; i < template.Length; i++)
        {
            var c = template[i];
            if ((c == '{' || c == '}') && i + 1 < template.Length && template[i + 1] == c)
            {
                literal.Append(c);
                i++;
                continue;
            }
            if (c == '}') throw new FormatException($"Prompt template has a '}}' without its '{{' at position {i}: use '}}}}' for a brace.");
            if (c != '{')
            {
                literal.Append(c);
                continue;
            }
            var end = template.IndexOf('}', i + 1);
            if (end < 0) throw new FormatException($"Prompt template has a '{{' without its '}}' at position {i}: use '{{{{' for a brace.");
            var name = template[(i + 1)..end].Trim();
            if (!IsKnown(name))
                throw new FormatException(
                    $"Prompt template placeholder {{{name}}} at position {i} is unknown: use {string.Join(", ", Names.Select(n => "{" + n + "}"))}, {{state.KEY}} or {{metadata.KEY}}.");
            if (literal.Length > 0) parts.Add((false, literal.ToString()));
            literal.Clear();
            parts.Add((true, name));
            i = end;
        }
        if (literal.Length > 0) parts.Add((false, literal.ToString()));
        return parts;
    }

    private static bool IsKeyed(string name, string prefix) => name.StartsWith(prefix, StringComparison.Ordinal) && name.Length > prefix.Length;
}
