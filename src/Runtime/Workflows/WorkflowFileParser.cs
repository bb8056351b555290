using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using TtaActors.Actors.Primitives;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace TtaActors.Runtime.Workflows;

/// <summary>
/// Reads a workflow file (YAML, or JSON, which YAML contains) into a checked step tree. Every problem is collected
/// with its line and column; keys the schema does not know are problems, never silently ignored. The schema is
/// documented in docs/workflow-files.md.
/// </summary>
public sealed partial class WorkflowFileParser
{
    public static readonly IReadOnlyList<string> StepKinds =
        ["template", "set", "http", "llm", "parallel", "router", "retry", "fallback", "timeout"];

    private static readonly string[] HttpMethods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

    private readonly string _file;
    private readonly List<WorkflowProblem> _problems = [];

    private WorkflowFileParser(string file) => _file = file;

    /// <summary>Parses a file from disk; the workflow's name defaults to the file name without its extension.</summary>
    public static (WorkflowDocument? Document, IReadOnlyList<WorkflowProblem> Problems) ParseFile(string path)
    {
        if (!File.Exists(path)) return (null, [new WorkflowProblem(new SourceLocation(path, 1, 1), "The file does not exist.")]);
        return Parse(File.ReadAllText(path), path, Path.GetFileNameWithoutExtension(path));
    }

    public static (WorkflowDocument? Document, IReadOnlyList<WorkflowProblem> Problems) Parse(string text, string file, string defaultName)
    {
        var parser = new WorkflowFileParser(file);
        var document = parser.ParseDocument(text, defaultName);
        return (parser._problems.Count == 0 ? document : null,
            parser._problems.OrderBy(p => p.At.Line).ThenBy(p => p.At.Column).ToList());
    }

    private WorkflowDocument? ParseDocument(string text, string defaultName)
    {
        if (!IsWellFormed(text)) return null;
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlException error)
        {
            YamlProblem(text, (int)error.Start.Line, (int)error.Start.Column, (error.InnerException as YamlException)?.Message ?? error.Message);
            return null;
        }

        if (stream.Documents.Count == 0)
        {
            Problem(new SourceLocation(_file, 1, 1), "The file is empty; it needs a list of steps or a mapping with 'steps:'.");
            return null;
        }
        if (stream.Documents.Count > 1)
            Problem(At(stream.Documents[1].RootNode), "The file holds more than one YAML document; put one workflow in each file.");

        var root = stream.Documents[0].RootNode;
        var name = defaultName;
        string? description = null;
        StepSpec? steps;
        if (root is YamlMappingNode mapping && !StepKinds.Any(k => mapping.Children.ContainsKey(new YamlScalarNode(k))))
        {
            var keys = Keys(mapping, "the workflow", ["name", "description", "steps"])!;
            if (keys.TryGetValue("name", out var nameNode) && String(nameNode, "name") is { } given)
            {
                if (ValidName().IsMatch(given)) name = given;
                else Problem(At(nameNode), $"Workflow name '{given}' may only use letters, digits, '.', '_' and '-'.");
            }
            if (keys.TryGetValue("description", out var descriptionNode)) description = String(descriptionNode, "description");
            steps = keys.TryGetValue("steps", out var stepsNode)
                ? Step(stepsNode)
                : Missing<StepSpec>(mapping, "The workflow has no 'steps:'.");
        }
        else
        {
            steps = Step(root);
        }

