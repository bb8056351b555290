using System.Diagnostics;

namespace TtaActors.Telemetry.Export;

/// <summary>
/// Finished spans taken from the intake queue together. Exporters share the array and each reads its first
/// <see cref="Count"/> items (an exporter short of room gets a shorter view of the same array); nobody writes to it.
/// </summary>
internal sealed record SpanBatch(long Sequence, Activity[] Items, int Count)
{
    public SpanBatch Take(int count) => count == Count ? this : this with { Count = count };
}
