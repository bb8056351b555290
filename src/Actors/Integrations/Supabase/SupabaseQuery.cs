using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using TtaActors.Actors.Context;

namespace TtaActors.Actors.Integrations.Supabase;

/// <summary>What a Supabase step does with its table (or function).</summary>
public enum SupabaseOperation
{
    /// <summary>Reads rows (GET).</summary>
    Select,

    /// <summary>Inserts rows (POST).</summary>
    Insert,

    /// <summary>Inserts or merges rows on a unique key (POST with <c>resolution=merge-duplicates</c>).</summary>
    Upsert,

    /// <summary>Changes the filtered rows (PATCH).</summary>
    Update,

    /// <summary>Deletes the filtered rows (DELETE).</summary>
    Delete,

    /// <summary>Calls a PostgreSQL function (POST <c>/rpc/{name}</c>).</summary>
    Rpc,
}

/// <summary>A value a run supplies to a query: a filter's operand or the body. It never shapes the URL, only fills a value.</summary>
public delegate JsonNode? SupabaseValue(object? input, WorkflowContext context);

/// <summary>
/// One PostgREST horizontal filter, <c>column=[not.]operator.value</c>. The column and operator are fixed by the
/// definition; the value comes from the run and is percent-encoded as one query value.
/// </summary>
public sealed record SupabaseFilter(string Column, string Operator, SupabaseValue Value, bool Negate = false)
{
    /// <summary>The PostgREST operators a filter may use.</summary>
    public static readonly IReadOnlyList<string> Operators = ["eq", "neq", "gt", "gte", "lt", "lte", "like", "ilike", "is", "in"];

    /// <summary>The values <c>is</c> compares with.</summary>
    public static readonly IReadOnlyList<string> IsValues = ["null", "true", "false", "unknown"];

    /// <summary>A filter whose value is <paramref name="value"/> for every run.</summary>
    public static SupabaseFilter Constant(string column, string op, JsonNode? value, bool negate = false) =>
        new(column, op, (_, _) => value?.DeepClone(), negate);
}

/// <summary>One <c>order</c> term: a column, its direction and where nulls go (PostgREST's default when null).</summary>
public sealed record SupabaseOrder(string Column, bool Descending = false, bool? NullsFirst = null)
{
    internal string Render() =>
        Column + (Descending ? ".desc" : ".asc") + NullsFirst switch { true => ".nullsfirst", false => ".nullslast", null => "" };
}

/// <summary>
/// A call to Supabase's data API (PostgREST under <c>{SUPABASE_URL}/rest/v1</c>), as a workflow defines it: the
/// table or function, the columns, the filter columns and operators, the order, limits and preferences. All of these
/// are identifiers and numbers checked when the query is made; a run only supplies filter values and the body.
/// </summary>
public sealed partial record SupabaseQuery
{
    /// <summary>PostgreSQL's identifier length (NAMEDATALEN - 1).</summary>
    public const int MaxIdentifierLength = 63;
    /// <summary>The largest <see cref="Limit"/> and <see cref="Offset"/>.</summary>
    public const int MaxLimit = 1_000_000;
    /// <summary>The values <see cref="Count"/> may take.</summary>
    public static readonly IReadOnlyList<string> CountModes = ["exact", "planned", "estimated"];

    /// <summary>What the call does.</summary>
    public required SupabaseOperation Operation { get; init; }

    /// <summary>The table or view; for <see cref="SupabaseOperation.Rpc"/>, the function.</summary>
    public required string Target { get; init; }

    /// <summary>The columns to return (<c>select=</c>); empty returns every column.</summary>
    public IReadOnlyList<string> Columns { get; init; } = [];

    /// <summary>The filters, all of which a row must match.</summary>
    public IReadOnlyList<SupabaseFilter> Filters { get; init; } = [];
    /// <summary>The order of the rows, first term first.</summary>
    public IReadOnlyList<SupabaseOrder> Order { get; init; } = [];
    /// <summary>Rows answered at most; null for PostgREST's limit.</summary>
    public int? Limit { get; init; }
    /// <summary>Rows skipped before the first answered.</summary>
    public int? Offset { get; init; }

