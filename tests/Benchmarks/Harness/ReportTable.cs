using System.Text;

namespace TtaActors.Benchmarks.Harness;

/// <summary>The readable form of the measurements: one row each, then the derived figures.</summary>
public static class ReportTable
{
    public static string Render(IReadOnlyList<Measurement> measurements, IReadOnlyList<string> notes)
    {
        var header = new[] { "scenario", "impl", "traced", "callers", "runs/s", "steps/s", "p50 us", "p99 us", "mean us", "in flight", "alloc B/run", "cpu us/run" };
        var rows = measurements.Select(m => new[]
        {
            m.Scenario, m.Impl, m.Traced ? "yes" : "no", m.Concurrency.ToString(),
            Measurement.Format(m.WorkflowsPerSecond), Measurement.Format(m.StepsPerSecond),
            Measurement.Format(m.P50Microseconds), Measurement.Format(m.P99Microseconds),
            Measurement.Format(m.MeanMicroseconds), Measurement.Format(m.InFlight), Measurement.Format(m.AllocatedBytesPerRun),
            Measurement.Format(m.ProcessorMicrosecondsPerRun),
        }).ToList();
        var widths = header.Select((h, i) => Math.Max(h.Length, rows.Count == 0 ? 0 : rows.Max(r => r[i].Length))).ToArray();

        var text = new StringBuilder();
        text.AppendLine(Line(header, widths));
        text.AppendLine(Line(widths.Select(w => new string('-', w)).ToArray(), widths, separator: "|"));
        foreach (var row in rows) text.AppendLine(Line(row, widths));
        if (notes.Count > 0)
        {
            text.AppendLine();
            foreach (var note in notes) text.AppendLine($"- {note}");
        }
        return text.ToString();
    }

    // Markdown table: text columns left-aligned, numbers right-aligned.
    private static string Line(string[] cells, int[] widths, string separator = "|") =>
        separator + " " + string.Join(" " + separator + " ", cells.Select((c, i) => i < 4 ? c.PadRight(widths[i]) : c.PadLeft(widths[i]))) + " " + separator;
}
