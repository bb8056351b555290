using System.Text.RegularExpressions;
using TtaActors.Actors.Integrations.E2B;
using TtaActors.Actors.Integrations.Supabase;
using YamlDotNet.RepresentationModel;

namespace TtaActors.Runtime.Workflows;

/// <summary>The <c>supabase:</c> and <c>e2b:</c> steps (docs/workflow-files.md).</summary>
public sealed partial class WorkflowFileParser
{
    /// <summary>The longest an <c>e2b:</c> sandbox may live, in seconds.</summary>
    public const double MaxSandboxSeconds = 3_600;
    /// <summary>The most files an <c>e2b:</c> step writes or reads.</summary>
    public const int MaxSandboxFiles = 32;
    /// <summary>The longest sandbox file path.</summary>
    public const int MaxSandboxPathLength = 1_024;

    private static readonly string[] SupabaseOperations = ["select", "insert", "upsert", "update", "delete", "rpc"];

    private StepSpec? Supabase(SourceLocation at, string? name, YamlNode body)
    {
        var keys = Keys(body, "supabase", [.. SupabaseOperations, "columns", "filter", "order", "limit", "offset", "body", "on_conflict",
            "ignore_duplicates", "return_rows", "count", "allow_unfiltered", "schema", "timeout_seconds"]);
        if (keys is null) return null;
        var ok = true;
        var given = SupabaseOperations.Where(keys.ContainsKey).ToList();
        if (given.Count != 1)
        {
            Problem(at, given.Count == 0
                ? $"The supabase step needs one of {string.Join(", ", SupabaseOperations.Select(o => $"'{o}:'"))} naming its table (or, for rpc, its function)."
                : $"The supabase step has {string.Join(" and ", given.Select(g => $"'{g}:'"))}; give it exactly one operation.");
            return null;
        }
        var operation = Enum.Parse<SupabaseOperation>(given[0], ignoreCase: true);
        var target = String(keys[given[0]], given[0]);
        ok &= target is not null;

        var columns = keys.TryGetValue("columns", out var columnsNode) ? Names(columnsNode, "columns") : [];
        ok &= columns is not null;
        var onConflict = keys.TryGetValue("on_conflict", out var conflictNode) ? Names(conflictNode, "on_conflict") : [];
        ok &= onConflict is not null;

        var filters = new List<SupabaseFilter>();
        if (keys.TryGetValue("filter", out var filterNode))
        {
            if (filterNode is not YamlSequenceNode filterList)
            {
                Problem(At(filterNode), "'filter:' takes a list of {column, op, value} mappings (and 'not: true' to negate one).");
                ok = false;
            }
            else
            {
                foreach (var item in filterList.Children)
                {
                    var f = Keys(item, "a filter", ["column", "op", "value", "not"]);
                    if (f is null)
                    {
                        ok = false;
                        continue;
                    }
                    var column = f.TryGetValue("column", out var c) ? String(c, "column") : Missing<string>(item, "The filter has no 'column:'.");
                    var op = f.TryGetValue("op", out var o) ? String(o, "op") : Missing<string>(item, $"The filter has no 'op:' (one of {string.Join(", ", SupabaseFilter.Operators)}).");
                    JsonTemplate? value = null;
                    if (!f.TryGetValue("value", out var v)) Problem(At(item), "The filter has no 'value:' (a value, or a template such as \"{{ input.id }}\").");
                    else value = JsonTemplateOf(v, allowEnv: false);
                    var negate = f.TryGetValue("not", out var n) ? Bool(n, "not") : false;
                    if (column is null || op is null || value is null || negate is null)
                    {
                        ok = false;
                        continue;
                    }
                    var describe = $"filter '{column} {op}' of the supabase step";
                    var template = value;
                    filters.Add(new SupabaseFilter(column, op, (input, context) => template.Render(new TemplateScope(JsonData.ToNode(input), context), describe),
                        negate.Value));
                }
            }
        }

        var order = new List<SupabaseOrder>();
        if (keys.TryGetValue("order", out var orderNode))
        {
            var items = orderNode is YamlSequenceNode orderList ? orderList.Children.ToList() : [orderNode];
            foreach (var item in items)
            {
                if (item is YamlScalarNode && String(item, "order") is { } plain)
                {
                    order.Add(new SupabaseOrder(plain));
                    continue;
                }
                var o = Keys(item, "an order term", ["column", "desc", "nulls"]);
                if (o is null)
                {
                    ok = false;
                    continue;
                }
                var column = o.TryGetValue("column", out var c) ? String(c, "column") : Missing<string>(item, "The order term has no 'column:'.");
                var desc = o.TryGetValue("desc", out var d) ? Bool(d, "desc") : false;
                bool? nullsFirst = null;
                if (o.TryGetValue("nulls", out var nullsNode))
                {
                    switch (String(nullsNode, "nulls"))
                    {
                        case "first": nullsFirst = true; break;
                        case "last": nullsFirst = false; break;
                        default:
                            Problem(At(nullsNode), "'nulls:' is first or last.");
                            ok = false;
                            break;
                    }
                }
                if (column is null || desc is null) ok = false;
                else order.Add(new SupabaseOrder(column, desc.Value, nullsFirst));
            }
        }

        int? limit = null, offset = null;
        if (keys.TryGetValue("limit", out var limitNode)) ok &= (limit = Int(limitNode, "limit", 0, SupabaseQuery.MaxLimit)) is not null;
        if (keys.TryGetValue("offset", out var offsetNode)) ok &= (offset = Int(offsetNode, "offset", 0, int.MaxValue)) is not null;

        SupabaseValue? requestBody = null;
        if (keys.TryGetValue("body", out var bodyNode))
        {
            if (operation is SupabaseOperation.Select or SupabaseOperation.Delete)
            {
                Problem(At(bodyNode), $"A {given[0]} sends no body; 'body:' applies to insert, upsert, update and rpc.");
                ok = false;
            }
            else if (JsonTemplateOf(bodyNode, allowEnv: false) is { } template)
            {
                requestBody = (input, context) => template.Render(new TemplateScope(JsonData.ToNode(input), context), "body of the supabase step");
            }
            else ok = false;
        }

        bool? Flag(string key)
        {
            if (!keys.TryGetValue(key, out var node)) return null;
            var value = Bool(node, key);
            ok &= value is not null;
            return value;
        }
        var ignoreDuplicates = Flag("ignore_duplicates") ?? false;
        var returnRows = Flag("return_rows") ?? true;
        var allowUnfiltered = Flag("allow_unfiltered") ?? false;
        var count = keys.TryGetValue("count", out var countNode) ? String(countNode, "count") : null;
        var schema = keys.TryGetValue("schema", out var schemaNode) ? String(schemaNode, "schema") : null;

        var timeout = 30.0;
        if (keys.TryGetValue("timeout_seconds", out var timeoutNode))
        {
            if (Number(timeoutNode, "timeout_seconds", MinSeconds, MaxSeconds) is { } value) timeout = value;
            else ok = false;
        }
        if (!ok || target is null) return null;

        var query = new SupabaseQuery
        {
            Operation = operation,
            Target = target,
            Columns = columns!,
            Filters = filters,
            Order = order,
            Limit = limit,
            Offset = offset,
            Body = requestBody,
            ReturnRows = returnRows,
            Count = count,
            OnConflict = onConflict!,
            IgnoreDuplicates = ignoreDuplicates,
            AllowUnfiltered = allowUnfiltered,
            Schema = schema,
        };
        var problems = query.Problems();
        foreach (var problem in problems) Problem(At(body), problem);
        return problems.Count == 0 ? new SupabaseStepSpec(at, name, query, timeout) : null;
    }