    /// <summary>Rows to insert, upsert or update, or the function's arguments; null sends the step's input.</summary>
    public SupabaseValue? Body { get; init; }

    /// <summary>Writes answer with the rows they wrote (<c>Prefer: return=representation</c>); false answers nothing (<c>return=minimal</c>).</summary>
    public bool ReturnRows { get; init; } = true;

    /// <summary><c>Prefer: count=exact|planned|estimated</c>: the total is read from <c>Content-Range</c>.</summary>
    public string? Count { get; init; }

    /// <summary>The unique columns an upsert resolves on (<c>on_conflict=</c>); none uses the primary key.</summary>
    public IReadOnlyList<string> OnConflict { get; init; } = [];

    /// <summary>An upsert keeps existing rows instead of merging (<c>resolution=ignore-duplicates</c>).</summary>
    public bool IgnoreDuplicates { get; init; }

    /// <summary>An update or delete without a filter changes every row; it is refused unless this is set.</summary>
    public bool AllowUnfiltered { get; init; }

    /// <summary>A schema other than the project's default (<c>Accept-Profile</c>/<c>Content-Profile</c>); it must be exposed by the project.</summary>
    public string? Schema { get; init; }

    /// <summary>The operation's name in spans: select, insert, upsert, update, delete or rpc.</summary>
    public string OperationName => Operation.ToString().ToLowerInvariant();

    /// <summary>The HTTP method of <see cref="Operation"/>.</summary>
    public HttpMethod Method => Operation switch
    {
        SupabaseOperation.Select => HttpMethod.Get,
        SupabaseOperation.Update => HttpMethod.Patch,
        SupabaseOperation.Delete => HttpMethod.Delete,
        _ => HttpMethod.Post,
    };

    /// <summary>Whether the operation sends a body (insert, upsert, update, rpc).</summary>
    public bool SendsBody => Operation is SupabaseOperation.Insert or SupabaseOperation.Upsert or SupabaseOperation.Update or SupabaseOperation.Rpc;