        if (!ValidName().IsMatch(name))
            Problem(new SourceLocation(_file, 1, 1),
                $"The file name gives the workflow name '{name}', which may only use letters, digits, '.', '_' and '-'; rename the file or set 'name:'.");
        return steps is null ? null : new WorkflowDocument(name, description, steps, _file);
    }

    /// <summary>
    /// Reads the YAML event by event first, so that even where the YAML library fails without a location (it throws
    /// plain exceptions on some unclosed flow collections) the problem is reported where reading stopped.
    /// </summary>
    private bool IsWellFormed(string text)
    {
        var parser = new Parser(new StringReader(text));
        var line = 1;
        var column = 1;
        try
        {
            while (parser.MoveNext())
            {
                if (parser.Current is { } current)
                {
                    line = (int)current.End.Line;
                    column = (int)current.End.Column;
                }
            }
            return true;
        }
        catch (YamlException error)
        {
            YamlProblem(text, (int)error.Start.Line, (int)error.Start.Column, (error.InnerException as YamlException)?.Message ?? error.Message);
        }
        catch (InvalidOperationException)
        {
            YamlProblem(text, line, column, "the YAML parser stopped here; look for an unclosed [ or { or a missing quote");
        }
        return false;
    }

    private void YamlProblem(string text, int line, int column, string message)
    {
        if (LineAt(text, line).Contains("{{", StringComparison.Ordinal))
            message += " (a value that starts with {{ must be quoted, e.g. \"{{ input.name }}\")";
        Problem(new SourceLocation(_file, line, column), $"Not valid YAML: {message}");
    }

    private StepSpec? Step(YamlNode node)
    {
        switch (node)
        {
            case YamlSequenceNode sequence:
            {
                if (sequence.Children.Count == 0) return Missing<StepSpec>(node, "An empty list of steps; a sequence needs at least one step.");
                var steps = sequence.Children.Select(Step).ToList();
                return steps.Any(s => s is null) ? null : new SequenceSpec(At(node), null, steps.Select(s => s!).ToList());
            }
            case YamlMappingNode mapping:
                return StepMapping(mapping);
            default:
                return Missing<StepSpec>(node,
                    $"Expected a step (a mapping such as 'template: ...', one of: {string.Join(", ", StepKinds)}) or a list of steps; found {Describe(node)}.");
        }
    }

    private StepSpec? StepMapping(YamlMappingNode mapping)
    {
        string? kind = null;
        YamlNode? body = null;
        string? name = null;
        var failed = false;
        foreach (var (keyNode, value) in mapping.Children)
        {
            var key = (keyNode as YamlScalarNode)?.Value;
            if (key == "name")
            {
                name = String(value, "name");
                continue;
            }
            if (key is null || !StepKinds.Contains(key))
            {
                Problem(At(keyNode), key is null
                    ? "A step's keys must be plain names."
                    : $"Unknown step kind '{key}'. Known kinds: {string.Join(", ", StepKinds)} (and 'name' to name the step).");
                failed = true;
                continue;
            }
            if (kind is not null)
            {
                Problem(At(keyNode), $"A step has exactly one kind, but this one has '{kind}' and '{key}'; make them two steps in a list.");
                failed = true;
                continue;
            }
            kind = key;
            body = value;
        }
        if (failed) return null;
        if (kind is null || body is null) return Missing<StepSpec>(mapping, $"The step has no kind; give it one of: {string.Join(", ", StepKinds)}.");

        var at = At(mapping);
        return kind switch
        {
            "template" => String(body, "template") is { } text && TemplateOf(body, text, allowEnv: false) is { } t ? new TemplateSpec(at, name, t) : null,
            "set" => JsonTemplateOf(body, allowEnv: false) is { } value ? new SetSpec(at, name, value) : null,
            "http" => Http(at, name, body),
            "llm" => Llm(at, name, body),
            "parallel" => Parallel(at, name, body),
            "router" => Router(at, name, body),
            "retry" => Retry(at, name, body),
            "fallback" => Fallback(at, name, body),
            _ => Timeout(at, name, body),
        };
    }

    private StepSpec? Parallel(SourceLocation at, string? name, YamlNode body)
    {
        if (body is not YamlSequenceNode { Children.Count: > 0 } branches)
            return Missing<StepSpec>(body, "'parallel:' takes a non-empty list of branches (each a step or a list of steps).");
        var specs = branches.Children.Select(Step).ToList();
        return specs.Any(s => s is null) ? null : new ParallelSpec(at, name, specs.Select(s => s!).ToList());
    }

    private StepSpec? Router(SourceLocation at, string? name, YamlNode body)
    {
        var keys = Keys(body, "router", ["by", "routes", "default"]);
        if (keys is null) return null;
        Template? by = null;
        if (!keys.TryGetValue("by", out var byNode)) Problem(at, "The router has no 'by:' (a JSON path into the input such as $.kind, or a template).");
        else if (String(byNode, "by") is { } byText)
            by = TemplateOf(byNode, byText.TrimStart().StartsWith('$') ? "{{" + byText + "}}" : byText, allowEnv: false);

        var routes = new List<KeyValuePair<string, StepSpec>>();
        var routesOk = true;
        if (!keys.TryGetValue("routes", out var routesNode))
        {
            Problem(at, "The router has no 'routes:' (a mapping from route key to step).");
            routesOk = false;
        }
        else if (routesNode is not YamlMappingNode { Children.Count: > 0 } routeMap)
        {
            Problem(At(routesNode), "'routes:' must be a mapping from route key to step, with at least one route.");
            routesOk = false;
        }
        else
        {
            foreach (var (keyNode, stepNode) in routeMap.Children)
            {
                var key = String(keyNode, "route key");
                var step = Step(stepNode);
                if (key is null || step is null) routesOk = false;
                else routes.Add(new(key, step));
            }
        }

        string? defaultRoute = null;
        if (keys.TryGetValue("default", out var defaultNode) && String(defaultNode, "default") is { } d)
        {
            if (routesOk && routes.All(r => r.Key != d))
            {
                Problem(At(defaultNode), $"Default route '{d}' is not one of the routes ({string.Join(", ", routes.Select(r => r.Key))}).");
                routesOk = false;
            }
            defaultRoute = d;
        }
        return by is null || !routesOk ? null : new RouterSpec(at, name, by, routes, defaultRoute);
    }

    private StepSpec? Retry(SourceLocation at, string? name, YamlNode body)
    {
        var keys = Keys(body, "retry", ["max_retries", "backoff_base", "max_backoff", "jitter", "do"]);
        if (keys is null) return null;
        var policy = new RetryPolicy();
        if (keys.TryGetValue("max_retries", out var n) && Int(n, "max_retries", 0) is { } maxRetries) policy = policy with { MaxRetries = maxRetries };
        if (keys.TryGetValue("backoff_base", out var b) && Number(b, "backoff_base", 0) is { } backoffBase) policy = policy with { BackoffBase = backoffBase };
        if (keys.TryGetValue("max_backoff", out var m) && Number(m, "max_backoff", 0) is { } maxBackoff) policy = policy with { MaxBackoff = maxBackoff };
        if (keys.TryGetValue("jitter", out var j) && Bool(j, "jitter") is { } jitter) policy = policy with { Jitter = jitter };
        var inner = Required(keys, at, "do", "retry", "the step to retry");
        return inner is null ? null : new RetrySpec(at, name, policy, inner);
    }

    private StepSpec? Fallback(SourceLocation at, string? name, YamlNode body)
    {
        var keys = Keys(body, "fallback", ["do", "otherwise"]);
        if (keys is null) return null;
        var primary = Required(keys, at, "do", "fallback", "the primary step");
        var otherwise = Required(keys, at, "otherwise", "fallback", "the step that runs when the primary fails");
        return primary is null || otherwise is null ? null : new FallbackSpec(at, name, primary, otherwise);
    }

    private StepSpec? Timeout(SourceLocation at, string? name, YamlNode body)
    {
        var keys = Keys(body, "timeout", ["seconds", "do", "otherwise"]);
        if (keys is null) return null;
        double? seconds = null;
        if (!keys.TryGetValue("seconds", out var s)) Problem(at, "The timeout step has no 'seconds:'.");
        else if (Number(s, "seconds", 0) is { } value)
        {
            if (value > 0) seconds = value;
            else Problem(At(s), "'seconds:' must be more than 0.");
        }
        var inner = Required(keys, at, "do", "timeout", "the step to time");
        StepSpec? otherwise = null;
        var otherwiseOk = true;
        if (keys.TryGetValue("otherwise", out var o))
        {
            otherwise = Step(o);
            otherwiseOk = otherwise is not null;
        }
        return seconds is null || inner is null || !otherwiseOk ? null : new TimeoutSpec(at, name, seconds.Value, inner, otherwise);
    }

    private StepSpec? Llm(SourceLocation at, string? name, YamlNode body)
    {
        var keys = Keys(body, "llm", ["provider", "model", "prompt", "system", "temperature", "max_tokens"]);
        if (keys is null) return null;
        var provider = keys.TryGetValue("provider", out var p) ? String(p, "provider") : null;
        string? model = null;
        var modelOk = true;
        if (keys.TryGetValue("model", out var m))
        {
            model = String(m, "model");
            modelOk = model is not null;
        }
        Template? prompt = null;
        if (!keys.TryGetValue("prompt", out var pr)) Problem(at, "The llm step has no 'prompt:' (a template).");
        else if (String(pr, "prompt") is { } promptText) prompt = TemplateOf(pr, promptText, allowEnv: false);
        var system = keys.TryGetValue("system", out var sy) && String(sy, "system") is { } systemText
            ? TemplateOf(sy, systemText, allowEnv: false)
            : null;
        double? temperature = null;
        if (keys.TryGetValue("temperature", out var t) && Number(t, "temperature", 0) is { } temp)
        {
            if (temp <= 2) temperature = temp;
            else Problem(At(t), "'temperature:' must be between 0 and 2.");
        }
        int? maxTokens = keys.TryGetValue("max_tokens", out var mt) ? Int(mt, "max_tokens", 1) : null;
        return !modelOk || prompt is null ? null : new LlmSpec(at, name, provider, model, prompt, system, temperature, maxTokens);
    }

    private StepSpec? Http(SourceLocation at, string? name, YamlNode body)
    {
        var keys = Keys(body, "http", ["method", "url", "headers", "body", "expect", "timeout_seconds"]);
        if (keys is null) return null;
        var ok = true;
        var method = HttpMethod.Get;
        if (keys.TryGetValue("method", out var methodNode) && String(methodNode, "method") is { } methodText)
        {
            if (HttpMethods.Contains(methodText.ToUpperInvariant())) method = new HttpMethod(methodText.ToUpperInvariant());
            else
            {
                Problem(At(methodNode), $"Unknown HTTP method '{methodText}'; use one of {string.Join(", ", HttpMethods)}.");
                ok = false;
            }
        }

        Template? url = null;
        if (!keys.TryGetValue("url", out var urlNode)) Problem(at, "The http step has no 'url:'.");
        else if (String(urlNode, "url") is { } urlText) url = TemplateOf(urlNode, urlText, allowEnv: false);

        var headers = new List<HttpHeaderSpec>();
        if (keys.TryGetValue("headers", out var headersNode))
        {
            if (headersNode is not YamlMappingNode headerMap)
            {
                Problem(At(headersNode), "'headers:' must be a mapping from header name to value (a template; env.NAME reads an environment variable).");
                ok = false;
            }
            else
            {
                foreach (var (keyNode, valueNode) in headerMap.Children)
                {
                    var header = String(keyNode, "header name");
                    var value = String(valueNode, "header value");
                    var template = value is null ? null : TemplateOf(valueNode, value, allowEnv: true);
                    if (header is null || template is null) ok = false;
                    else headers.Add(new HttpHeaderSpec(header, template, At(valueNode)));
                }
            }
        }

        JsonTemplate? requestBody = null;
        if (keys.TryGetValue("body", out var bodyNode))
        {
            requestBody = JsonTemplateOf(bodyNode, allowEnv: false);
            ok &= requestBody is not null;
        }

        List<int>? expect = null;
        if (keys.TryGetValue("expect", out var expectNode))
        {
            var items = expectNode is YamlSequenceNode list ? list.Children.ToList() : [expectNode];
            expect = [];
            foreach (var item in items)
            {
                if (Int(item, "expect", 100) is { } status && status <= 599) expect.Add(status);
                else
                {
                    if (item is YamlScalarNode) Problem(At(item), "'expect:' takes HTTP status codes (100-599), one or a list.");
                    ok = false;
                }
            }
        }

        var timeout = 30.0;
        if (keys.TryGetValue("timeout_seconds", out var timeoutNode))
        {
            if (Number(timeoutNode, "timeout_seconds", 0) is { } value and > 0) timeout = value;
            else
            {
                Problem(At(timeoutNode), "'timeout_seconds:' must be more than 0.");
                ok = false;
            }
        }
        return ok && url is not null ? new HttpSpec(at, name, method, url, headers, requestBody, expect, timeout) : null;
    }

    private StepSpec? Required(Dictionary<string, YamlNode> keys, SourceLocation at, string key, string kind, string what)
    {
        if (keys.TryGetValue(key, out var node)) return Step(node);
        Problem(at, $"The {kind} step has no '{key}:' ({what}).");
        return null;
    }

    /// <summary>The keys of a mapping; keys outside <paramref name="allowed"/> are problems.</summary>
    private Dictionary<string, YamlNode>? Keys(YamlNode node, string what, string[] allowed)
    {
        if (node is not YamlMappingNode mapping)
            return Missing<Dictionary<string, YamlNode>>(node, $"{Capitalize(what)} takes a mapping with the keys {string.Join(", ", allowed)}; found {Describe(node)}.");
        var keys = new Dictionary<string, YamlNode>();
        foreach (var (keyNode, value) in mapping.Children)
        {
            var key = (keyNode as YamlScalarNode)?.Value;
            if (key is null || !allowed.Contains(key))
                Problem(At(keyNode), $"Unknown key '{key ?? Describe(keyNode)}' in {what}. Allowed keys: {string.Join(", ", allowed)}.");
            else keys[key] = value;
        }
        return keys;
    }

    private Template? TemplateOf(YamlNode node, string text, bool allowEnv)
    {
        try
        {
            var template = Template.Parse(text);
            if (!allowEnv && template.Paths.FirstOrDefault(p => p.UsesEnvironment) is { } envPath)
            {
                Problem(At(node), $"'{{{{ {envPath} }}}}': environment variables can only be read in http headers, so secrets never end up in outputs.");
                return null;
            }
            return template;
        }
        catch (FormatException error)
        {
            Problem(At(node), $"Bad template: {error.Message}");
            return null;
        }
    }

    private JsonTemplate? JsonTemplateOf(YamlNode node, bool allowEnv)
    {
        switch (node)
        {
            case YamlScalarNode scalar when scalar.Style == ScalarStyle.Plain && PlainLiteral(scalar.Value ?? "", out var literal):
                return new JsonTemplate.Literal(literal);
            case YamlScalarNode scalar:
                return TemplateOf(node, scalar.Value ?? "", allowEnv) is { } template ? new JsonTemplate.Text(template) : null;
            case YamlMappingNode when IsUnquotedTemplate(node):
                return Missing<JsonTemplate>(node, UnquotedTemplateMessage);
            case YamlSequenceNode sequence:
            {
                var items = sequence.Children.Select(c => JsonTemplateOf(c, allowEnv)).ToList();
                return items.Any(i => i is null) ? null : new JsonTemplate.Array(items.Select(i => i!).ToList());
            }
            case YamlMappingNode mapping:
            {
                var properties = new List<KeyValuePair<string, JsonTemplate>>();
                var ok = true;
                foreach (var (keyNode, valueNode) in mapping.Children)
                {
                    var key = String(keyNode, "key");
                    var value = JsonTemplateOf(valueNode, allowEnv);
                    if (key is null || value is null) ok = false;
                    else properties.Add(new(key, value));
                }
                return ok ? new JsonTemplate.Object(properties) : null;
            }
            default:
                return Missing<JsonTemplate>(node, $"Unexpected {Describe(node)}.");
        }
    }

    /// <summary>Plain (unquoted) YAML scalars that are JSON null, booleans or numbers.</summary>
    private static bool PlainLiteral(string text, out JsonNode? literal)
    {
        literal = null;
        switch (text)
        {
            case "" or "~" or "null" or "Null" or "NULL":
                return true;
            case "true" or "True" or "TRUE":
                literal = JsonValue.Create(true);
                return true;
            case "false" or "False" or "FALSE":
                literal = JsonValue.Create(false);
                return true;
        }
        if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var integer))
        {
            literal = JsonValue.Create(integer);
            return true;
        }
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && double.IsFinite(number))
        {
            literal = JsonValue.Create(number);
            return true;
        }
        return false;
    }

    private string? String(YamlNode node, string what)
    {
        if (node is YamlScalarNode { Value: { } value } && (value.Length > 0 || ((YamlScalarNode)node).Style != ScalarStyle.Plain)) return value;
        Problem(At(node), IsUnquotedTemplate(node) ? UnquotedTemplateMessage : $"'{what}' must be a text value; found {Describe(node)}.");
        return null;
    }

    private int? Int(YamlNode node, string what, int min)
    {
        if (node is YamlScalarNode { Value: { } text } && int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value) && value >= min)
            return value;
        Problem(At(node), $"'{what}' must be a whole number of at least {min}; found {Describe(node)}.");
        return null;
    }

    private double? Number(YamlNode node, string what, double min)
    {
        if (node is YamlScalarNode { Value: { } text } && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value)
            && double.IsFinite(value) && value >= min)
            return value;
        Problem(At(node), $"'{what}' must be a number of at least {min.ToString(CultureInfo.InvariantCulture)}; found {Describe(node)}.");
        return null;
    }

    private bool? Bool(YamlNode node, string what)
    {
        if (node is YamlScalarNode { Value: { } text } && bool.TryParse(text, out var value)) return value;
        Problem(At(node), $"'{what}' must be true or false; found {Describe(node)}.");
        return null;
    }

    private const string UnquotedTemplateMessage =
        "A template that starts with {{ must be quoted, e.g. \"{{ input.name }}\"; unquoted, YAML reads it as a mapping.";

    /// <summary>YAML reads an unquoted <c>{{ x }}</c> as a mapping whose only key is a mapping.</summary>
    private static bool IsUnquotedTemplate(YamlNode node) =>
        node is YamlMappingNode { Children.Count: 1 } outer && outer.Children.First().Key is YamlMappingNode;

    private T? Missing<T>(YamlNode node, string message) where T : class
    {
        Problem(At(node), message);
        return null;
    }

    private void Problem(SourceLocation at, string message) => _problems.Add(new WorkflowProblem(at, message));

    private SourceLocation At(YamlNode node) => new(_file, (int)node.Start.Line, (int)node.Start.Column);

    private static string Describe(YamlNode node) => node switch
    {
        YamlScalarNode { Value: { Length: > 0 } value } => $"'{value}'",
        YamlScalarNode => "an empty value",
        YamlSequenceNode => "a list",
        YamlMappingNode => "a mapping",
        _ => "an alias",
    };

    private static string Capitalize(string text) => text.Length == 0 ? text : char.ToUpperInvariant(text[0]) + text[1..];

    private static string LineAt(string text, int line)
    {
        var lines = text.Split('\n');
        return line >= 1 && line <= lines.Length ? lines[line - 1] : "";
    }

    [GeneratedRegex("^[A-Za-z0-9._-]+$")]
    private static partial Regex ValidName();
}
