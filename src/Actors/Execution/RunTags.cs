using System.Collections.Immutable;
using System.Runtime.CompilerServices;

namespace TtaActors.Actors.Execution;

/// <summary>
/// A context's tags as the <c>workflow.tags</c> span attribute (<c>key:value</c>, or <c>key</c> when the value is empty,
/// ordered by key). Contexts share their tag dictionary across hops, so the array is built once per dictionary, not once per span.
/// </summary>
internal static class RunTags
{
    private static readonly ConditionalWeakTable<ImmutableDictionary<string, string>, string[]> Cache = new();

    public static string[]? Of(ImmutableDictionary<string, string> tags)
    {
        if (tags.IsEmpty) return null;
        return Cache.GetValue(tags, static t =>
            t.OrderBy(p => p.Key, StringComparer.Ordinal)
                .Select(p => string.IsNullOrEmpty(p.Value) ? p.Key : $"{p.Key}:{p.Value}")
                .ToArray());
    }
}
