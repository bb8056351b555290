using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using TtaActors.Actors.Context;

namespace TtaActors.Runtime.Workflows;

/// <summary>What a template or a path is evaluated against: the step's input, the run's context, and (in HTTP headers only) the environment.</summary>
public sealed record TemplateScope(JsonNode? Input, WorkflowContext Context, Func<string, string?>? Environment = null);

/// <summary>A required environment variable is not set in the node's environment.</summary>
public sealed class MissingEnvironmentVariableException(string variable, string usedBy)
    : InvalidOperationException($"Environment variable '{variable}' is not set, but {usedBy} needs it. Set it in the node's environment (for systemd: the EnvironmentFile) and restart the node.")
{
    /// <summary>The variable that is not set.</summary>
    public string Variable { get; } = variable;
}

/// <summary>
/// A path into the data a step sees: <c>input.a.b[0]</c>, <c>context.persona</c>, <c>context.state.key</c>,
/// <c>env.NAME</c>. A router's <c>by:</c> may also use JSONPath form, where <c>$</c> is the input: <c>$.a.b[0]</c>.
/// </summary>
public sealed class ValuePath
{
    /// <summary>The root of paths into the step's input.</summary>
    public const string InputRoot = "input";
    /// <summary>The root of paths into the run's context.</summary>
    public const string ContextRoot = "context";
    /// <summary>The root of paths to environment variables (HTTP headers only).</summary>
    public const string EnvRoot = "env";

    /// <summary>The context fields a path can read; <c>state</c>, <c>tags</c>, <c>metadata</c> and <c>baggage</c> take a key after them.</summary>
    public static readonly IReadOnlyList<string> ContextFields =
        ["persona", "chatmode", "session_id", "workflow_id", "correlation_id", "workspace", "state", "tags", "metadata", "baggage"];

    private ValuePath(string text, string root, IReadOnlyList<object> segments)
    {
        Text = text;
        Root = root;
        Segments = segments;
    }

    /// <summary>The path as written.</summary>
    public string Text { get; }
    /// <summary><see cref="InputRoot"/>, <see cref="ContextRoot"/> or <see cref="EnvRoot"/>.</summary>
    public string Root { get; }

    /// <summary>Each segment is a property name (string) or an array index (int).</summary>
    public IReadOnlyList<object> Segments { get; }

    /// <summary>True for an <c>env.NAME</c> path.</summary>
    public bool UsesEnvironment => Root == EnvRoot;

    /// <summary>Parses a path.</summary>
    /// <exception cref="FormatException">The path is malformed; the message says where and gives an example.</exception>
    public static ValuePath Parse(string text)
    {
        var trimmed = text.Trim();
        if (trimmed.Length == 0) throw new FormatException("The path is empty; write for example input.name or context.persona.");
        var position = 0;
        string root;
        if (trimmed[0] == '$')
        {
            root = InputRoot;
            position = 1;
        }
        else
        {
            root = ReadName(trimmed, ref position);
            if (root is not (InputRoot or ContextRoot or EnvRoot))
                throw new FormatException($"'{trimmed}' starts with '{root}'; a path starts with input, context or env (or $ for the input).");
        }

        var segments = new List<object>();
        while (position < trimmed.Length)
        {
            var c = trimmed[position];
            if (c == '.')
            {
                position++;
                segments.Add(ReadName(trimmed, ref position));
            }
            else if (c == '[')
            {
                var close = trimmed.IndexOf(']', position);
                if (close < 0) throw new FormatException($"'{trimmed}' has a '[' without its ']'.");
                var inside = trimmed[(position + 1)..close].Trim();
                position = close + 1;
                if (inside.Length >= 2 && (inside[0] is '\'' or '"') && inside[^1] == inside[0]) segments.Add(inside[1..^1]);
                else if (int.TryParse(inside, NumberStyles.None, CultureInfo.InvariantCulture, out var index)) segments.Add(index);
                else throw new FormatException($"'{trimmed}': [{inside}] is neither an array index nor a quoted key.");
            }
            else
            {
                throw new FormatException($"'{trimmed}': unexpected '{c}' at position {position + 1}; use .name, [index] or ['key'].");
            }
        }

        if (root == ContextRoot)
        {
            if (segments.Count == 0 || segments[0] is not string field || !ContextFields.Contains(field))
                throw new FormatException($"'{trimmed}' names no context field; known fields: {string.Join(", ", ContextFields)}.");
            if (field is "state" or "tags" or "metadata" or "baggage" && (segments.Count < 2 || segments[1] is not string))
                throw new FormatException($"'{trimmed}': context.{field} needs a key after it, e.g. context.{field}.name.");
        }
        if (root == EnvRoot && (segments.Count != 1 || segments[0] is not string))
            throw new FormatException($"'{trimmed}': write env.VARIABLE_NAME.");
        return new ValuePath(trimmed, root, segments);
    }

