using System.Diagnostics;
using System.Globalization;
using System.Text;
using TtaActors.Telemetry;

namespace TtaActors.Runtime.Cli;

/// <summary>Renders one trace as an indented tree: name, position, duration and status of every span.</summary>
public static class SpanTreePrinter
{
    private static readonly string[] Highlights =
    [
        TelemetryNames.Attributes.StepIndex, TelemetryNames.Attributes.BranchIndex, TelemetryNames.Attributes.RouterRoute,
        TelemetryNames.Attributes.RouterUsedDefault, TelemetryNames.Attributes.RetryAttempt, TelemetryNames.Attributes.Persona,
    ];

    /// <summary>The spans as an indented tree, one line per span, children under their parent.</summary>
    public static string Render(IReadOnlyList<Activity> spans)
    {
        var ids = spans.Select(s => s.SpanId).ToHashSet();
        var children = spans.ToLookup(s => s.ParentSpanId);
        var roots = spans.Where(s => !ids.Contains(s.ParentSpanId)).OrderBy(s => s.StartTimeUtc);
        var text = new StringBuilder();
        foreach (var root in roots) Append(text, root, children, "", "", isRoot: true);
        return text.ToString();
    }

    private static void Append(StringBuilder text, Activity span, ILookup<ActivitySpanId, Activity> children, string indent,
        string branch, bool isRoot)
    {
        text.Append(indent).Append(branch).Append(span.DisplayName);
        var details = Highlights
            .Select(key => (key, value: span.GetTagItem(key)))
            .Where(t => t.value is not null && (t.key != TelemetryNames.Attributes.Persona || isRoot))
            .Select(t => $"{t.key}={Format(t.value)}")
            .ToList();
        if (details.Count > 0) text.Append(" [").Append(string.Join(", ", details)).Append(']');
        text.Append("  ").Append(span.Duration.TotalMilliseconds.ToString("0.0", CultureInfo.InvariantCulture)).Append(" ms  ");
        text.Append(span.Status == ActivityStatusCode.Error ? $"error: {span.StatusDescription}" : "ok");
        text.AppendLine();

        // Steps and branches in their definition order; concurrent branches may start in any order.
        var nested = children[span.SpanId].OrderBy(Position).ThenBy(s => s.StartTimeUtc).ToList();
        var childIndent = isRoot ? indent : indent + (branch == "└─ " ? "   " : "│  ");
        for (var i = 0; i < nested.Count; i++)
        {
            Append(text, nested[i], children, childIndent, i == nested.Count - 1 ? "└─ " : "├─ ", isRoot: false);
        }
    }

    private static int Position(Activity span) =>
        span.GetTagItem(TelemetryNames.Attributes.StepIndex) as int?
        ?? span.GetTagItem(TelemetryNames.Attributes.BranchIndex) as int?
        ?? int.MaxValue;

    private static string Format(object? value) => value switch
    {
        bool b => b ? "true" : "false",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value?.ToString() ?? "",
    };
}