    private StepSpec? E2B(SourceLocation at, string? name, YamlNode body)
    {
        var keys = Keys(body, "e2b", ["code", "language", "command", "template", "cwd", "env", "files", "download", "timeout_seconds",
            "sandbox_timeout_seconds", "allow_errors"]);
        if (keys is null) return null;
        var ok = true;
        Template? TemplateKey(string key)
        {
            if (!keys.TryGetValue(key, out var node)) return null;
            var template = String(node, key) is { } text ? TemplateOf(node, text, allowEnv: false) : null;
            ok &= template is not null;
            return template;
        }
        var code = TemplateKey("code");
        var command = TemplateKey("command");
        if ((code is null) == (command is null) && ok)
        {
            Problem(at, "The e2b step needs exactly one of 'code:' (run in the code interpreter) and 'command:' (run with bash).");
            ok = false;
        }
        string? language = null;
        if (keys.TryGetValue("language", out var languageNode) && String(languageNode, "language") is { } languageText)
        {
            if (!E2BRunRequest.Languages.Contains(languageText) || code is null)
            {
                Problem(At(languageNode), code is null
                    ? "'language:' only applies to 'code:'."
                    : $"Unknown language '{languageText}'; use one of {string.Join(", ", E2BRunRequest.Languages)}.");
                ok = false;
            }
            else language = languageText;
        }
        string? template = null;
        if (keys.TryGetValue("template", out var templateNode) && String(templateNode, "template") is { } templateText)
        {
            if (TemplateId().IsMatch(templateText)) template = templateText;
            else
            {
                Problem(At(templateNode), $"'{templateText}' is not an E2B template id or alias (letters, digits, '-', '_', '.', ':' and '/').");
                ok = false;
            }
        }
        string? cwd = null;
        if (keys.TryGetValue("cwd", out var cwdNode))
        {
            cwd = SandboxPath(cwdNode, "cwd");
            ok &= cwd is not null;
            if (cwd is not null && command is null)
            {
                Problem(At(cwdNode), "'cwd:' only applies to 'command:'.");
                ok = false;
            }
        }

        var envs = new List<KeyValuePair<string, Template>>();
        if (keys.TryGetValue("env", out var envNode))
        {
            if (envNode is not YamlMappingNode envMap)
            {
                Problem(At(envNode), "'env:' must be a mapping from variable name to value (a template).");
                ok = false;
            }
            else
            {
                foreach (var (keyNode, valueNode) in envMap.Children)
                {
                    var variable = String(keyNode, "variable name");
                    if (variable is not null && !EnvName().IsMatch(variable))
                    {
                        Problem(At(keyNode), $"'{variable}' is not an environment variable name: letters, digits and '_', not starting with a digit.");
                        variable = null;
                    }
                    var value = String(valueNode, "env value") is { } text ? TemplateOf(valueNode, text, allowEnv: false) : null;
                    if (variable is null || value is null) ok = false;
                    else envs.Add(new(variable, value));
                }
            }
        }

        var files = new List<E2BFileSpec>();
        if (keys.TryGetValue("files", out var filesNode))
        {
            if (filesNode is not YamlSequenceNode fileList || fileList.Children.Count > MaxSandboxFiles)
            {
                Problem(At(filesNode), $"'files:' takes a list of at most {MaxSandboxFiles} {{path, content}} mappings.");
                ok = false;
            }
            else
            {
                foreach (var item in fileList.Children)
                {
                    var f = Keys(item, "a file", ["path", "content"]);
                    if (f is null)
                    {
                        ok = false;
                        continue;
                    }
                    var path = f.TryGetValue("path", out var p) ? SandboxPath(p, "path") : Missing<string>(item, "The file has no 'path:'.");
                    var content = f.TryGetValue("content", out var c) && String(c, "content") is { } text
                        ? TemplateOf(c, text, allowEnv: false)
                        : Missing<Template>(item, "The file has no 'content:' (a template).");
                    if (path is null || content is null) ok = false;
                    else files.Add(new E2BFileSpec(path, content));
                }
            }
        }

        var download = new List<string>();
        if (keys.TryGetValue("download", out var downloadNode))
        {
            var items = downloadNode is YamlSequenceNode list ? list.Children.ToList() : [downloadNode];
            if (items.Count > MaxSandboxFiles)
            {
                Problem(At(downloadNode), $"'download:' names at most {MaxSandboxFiles} files.");
                ok = false;
            }
            foreach (var item in items)
            {
                if (SandboxPath(item, "download") is { } path) download.Add(path);
                else ok = false;
            }
        }

        var timeout = 60.0;
        if (keys.TryGetValue("timeout_seconds", out var timeoutNode))
        {
            if (Number(timeoutNode, "timeout_seconds", MinSeconds, MaxSandboxSeconds) is { } value) timeout = value;
            else ok = false;
        }
        var sandboxTimeout = Math.Max(300.0, Math.Ceiling(timeout) + 60);
        if (keys.TryGetValue("sandbox_timeout_seconds", out var sandboxNode))
        {
            if (Number(sandboxNode, "sandbox_timeout_seconds", 1, MaxSandboxSeconds) is { } value)
            {
                sandboxTimeout = value;
                if (value < timeout)
                {
                    Problem(At(sandboxNode), $"'sandbox_timeout_seconds' ({value}) is shorter than 'timeout_seconds' ({timeout}): the sandbox would be gone before the run ends.");
                    ok = false;
                }
            }
            else ok = false;
        }
        sandboxTimeout = Math.Min(sandboxTimeout, MaxSandboxSeconds);
        var allowErrors = false;
        if (keys.TryGetValue("allow_errors", out var allowNode))
        {
            if (Bool(allowNode, "allow_errors") is { } value) allowErrors = value;
            else ok = false;
        }
        return ok
            ? new E2BStepSpec(at, name, template, code, language, command, cwd, envs, files, download, timeout, sandboxTimeout, allowErrors)
            : null;
    }

    /// <summary>Identifiers as a list or a comma-separated text: <c>[id, status]</c> or <c>"id,status"</c>.</summary>
    private List<string>? Names(YamlNode node, string what)
    {
        if (node is YamlSequenceNode list)
        {
            var names = list.Children.Select(c => String(c, what)).ToList();
            return names.Any(n => n is null) ? null : names.Select(n => n!).ToList();
        }
        return String(node, what)?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).ToList();
    }

    /// <summary>An absolute path in the sandbox, written literally in the file.</summary>
    private string? SandboxPath(YamlNode node, string what)
    {
        if (String(node, what) is not { } path) return null;
        if (path.Contains("{{", StringComparison.Ordinal) || !path.StartsWith('/') || path.Length > MaxSandboxPathLength || path.Any(char.IsControl))
        {
            Problem(At(node), $"'{what}' must be an absolute path in the sandbox written literally (no template, no control character, at most {MaxSandboxPathLength} characters), such as /home/user/data.csv.");
            return null;
        }
        return path;
    }

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$")]
    private static partial Regex EnvName();

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$")]
    private static partial Regex TemplateId();
}
