using System.Diagnostics;

namespace TtaActors.Telemetry.Export;

/// <summary>
/// Finished spans taken from the intake queue together, with each span's estimated size (<see cref="SpanSize"/>).
/// Exporters share the arrays and each reads its first <see cref="Count"/> items (an exporter short of room gets a
/// shorter view of the same arrays); nobody writes to them.
/// </summary>
internal sealed record SpanBatch(long Sequence, Activity[] Items, int[] Sizes, int Count)
{
    /// <summary>The estimated size of this batch's <see cref="Count"/> spans.</summary>
    public long Bytes { get; } = BytesOf(Sizes, Count);

    public SpanBatch Take(int count) => count == Count ? this : new SpanBatch(Sequence, Items, Sizes, count);

    private static long BytesOf(int[] sizes, int count)
    {
        long bytes = 0;
        for (var i = 0; i < count; i++) bytes += sizes[i];
        return bytes;
    }
}