    /// <summary>The value at this path, or null when any part of it is missing; environment variables must exist.</summary>
    public JsonNode? Resolve(TemplateScope scope, string usedBy)
    {
        switch (Root)
        {
            case EnvRoot:
            {
                var name = (string)Segments[0];
                var read = scope.Environment ?? throw new InvalidOperationException($"{usedBy} cannot read env.{name}: environment variables are only readable in http headers.");
                return JsonValue.Create(read(name) ?? throw new MissingEnvironmentVariableException(name, usedBy));
            }
            case ContextRoot:
                return Navigate(ContextValue(scope.Context, out var used), Segments.Skip(used));
            default:
                return Navigate(scope.Input, Segments);
        }
    }

    private JsonNode? ContextValue(WorkflowContext context, out int used)
    {
        used = 1;
        var field = (string)Segments[0];
        switch (field)
        {
            case "persona": return JsonValue.Create(context.Persona);
            case "chatmode": return JsonValue.Create(context.ChatMode);
            case "session_id": return JsonValue.Create(context.SessionId);
            case "workflow_id": return JsonValue.Create(context.WorkflowId);
            case "correlation_id": return JsonValue.Create(context.CorrelationId);
            case "workspace": return JsonValue.Create(context.Workspace);
        }
        used = 2;
        var key = (string)Segments[1];
        return field switch
        {
            "state" => context.State.TryGetValue(key, out var value) ? JsonData.ToNode(value) : null,
            "tags" => context.Tags.TryGetValue(key, out var tag) ? JsonValue.Create(tag) : null,
            "metadata" => context.Metadata.TryGetValue(key, out var meta) ? JsonValue.Create(meta) : null,
            _ => context.Baggage.TryGetValue(key, out var item) ? JsonValue.Create(item) : null,
        };
    }

    private static JsonNode? Navigate(JsonNode? node, IEnumerable<object> segments)
    {
        foreach (var segment in segments)
        {
            node = (segment, node) switch
            {
                (string name, JsonObject obj) => obj[name],
                (int index, JsonArray array) => index < array.Count ? array[index] : null,
                _ => null,
            };
            if (node is null) return null;
        }
        return node;
    }

    private static string ReadName(string text, ref int position)
    {
        var start = position;
        while (position < text.Length && (char.IsLetterOrDigit(text[position]) || text[position] is '_' or '-')) position++;
        if (position == start) throw new FormatException($"'{text}': expected a name at position {start + 1}.");
        return text[start..position];
    }

    /// <summary>The path as written.</summary>
    public override string ToString() => Text;
}

/// <summary>
/// One <c>{{ path }}</c> of a template. <see cref="Raw"/> (<c>{{ path | raw }}</c>, allowed only in an http step's
/// URL) inserts the value as URL text instead of percent-encoding it.
/// </summary>
public sealed record Placeholder(ValuePath Path, bool Raw);

/// <summary>
/// Text with <c>{{ path }}</c> placeholders, the one template syntax of workflow files. A template that is exactly
/// one placeholder yields the value itself (an object stays an object); otherwise values are written into the text
/// (strings as they are, other values as JSON, missing values as nothing).
/// </summary>
public sealed class Template
{
    /// <summary>The one filter: <c>| raw</c>.</summary>
    public const string RawFilter = "raw";

    private readonly IReadOnlyList<object> _parts;

    private Template(string source, IReadOnlyList<object> parts)
    {
        Source = source;
        _parts = parts;
    }

    /// <summary>The template as written.</summary>
    public string Source { get; }

    /// <summary>Literal text (string) and <see cref="Placeholder"/>s, in order.</summary>
    public IReadOnlyList<object> Parts => _parts;

    /// <summary>The paths of its placeholders.</summary>
    public IEnumerable<ValuePath> Paths => _parts.OfType<Placeholder>().Select(p => p.Path);

    /// <summary>True when a placeholder uses <c>| raw</c>.</summary>
    public bool HasRawPlaceholder => _parts.OfType<Placeholder>().Any(p => p.Raw);

    /// <summary>True when the template is exactly one placeholder, so it renders to the value itself.</summary>
    public bool IsSinglePath => _parts is [Placeholder];

