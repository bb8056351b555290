using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using TtaActors.Telemetry;

namespace TtaActors.Actors.Execution;

/// <summary>
/// The counts of <c>primitive_executions_total</c>: one cell per label set (primitive name, type, status, persona, service),
/// incremented where an execution ends and read only when the SDK collects the observable counter. A counter's
/// <c>Add</c> would make the SDK hash the five label values of every execution once more, after the duration histogram's
/// <c>Record</c> already did; here an execution finds its cell among the few its node has used, by comparing strings that
/// are nearly always the same instances.
/// </summary>
/// <remarks>
/// Executions are counted while the instrument is enabled (a meter provider or listener takes it), as a counter's
/// measurements are recorded only then; a provider made later reads the totals counted so far. A cell lives as long as the
/// process, as the SDK's metric point of a counter does. Its label values are bounded where they come from: primitive names
/// and types by the definitions, personas by <see cref="LabelValueBound.Personas"/>, services by the node's workspaces.
/// </remarks>
internal static class ExecutionCounts
{
    /// <summary>How many cells a node remembers; an execution with a label set beyond them looks its cell up by hash.</summary>
    private const int CellsPerNode = 8;

    private static readonly ConcurrentDictionary<Labels, Cell> Cells = new();

    /// <summary>Every cell in the order it was first counted, the order the counter reports its series in (as a counter's metric points are).</summary>
    private static readonly List<Cell> InOrder = [];

    static ExecutionCounts() => TtaInstrumentation.ObservePrimitiveExecutions(Observe);

    /// <summary>Counts one execution of <paramref name="node"/> that ended with <paramref name="status"/>.</summary>
    public static void Increment(PrimitiveNode node, string status, string persona, string service)
    {
        var known = Volatile.Read(ref node.CountCells);
        foreach (var cell in known)
        {
            if (cell.Labels.Status == status && cell.Labels.Persona == persona && cell.Labels.Service == service)
            {
                Interlocked.Increment(ref cell.Value);
                return;
            }
        }
        var labels = new Labels(node.Name, node.TypeName, status, persona, service);
        if (!Cells.TryGetValue(labels, out var found)) found = Add(labels);
        // Losing a race only means the node looks this cell up by hash once more.
        if (known.Length < CellsPerNode) Interlocked.CompareExchange(ref node.CountCells, [.. known, found], known);
        Interlocked.Increment(ref found.Value);
    }

    private static Cell Add(Labels labels)
    {
        lock (InOrder)
        {
            if (Cells.TryGetValue(labels, out var existing)) return existing;
            var cell = new Cell(labels);
            InOrder.Add(cell);
            Cells[labels] = cell;
            return cell;
        }
    }

    private static IEnumerable<Measurement<long>> Observe()
    {
        Cell[] cells;
        lock (InOrder) cells = InOrder.ToArray();
        return cells.Select(cell => new Measurement<long>(Volatile.Read(ref cell.Value), cell.Tags));
    }

    internal readonly record struct Labels(string Name, string Type, string Status, string Persona, string Service);

    /// <summary>The count of one label set, and its labels as the counter reports them.</summary>
    internal sealed class Cell(Labels labels)
    {
        public readonly Labels Labels = labels;

        public readonly KeyValuePair<string, object?>[] Tags =
        [
            new(TelemetryNames.Labels.PrimitiveName, labels.Name),
            new(TelemetryNames.Labels.PrimitiveType, labels.Type),
            new(TelemetryNames.Labels.Status, labels.Status),
            new(TelemetryNames.Labels.Persona, labels.Persona),
            new(TelemetryNames.Labels.ServiceName, labels.Service),
        ];

        public long Value;
    }
}
