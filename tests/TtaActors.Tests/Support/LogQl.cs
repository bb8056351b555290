using System.Text.RegularExpressions;

namespace TtaActors.Tests.Support;

/// <summary>One log entry as Loki stores it: a line and its stream's labels.</summary>
public sealed record LokiEntry(IReadOnlyDictionary<string, string> Labels, string Line);

/// <summary>
/// The part of LogQL the documented queries use, evaluated as Loki does: a stream selector (<c>=</c>, <c>!=</c>,
/// <c>=~</c>, <c>!~</c>; regular expressions fully anchored) followed by line filters (<c>|=</c>, <c>!=</c>, <c>|~</c>,
/// <c>!~</c>). Anything else in the query is refused, so a query this cannot read fails the test instead of matching.
/// </summary>
public sealed class LogQl
{
    private static readonly Regex Matcher = new(@"\G\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*""((?:[^""\\]|\\.)*)""\s*(,|\})");
    private static readonly Regex LineFilter = new(@"\G\s*(\|=|!=|\|~|!~)\s*""((?:[^""\\]|\\.)*)""");

    private readonly List<Func<IReadOnlyDictionary<string, string>, bool>> _selector = [];
    private readonly List<Func<string, bool>> _filters = [];

    public LogQl(string query)
    {
        var text = query.Trim();
        if (!text.StartsWith('{')) throw new FormatException($"'{query}': a LogQL query starts with a stream selector.");
        var at = 1;
        while (true)
        {
            var m = Matcher.Match(text, at);
            if (!m.Success) throw new FormatException($"'{query}': cannot read the label matcher at column {at + 1}.");
            var (name, op, value) = (m.Groups[1].Value, m.Groups[2].Value, Unescape(m.Groups[3].Value));
            _selector.Add(op switch
            {
                "=" => labels => Get(labels, name) == value,
                "!=" => labels => Get(labels, name) != value,
                "=~" => labels => Anchored(value).IsMatch(Get(labels, name)),
                _ => labels => !Anchored(value).IsMatch(Get(labels, name)),
            });
            at = m.Index + m.Length;
            if (m.Groups[4].Value == "}") break;
        }
        while (at < text.Length)
        {
            var m = LineFilter.Match(text, at);
            if (!m.Success) throw new FormatException($"'{query}': cannot read the line filter at column {at + 1}.");
            var (op, value) = (m.Groups[1].Value, Unescape(m.Groups[2].Value));
            _filters.Add(op switch
            {
                "|=" => line => line.Contains(value, StringComparison.Ordinal),
                "!=" => line => !line.Contains(value, StringComparison.Ordinal),
                "|~" => line => new Regex(value).IsMatch(line),
                _ => line => !new Regex(value).IsMatch(line),
            });
            at = m.Index + m.Length;
            while (at < text.Length && char.IsWhiteSpace(text[at])) at++;
        }
    }

    public bool Matches(LokiEntry entry) => _selector.All(s => s(entry.Labels)) && _filters.All(f => f(entry.Line));

    public IReadOnlyList<LokiEntry> Select(IEnumerable<LokiEntry> entries) => entries.Where(Matches).ToList();

    // A label a stream does not have matches as the empty string, as in Loki.
    private static string Get(IReadOnlyDictionary<string, string> labels, string name) => labels.TryGetValue(name, out var v) ? v : "";

    private static Regex Anchored(string pattern) => new($"^(?:{pattern})$");

    private static string Unescape(string value) => Regex.Replace(value, @"\\(.)", m => m.Groups[1].Value);
}