    /// <summary>Parses <paramref name="source"/>.</summary>
    /// <exception cref="FormatException">A placeholder is unclosed, malformed, or uses an unknown filter.</exception>
    public static Template Parse(string source)
    {
        var parts = new List<object>();
        var position = 0;
        while (position < source.Length)
        {
            var open = source.IndexOf("{{", position, StringComparison.Ordinal);
            if (open < 0)
            {
                parts.Add(source[position..]);
                break;
            }
            if (open > position) parts.Add(source[position..open]);
            var close = source.IndexOf("}}", open + 2, StringComparison.Ordinal);
            if (close < 0) throw new FormatException($"'{{{{' at position {open + 1} has no closing '}}}}'.");
            parts.Add(ParsePlaceholder(source[(open + 2)..close]));
            position = close + 2;
        }
        return new Template(source, parts);
    }

    private static Placeholder ParsePlaceholder(string text)
    {
        var pipe = text.IndexOf('|');
        if (pipe < 0) return new Placeholder(ValuePath.Parse(text), false);
        var filter = text[(pipe + 1)..].Trim();
        if (filter != RawFilter)
            throw new FormatException($"'{text.Trim()}': unknown filter '{filter}'; the only filter is '| {RawFilter}' (in an http step's url).");
        return new Placeholder(ValuePath.Parse(text[..pipe]), true);
    }

    /// <summary>The value: the placeholder's value itself for a single-path template, else the rendered text. <paramref name="usedBy"/> names the step for errors (a missing environment variable).</summary>
    public JsonNode? RenderValue(TemplateScope scope, string usedBy) =>
        IsSinglePath ? JsonData.Clone(((Placeholder)_parts[0]).Path.Resolve(scope, usedBy)) : JsonValue.Create(RenderText(scope, usedBy));

    /// <summary>The rendered text. <paramref name="usedBy"/> names the step for errors (a missing environment variable).</summary>
    public string RenderText(TemplateScope scope, string usedBy) => RenderText(scope, usedBy, (_, value) => value);

    /// <summary>Renders the text, passing each placeholder's value through <paramref name="insert"/> (the URL encodes it).</summary>
    public string RenderText(TemplateScope scope, string usedBy, Func<Placeholder, string, string> insert)
    {
        if (_parts is [string only]) return only;
        var text = new StringBuilder();
        foreach (var part in _parts)
        {
            if (part is Placeholder placeholder) text.Append(insert(placeholder, JsonData.ToText(placeholder.Path.Resolve(scope, usedBy))));
            else text.Append((string)part);
        }
        return text.ToString();
    }

    /// <summary>The template as written.</summary>
    public override string ToString() => Source;
}

/// <summary>A JSON value whose strings are templates: the body of <c>set:</c> and of an HTTP request.</summary>
public abstract record JsonTemplate
{
    /// <summary>The JSON value for <paramref name="scope"/>. <paramref name="usedBy"/> names the step for errors (a missing environment variable).</summary>
    public abstract JsonNode? Render(TemplateScope scope, string usedBy);

    /// <summary>The paths of every placeholder in the value.</summary>
    public abstract IEnumerable<ValuePath> Paths { get; }

    /// <summary>A JSON value without placeholders.</summary>
    /// <param name="Value">The value.</param>
    public sealed record Literal(JsonNode? Value) : JsonTemplate
    {
        /// <inheritdoc/>
        public override JsonNode? Render(TemplateScope scope, string usedBy) => JsonData.Clone(Value);
        /// <inheritdoc/>
        public override IEnumerable<ValuePath> Paths => [];
    }

    /// <summary>A string template.</summary>
    /// <param name="Template">The template.</param>
    public sealed record Text(Template Template) : JsonTemplate
    {
        /// <inheritdoc/>
        public override JsonNode? Render(TemplateScope scope, string usedBy) => Template.RenderValue(scope, usedBy);
        /// <inheritdoc/>
        public override IEnumerable<ValuePath> Paths => Template.Paths;
    }

    /// <summary>An object whose values are templates.</summary>
    /// <param name="Properties">The properties, in order.</param>
    public sealed record Object(IReadOnlyList<KeyValuePair<string, JsonTemplate>> Properties) : JsonTemplate
    {
        /// <inheritdoc/>
        public override JsonNode? Render(TemplateScope scope, string usedBy)
        {
            var result = new JsonObject();
            foreach (var (key, value) in Properties) result[key] = value.Render(scope, usedBy);
            return result;
        }

        /// <inheritdoc/>
        public override IEnumerable<ValuePath> Paths => Properties.SelectMany(p => p.Value.Paths);
    }

    /// <summary>An array whose items are templates.</summary>
    /// <param name="Items">The items, in order.</param>
    public sealed record Array(IReadOnlyList<JsonTemplate> Items) : JsonTemplate
    {
        /// <inheritdoc/>
        public override JsonNode? Render(TemplateScope scope, string usedBy) =>
            new JsonArray(Items.Select(i => i.Render(scope, usedBy)).ToArray());

        /// <inheritdoc/>
        public override IEnumerable<ValuePath> Paths => Items.SelectMany(i => i.Paths);
    }
}