    /// <summary>Every problem of the definition, each naming the part and the fix; empty when the query can run.</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        Identifier(Target, Operation == SupabaseOperation.Rpc ? "function" : "table", problems);
        if (Schema is not null) Identifier(Schema, "schema", problems);
        foreach (var column in Columns)
        {
            if (column != "*") Identifier(column, "column", problems);
        }
        foreach (var filter in Filters)
        {
            Identifier(filter.Column, "filter column", problems);
            if (!SupabaseFilter.Operators.Contains(filter.Operator))
                problems.Add($"Filter operator '{filter.Operator}' on '{filter.Column}' is not one of {string.Join(", ", SupabaseFilter.Operators)}.");
        }
        foreach (var order in Order) Identifier(order.Column, "order column", problems);
        foreach (var column in OnConflict) Identifier(column, "on_conflict column", problems);
        if (Limit is < 0 or > MaxLimit) problems.Add($"limit must be from 0 to {MaxLimit}; found {Limit}.");
        if (Offset is < 0 or > int.MaxValue) problems.Add($"offset must be 0 or more; found {Offset}.");
        if (Count is not null && !CountModes.Contains(Count)) problems.Add($"count must be one of {string.Join(", ", CountModes)}; found '{Count}'.");
        if (Operation is SupabaseOperation.Update or SupabaseOperation.Delete && Filters.Count == 0 && !AllowUnfiltered)
            problems.Add($"A {OperationName} without a filter changes every row of '{Target}'; add a filter, or set allow_unfiltered (AllowUnfiltered) if that is what you mean.");
        if (Operation != SupabaseOperation.Upsert && (OnConflict.Count > 0 || IgnoreDuplicates))
            problems.Add("on_conflict and ignore_duplicates only apply to an upsert.");
        return problems;
    }

    /// <summary>The request target under <c>/rest/v1/</c> for these filter values: the path and the query string.</summary>
    internal string RelativeTarget(IReadOnlyList<JsonNode?> filterValues)
    {
        var target = new StringBuilder(Operation == SupabaseOperation.Rpc ? "rpc/" + Target : Target);
        var first = true;
        void Add(string name, string value)
        {
            target.Append(first ? '?' : '&').Append(name).Append('=').Append(value);
            first = false;
        }

        if (Columns.Count > 0) Add("select", string.Join(',', Columns));
        else if (Operation == SupabaseOperation.Select) Add("select", "*");
        for (var i = 0; i < Filters.Count; i++)
        {
            var filter = Filters[i];
            Add(filter.Column, (filter.Negate ? "not." : "") + filter.Operator + "." + Uri.EscapeDataString(Operand(filter, filterValues[i])));
        }
        if (Order.Count > 0) Add("order", string.Join(',', Order.Select(o => o.Render())));
        if (Limit is { } limit) Add("limit", limit.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (Offset is { } offset) Add("offset", offset.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (OnConflict.Count > 0) Add("on_conflict", string.Join(',', OnConflict));
        return target.ToString();
    }

    /// <summary>The <c>Prefer</c> header, or null.</summary>
    internal string? Prefer()
    {
        var parts = new List<string>();
        if (Operation == SupabaseOperation.Upsert) parts.Add(IgnoreDuplicates ? "resolution=ignore-duplicates" : "resolution=merge-duplicates");
        if (Operation is not (SupabaseOperation.Select or SupabaseOperation.Rpc)) parts.Add(ReturnRows ? "return=representation" : "return=minimal");
        if (Count is not null) parts.Add("count=" + Count);
        return parts.Count == 0 ? null : string.Join(',', parts);
    }

    /// <summary>The operand as PostgREST reads it, before percent-encoding; throws naming the filter when the value cannot be one.</summary>
    private static string Operand(SupabaseFilter filter, JsonNode? value)
    {
        var where = $"filter '{filter.Column} {filter.Operator}'";
        switch (filter.Operator)
        {
            case "is":
            {
                var text = value is null ? "null" : Scalar(value, where).ToLowerInvariant();
                if (!SupabaseFilter.IsValues.Contains(text))
                    throw new ArgumentException($"The value of {where} must be one of {string.Join(", ", SupabaseFilter.IsValues)}; found '{Bounded(text)}'.");
                return text;
            }
            case "in":
            {
                IEnumerable<JsonNode?> items = value switch
                {
                    JsonArray array => array,
                    null => throw new ArgumentException($"The value of {where} is missing; give a list of values."),
                    _ => [value],
                };
                // Each item is quoted, so commas, parentheses and quotes in a value stay inside it.
                return "(" + string.Join(',', items.Select(item => Quote(item is null
                    ? throw new ArgumentException($"A value of {where} is null; PostgREST's in() cannot match null (use a separate 'is' filter).")
                    : Scalar(item, where)))) + ")";
            }
            default:
                if (value is null)
                    throw new ArgumentException($"The value of {where} is missing (null); the request was not sent. To match null, use the operator 'is'.");
                return Scalar(value, where);
        }
    }

    private static string Scalar(JsonNode value, string where) => value switch
    {
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        JsonValue v => v.ToJsonString(),
        _ => throw new ArgumentException($"The value of {where} is {(value is JsonArray ? "a list" : "an object")}; it needs a text, a number or a boolean."),
    };

    private static string Quote(string text) => "\"" + text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";

    private static string Bounded(string text) => text.Length > 40 ? text[..40] + "..." : text;

    private static void Identifier(string name, string what, List<string> problems)
    {
        if (name.Length is 0 or > MaxIdentifierLength || !IdentifierPattern().IsMatch(name))
            problems.Add($"The {what} '{Bounded(name)}' is not a plain identifier: use letters, digits and '_' (not starting with a digit), at most {MaxIdentifierLength} characters.");
    }

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$")]
    private static partial Regex IdentifierPattern();
}
