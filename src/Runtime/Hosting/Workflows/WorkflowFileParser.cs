using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using TtaActors.Actors.Primitives;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.RepresentationModel;

namespace TtaActors.Runtime.Workflows;

/// <summary>
/// Reads a workflow file (YAML, or JSON, which YAML contains) into a checked step tree. Every problem is collected
/// with its line and column; keys the schema does not know are problems, never silently ignored. The schema is
/// documented in docs/workflow-files.md.
/// </summary>
public sealed partial class WorkflowFileParser
{
    /// <summary>Every step keyword a workflow file may use.</summary>
    public static readonly IReadOnlyList<string> StepKinds =
        ["template", "set", "http", "llm", "parallel", "router", "retry", "fallback", "timeout", "supabase", "e2b", "approval", "wait"];

    private static readonly string[] HttpMethods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

    // The bounds of the schema's numbers (docs/workflow-files.md). Durations stay within a day, which every timer
    // and cancellation source takes (CancelAfter refuses more than about 24.8 days).
    /// <summary>The shortest duration a file may give, in seconds.</summary>
    public const double MinSeconds = 0.001;
    /// <summary>The longest duration a file may give, in seconds (a day).</summary>
    public const double MaxSeconds = 86_400;
    /// <summary>The most retries a <c>retry:</c> step may ask for.</summary>
    public const int MaxRetries = 100;
    /// <summary>The largest backoff base, in seconds.</summary>
    public const double MaxBackoffBase = 3_600;
    /// <summary>The largest <c>temperature</c>.</summary>
    public const double MaxTemperature = 2;
    /// <summary>The largest <c>max_tokens</c>.</summary>
    public const int MaxTokens = 1_000_000;

    private readonly string _file;
    private readonly WorkflowFileLimits _limits;
    private readonly List<WorkflowProblem> _problems = [];

    private WorkflowFileParser(string file, WorkflowFileLimits limits)
    {
        _file = file;
        _limits = limits;
    }

    /// <summary>Parses a file from disk; the workflow's name defaults to the file name without its extension.</summary>
    public static (WorkflowDocument? Document, IReadOnlyList<WorkflowProblem> Problems) ParseFile(string path, WorkflowFileLimits? limits = null)
    {
        limits ??= WorkflowFileLimits.Default;
        var start = new SourceLocation(path, 1, 1);
        if (!File.Exists(path)) return (null, [new WorkflowProblem(start, "The file does not exist.")]);
        string text;
        try
        {
            var size = new FileInfo(path).Length;
            if (size > limits.MaxFileBytes)
                return (null, [new WorkflowProblem(start,
                    $"The file is {size} bytes, more than the limit of {limits.MaxFileBytes} bytes for a workflow file (MaxFileBytes); split it into several workflows.")]);
            text = File.ReadAllText(path);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            return (null, [new WorkflowProblem(start, $"The file cannot be read: {error.Message}")]);
        }
        return Parse(text, path, Path.GetFileNameWithoutExtension(path), limits);
    }

    /// <summary>Parses the text of a workflow file; every problem found is returned, each with its location.</summary>
    /// <param name="text">The file's YAML or JSON.</param>
    /// <param name="file">The file name problems are reported under.</param>
    /// <param name="defaultName">The workflow's name when the file gives none.</param>
    /// <param name="limits">Bounds of the file's steps; <see cref="WorkflowFileLimits.Default"/> when null.</param>
    public static (WorkflowDocument? Document, IReadOnlyList<WorkflowProblem> Problems) Parse(string text, string file, string defaultName,
        WorkflowFileLimits? limits = null)
    {
        var parser = new WorkflowFileParser(file, limits ?? WorkflowFileLimits.Default);
        var document = parser.ParseDocument(text, defaultName);
        return (parser._problems.Count == 0 ? document : null,
            parser._problems.OrderBy(p => p.At.Line).ThenBy(p => p.At.Column).ToList());
    }

