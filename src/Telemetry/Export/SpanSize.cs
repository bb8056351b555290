using System.Collections;
using System.Diagnostics;

namespace TtaActors.Telemetry.Export;

/// <summary>
/// An estimate of the memory a finished span holds, for the pipeline's byte bound: strings count two bytes per
/// character (they are UTF-16 in memory), other attribute values eight, plus a fixed overhead for the span, each
/// attribute, event and link. It reads the span once, without allocating, on the thread that ended it.
/// </summary>
public static class SpanSize
{
    /// <summary>Ids, timestamps, kind, status, and the Activity object itself.</summary>
    internal const int SpanOverhead = 256;

    /// <summary>One attribute's slot: the key/value pair and its list node.</summary>
    internal const int TagOverhead = 32;

    /// <summary>An event's or a link's own fields: name or context, timestamp, its tag list.</summary>
    internal const int EntryOverhead = 48;

    /// <summary>The estimated bytes <paramref name="span"/> holds, capped at <see cref="int.MaxValue"/>.</summary>
    public static int Estimate(Activity span)
    {
        long size = SpanOverhead + Text(span.DisplayName) + Text(span.StatusDescription);
        if (!ReferenceEquals(span.DisplayName, span.OperationName)) size += Text(span.OperationName);
        foreach (ref readonly var tag in span.EnumerateTagObjects()) size += Tag(tag.Key, tag.Value);
        foreach (ref readonly var activityEvent in span.EnumerateEvents())
        {
            size += EntryOverhead + Text(activityEvent.Name);
            foreach (ref readonly var tag in activityEvent.EnumerateTagObjects()) size += Tag(tag.Key, tag.Value);
        }
        foreach (ref readonly var link in span.EnumerateLinks())
        {
            size += EntryOverhead;
            foreach (ref readonly var tag in link.EnumerateTagObjects()) size += Tag(tag.Key, tag.Value);
        }
        return (int)Math.Min(size, int.MaxValue);
    }

    private static long Tag(string key, object? value) => TagOverhead + Text(key) + Value(value);

    private static long Value(object? value) => value switch
    {
        null => 0,
        string text => Text(text),
        IEnumerable items => Items(items),
        _ => sizeof(long),
    };

    private static long Items(IEnumerable items)
    {
        long size = 0;
        foreach (var item in items) size += item is string text ? Text(text) : sizeof(long);
        return size;
    }

    private static int Text(string? text) => text is null ? 0 : text.Length * sizeof(char);
}