    private WorkflowDocument? ParseDocument(string text, string defaultName)
    {
        if (text.Length > _limits.MaxFileBytes)
        {
            Problem(new SourceLocation(_file, 1, 1),
                $"The file has {text.Length} characters, more than the limit of {_limits.MaxFileBytes} for a workflow file (MaxFileBytes); split it into several workflows.");
            return null;
        }
        if (!IsWellFormedAndWithinLimits(text)) return null;
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
        var durability = Actors.Durable.WorkflowDurability.None;
        StepSpec? steps;
        if (root is YamlMappingNode mapping && !StepKinds.Any(k => mapping.Children.ContainsKey(new YamlScalarNode(k))))
        {
            var keys = Keys(mapping, "the workflow", ["name", "description", "steps", "durability"])!;
            if (keys.TryGetValue("name", out var nameNode) && String(nameNode, "name") is { } given)
            {
                if (ValidName().IsMatch(given)) name = given;
                else Problem(At(nameNode), $"Workflow name '{given}' may only use letters, digits, '.', '_' and '-'.");
            }
            if (keys.TryGetValue("description", out var descriptionNode)) description = String(descriptionNode, "description");
            if (keys.TryGetValue("durability", out var durabilityNode)) durability = Durability(durabilityNode);
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
        if (steps is not null) CheckWaits(steps, durability);
        return steps is null ? null : new WorkflowDocument(name, description, steps, _file) { Durability = durability };
    }

    /// <summary>What an anchor stands for wherever an alias repeats it: its nodes and the levels of nesting it adds.</summary>
    private readonly record struct AnchorSize(long Nodes, int Levels);

    /// <summary>A mapping or list whose end has not been read yet.</summary>
    private sealed class OpenCollection(string? anchor)
    {
        public string? Anchor { get; } = anchor;
        public long Nodes { get; set; } = 1;
        public int Levels { get; set; } = 1;
    }

    /// <summary>
    /// Reads the YAML event by event before any tree is built, and stops at the first limit a file exceeds
    /// (<see cref="WorkflowFileLimits"/>): nesting depth and node count are counted as if every alias were written out,
    /// so an alias bomb is refused after reading it once, and an alias used inside its own anchor (which would never end)
    /// is refused where it is used. Where the YAML library fails without a location (it throws plain exceptions on some
    /// unclosed flow collections) the problem is reported where reading stopped.
    /// </summary>
    private bool IsWellFormedAndWithinLimits(string text)
    {
        var parser = new Parser(new StringReader(text));
        var line = 1;
        var column = 1;
        var open = new Stack<OpenCollection>();
        // null while the anchor's collection is still open: an alias to it then is recursive.
        var anchors = new Dictionary<string, AnchorSize?>(StringComparer.Ordinal);
        long nodes = 0;
        var aliases = 0;
        try
        {
            while (parser.MoveNext())
            {
                if (parser.Current is not { } current) continue;
                line = (int)current.End.Line;
                column = (int)current.End.Column;
                var at = new SourceLocation(_file, (int)current.Start.Line, (int)current.Start.Column);
                long added = 0;
                var levels = 0;
                switch (current)
                {
                    case MappingStart or SequenceStart:
                    {
                        var start = (NodeEvent)current;
                        var anchor = start.Anchor.IsEmpty ? null : start.Anchor.Value;
                        if (anchor is not null) anchors[anchor] = null;
                        open.Push(new OpenCollection(anchor));
                        nodes++;
                        break;
                    }
                    case MappingEnd or SequenceEnd:
                    {
                        var closed = open.Pop();
                        if (closed.Anchor is not null) anchors[closed.Anchor] = new AnchorSize(closed.Nodes, closed.Levels);
                        if (open.TryPeek(out var parent))
                        {
                            parent.Nodes += closed.Nodes;
                            parent.Levels = Math.Max(parent.Levels, closed.Levels + 1);
                        }
                        continue;
                    }
                    case Scalar scalar:
                        if (!scalar.Anchor.IsEmpty) anchors[scalar.Anchor.Value] = new AnchorSize(1, 0);
                        added = 1;
                        break;
                    case AnchorAlias alias:
                    {
                        var name = alias.Value.Value;
                        if (!anchors.TryGetValue(name, out var size))
                            return LimitProblem(at, $"Alias '*{name}' refers to no anchor '&{name}' defined before it.");
                        if (size is not { } known)
                            return LimitProblem(at,
                                $"Alias '*{name}' is used inside the anchor '&{name}' it refers to, so it would repeat itself without end; write that part out instead of referring to it.");
                        if (++aliases > _limits.MaxAliases)
                            return LimitProblem(at, $"The file uses more than {_limits.MaxAliases} aliases (MaxAliases); write the repeated parts out or split the workflow.");
                        added = known.Nodes;
                        levels = known.Levels;
                        break;
                    }
                }
                if (open.Count + levels > _limits.MaxDepth) return LimitProblem(at, DepthMessage);
                nodes += added;
                if (nodes > _limits.MaxNodes)
                    return LimitProblem(at,
                        $"The file has more than {_limits.MaxNodes} YAML nodes, counting every node an alias repeats (MaxNodes); an alias that repeats another alias many times multiplies quickly. Write a smaller workflow or split it.");
                if (open.TryPeek(out var into))
                {
                    into.Nodes += added;
                    into.Levels = Math.Max(into.Levels, levels + 1);
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

    private string DepthMessage =>
        $"The YAML is nested more than {_limits.MaxDepth} levels deep (MaxDepth), counting what aliases stand for; steps nest a few levels each, so flatten the workflow (a list of steps runs them one after the other).";

    private bool LimitProblem(SourceLocation at, string message)
    {
        Problem(at, message);
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
            "supabase" => Supabase(at, name, body),
            "e2b" => E2B(at, name, body),
            "approval" or "wait" => Wait(kind, at, name, body),
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
        var ok = true;
        if (keys.TryGetValue("max_retries", out var n))
        {
            if (Int(n, "max_retries", 0, MaxRetries) is { } maxRetries) policy = policy with { MaxRetries = maxRetries };
            else ok = false;
        }
        if (keys.TryGetValue("backoff_base", out var b))
        {
            if (Number(b, "backoff_base", 0, MaxBackoffBase) is { } backoffBase) policy = policy with { BackoffBase = backoffBase };
            else ok = false;
        }
        if (keys.TryGetValue("max_backoff", out var m))
        {
            if (Number(m, "max_backoff", 0, MaxSeconds) is { } maxBackoff) policy = policy with { MaxBackoff = maxBackoff };
            else ok = false;
        }
        if (keys.TryGetValue("jitter", out var j) && Bool(j, "jitter") is { } jitter) policy = policy with { Jitter = jitter };
        var inner = Required(keys, at, "do", "retry", "the step to retry");
        return inner is null || !ok ? null : new RetrySpec(at, name, policy, inner);
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
        else seconds = Number(s, "seconds", MinSeconds, MaxSeconds);
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
        var keys = Keys(body, "llm", ["provider", "model", "prompt", "system", "temperature", "max_tokens", "tools", "max_iterations", "on_tool_error",
            "output_schema", "output_retries"]);
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
        Actors.Llm.Prompts.LangfusePromptReference? langfusePrompt = null;
        if (!keys.TryGetValue("prompt", out var pr)) Problem(at, "The llm step has no 'prompt:' (a template, or {langfuse: NAME} for a Langfuse prompt).");
        else if (pr is YamlMappingNode) langfusePrompt = LangfusePromptOf(pr);
        else if (String(pr, "prompt") is { } promptText) prompt = TemplateOf(pr, promptText, allowEnv: false);
        if (langfusePrompt is not null && keys.TryGetValue("system", out var systemBeside))
            Problem(At(systemBeside), "'system:' does not go with a Langfuse prompt: write the system message in a chat prompt in Langfuse.");
        Actors.Llm.LlmOutputSchema? outputSchema = null;
        var outputOk = true;
        if (keys.TryGetValue("output_schema", out var os))
        {
            outputSchema = OutputSchemaOf(os, name);
            outputOk = outputSchema is not null;
        }
        var outputRetries = Actors.Llm.LlmStepOptions.DefaultOutputRetries;
        if (keys.TryGetValue("output_retries", out var or))
        {
            if (outputSchema is null && outputOk) Problem(At(or), "'output_retries' only applies with an 'output_schema:'.");
            if (Int(or, "output_retries", 0, Actors.Llm.LlmStepOptions.MaxOutputRetries) is { } retries) outputRetries = retries;
            else outputOk = false;
        }
        var system = keys.TryGetValue("system", out var sy) && String(sy, "system") is { } systemText
            ? TemplateOf(sy, systemText, allowEnv: false)
            : null;
        double? temperature = null;
        var numbersOk = true;
        if (keys.TryGetValue("temperature", out var t))
        {
            temperature = Number(t, "temperature", 0, MaxTemperature);
            numbersOk = temperature is not null;
        }
        int? maxTokens = null;
        if (keys.TryGetValue("max_tokens", out var mt))
        {
            maxTokens = Int(mt, "max_tokens", 1, MaxTokens);
            numbersOk &= maxTokens is not null;
        }
        var maxIterations = Actors.Llm.LlmStepOptions.DefaultMaxIterations;
        if (keys.TryGetValue("max_iterations", out var mi))
        {
            if (Int(mi, "max_iterations", 1, Actors.Llm.LlmStepOptions.MaxIterationsLimit) is { } iterations) maxIterations = iterations;
            else numbersOk = false;
        }
        var onToolError = Actors.Llm.ToolErrorMode.Report;
        if (keys.TryGetValue("on_tool_error", out var te) && String(te, "on_tool_error") is { } mode)
        {
            switch (mode)
            {
                case "report": break;
                case "fail": onToolError = Actors.Llm.ToolErrorMode.Fail; break;
                default:
                    Problem(At(te), $"'on_tool_error' must be report (the model is told the tool failed) or fail (the step fails); found '{mode}'.");
                    numbersOk = false;
                    break;
            }
        }
        var tools = new List<LlmToolSpec>();
        if (keys.TryGetValue("tools", out var toolsNode))
        {
            if (toolsNode is not YamlSequenceNode { Children.Count: > 0 } toolList)
            {
                Problem(At(toolsNode), "'tools:' takes a non-empty list of tools (each with name, description, parameters and http: or workflow:).");
                numbersOk = false;
            }
            else
            {
                foreach (var toolNode in toolList.Children)
                {
                    if (Tool(toolNode) is { } tool)
                    {
                        if (tools.Any(t => t.Name == tool.Name))
                        {
                            Problem(tool.At, $"Two tools of this llm step are named '{tool.Name}'; tool names must differ.");
                            numbersOk = false;
                        }
                        else tools.Add(tool);
                    }
                    else numbersOk = false;
                }
            }
        }
        return !modelOk || !numbersOk || !outputOk || (prompt is null && langfusePrompt is null) ? null
            : new LlmSpec(at, name, provider, model, prompt, system, temperature, maxTokens)
            {
                Tools = tools,
                MaxIterations = maxIterations,
                OnToolError = onToolError,
                LangfusePrompt = langfusePrompt,
                OutputSchema = outputSchema,
                OutputRetries = outputRetries,
            };
    }

    private static readonly string[] ToolParameterTypes = ["string", "number", "integer", "boolean"];

    /// <summary>
    /// One tool of an llm step. Its arguments come from the model, so they are hostile input: only the declared
    /// parameters are accepted, with their types, and an http tool's URL takes them percent-encoded only (no <c>| raw</c>).
    /// </summary>
    private LlmToolSpec? Tool(YamlNode node)
    {
        var keys = Keys(node, "a tool", ["name", "description", "parameters", "http", "workflow"]);
        if (keys is null) return null;
        var at = At(node);
        var ok = true;
        string? name = null;
        if (!keys.TryGetValue("name", out var nameNode)) Problem(at, "The tool has no 'name:' (what the model calls it).");
        else if (String(nameNode, "name") is { } nameText)
        {
            if (Actors.Llm.LlmToolNames.Problem(nameText) is { } nameProblem) Problem(At(nameNode), nameProblem);
            else name = nameText;
        }
        string? description = null;
        if (!keys.TryGetValue("description", out var descriptionNode))
            Problem(at, "The tool has no 'description:' (the model decides from it when to call the tool).");
        else description = String(descriptionNode, "description");

        var parameters = new List<ToolParameterSpec>();
        if (keys.TryGetValue("parameters", out var parametersNode))
        {
            if (parametersNode is not YamlMappingNode parameterMap)
            {
                Problem(At(parametersNode), "'parameters:' must be a mapping from argument name to {type, description, required, enum}.");
                ok = false;
            }
            else
            {
                foreach (var (keyNode, valueNode) in parameterMap.Children)
                {
                    var parameter = String(keyNode, "parameter name");
                    if (parameter is not null && !ValidName().IsMatch(parameter))
                    {
                        Problem(At(keyNode), $"Parameter name '{parameter}' may only use letters, digits, '.', '_' and '-'.");
                        parameter = null;
                    }
                    var fields = Keys(valueNode, $"parameter '{parameter}'", ["type", "description", "required", "enum"]);
                    if (parameter is null || fields is null)
                    {
                        ok = false;
                        continue;
                    }
                    var type = "string";
                    if (fields.TryGetValue("type", out var typeNode) && String(typeNode, "type") is { } typeText)
                    {
                        if (ToolParameterTypes.Contains(typeText)) type = typeText;
                        else
                        {
                            Problem(At(typeNode), $"Parameter type '{typeText}' is not one of {string.Join(", ", ToolParameterTypes)}.");
                            ok = false;
                        }
                    }
                    var parameterDescription = fields.TryGetValue("description", out var pd) ? String(pd, "description") : null;
                    var required = !fields.TryGetValue("required", out var rq) || Bool(rq, "required") != false;
                    List<string>? values = null;
                    if (fields.TryGetValue("enum", out var enumNode))
                    {
                        if (enumNode is not YamlSequenceNode { Children.Count: > 0 } enumList || type != "string")
                        {
                            Problem(At(enumNode), "'enum:' takes a non-empty list of the values a string parameter may have.");
                            ok = false;
                        }
                        else values = enumList.Children.Select(v => String(v, "enum value")).Where(v => v is not null).Select(v => v!).ToList();
                    }
                    parameters.Add(new ToolParameterSpec(parameter, type, parameterDescription, required, values));
                }
            }
        }

        HttpSpec? http = null;
        string? workflow = null;
        var hasHttp = keys.TryGetValue("http", out var httpNode);
        var hasWorkflow = keys.TryGetValue("workflow", out var workflowNode);
        if (hasHttp == hasWorkflow)
        {
            Problem(at, $"The tool '{name}' needs exactly one of 'http:' (a request built from the arguments) or 'workflow:' (a registered workflow's name).");
            ok = false;
        }
        else if (hasHttp)
        {
            _inTool = true;
            try
            {
                http = Http(At(httpNode!), name, httpNode!) as HttpSpec;
            }
            finally
            {
                _inTool = false;
            }
            ok &= http is not null;
        }
        else if (String(workflowNode!, "workflow") is { } workflowName)
        {
            if (ValidName().IsMatch(workflowName)) workflow = workflowName;
            else
            {
                Problem(At(workflowNode!), $"'{workflowName}' is not a workflow name (letters, digits, '.', '_' and '-').");
                ok = false;
            }
        }
        else ok = false;
        return ok && name is not null && description is not null ? new LlmToolSpec(at, name, description, parameters, http, workflow) : null;
    }

    /// <summary>True while an http tool is parsed: its URL takes model arguments, so <c>| raw</c> is refused there.</summary>
    private bool _inTool;

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

        UrlTemplate? url = null;
        if (!keys.TryGetValue("url", out var urlNode)) Problem(at, "The http step has no 'url:'.");
        else if (String(urlNode, "url") is { } urlText && !RawInToolUrl(urlNode, urlText)
            && TemplateOf(urlNode, urlText, allowEnv: false, allowRaw: true) is { } urlTemplate)
        {
            try
            {
                url = UrlTemplate.Create(urlTemplate);
            }
            catch (FormatException error)
            {
                Problem(At(urlNode), error.Message);
            }
        }

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
                    if (header is not null && !HeaderName().IsMatch(header))
                    {
                        Problem(At(keyNode), $"'{header}' is not a valid HTTP header name: use letters, digits and ! # $ % & ' * + - . ^ _ ` | ~ only.");
                        header = null;
                    }
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
                if (Int(item, "expect", 100, 599) is { } status) expect.Add(status);
                else ok = false;
            }
        }

        var timeout = 30.0;
        if (keys.TryGetValue("timeout_seconds", out var timeoutNode))
        {
            if (Number(timeoutNode, "timeout_seconds", MinSeconds, MaxSeconds) is { } value) timeout = value;
            else ok = false;
        }
        return ok && url is not null ? new HttpSpec(at, name, method, url, headers, requestBody, expect, timeout) : null;
    }

    private bool RawInToolUrl(YamlNode node, string text)
    {
        if (!_inTool || !text.Contains(Template.RawFilter, StringComparison.Ordinal)) return false;
        try
        {
            if (!Template.Parse(text).HasRawPlaceholder) return false;
        }
        catch (FormatException)
        {
            return false;
        }
        Problem(At(node), $"'| {Template.RawFilter}' is not allowed in an http tool's url: its values come from the model, so each is percent-encoded where it goes.");
        return true;
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

    private Template? TemplateOf(YamlNode node, string text, bool allowEnv, bool allowRaw = false)
    {
        try
        {
            var template = Template.Parse(text);
            if (!allowRaw && template.HasRawPlaceholder)
            {
                Problem(At(node), $"'| {Template.RawFilter}' only applies in an http step's url, where values are otherwise percent-encoded.");
                return null;
            }
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

    private int? Int(YamlNode node, string what, int min, int max)
    {
        if (node is YamlScalarNode { Value: { } text } && int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value)
            && value >= min && value <= max)
            return value;
        Problem(At(node), $"'{what}' must be a whole number from {min} to {max}; found {Describe(node)}.");
        return null;
    }

    private double? Number(YamlNode node, string what, double min, double max)
    {
        if (node is YamlScalarNode { Value: { } text } && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value)
            && double.IsFinite(value) && value >= min && value <= max)
            return value;
        Problem(At(node), $"'{what}' must be a number from {min.ToString(CultureInfo.InvariantCulture)} to {max.ToString(CultureInfo.InvariantCulture)}; found {Describe(node)}.");
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

    /// <summary>An RFC 9110 token.</summary>
    [GeneratedRegex("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")]
    private static partial Regex HeaderName();
}
