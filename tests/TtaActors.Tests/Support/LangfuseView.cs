using System.Diagnostics;
using OpenTelemetry.Resources;
using TtaActors.Telemetry.Export.Langfuse;

namespace TtaActors.Tests.Support;

/// <summary>
/// A recorded span as the Langfuse exporter sends it: encoded by the exporter's own encoder (which adds the Langfuse
/// names of the trace fields) and read back with the independent <see cref="OtlpDecoder"/>. Specs that record spans
/// in process use it to check what Langfuse receives, since the workflow path sets contract attributes only.
/// </summary>
public static class LangfuseView
{
    /// <summary>The attributes Langfuse receives for <paramref name="span"/>.</summary>
    public static IReadOnlyDictionary<string, object?> Attributes(Activity span)
    {
        var request = OtlpSpanEncoder.EncodeRequest(OtlpSpanEncoder.EncodeResource(ResourceBuilder.CreateEmpty().Build()),
            [OtlpSpanEncoder.EncodeScopeSpans(span)]);
        return Assert.Single(OtlpDecoder.DecodeTraces(request)).Attributes;
    }

    /// <summary>
    /// Fails when any of <paramref name="spans"/> carries a Langfuse name (<c>langfuse.*</c>) in its attributes or its
    /// events': those are added by the Langfuse exporter, never by the execution path.
    /// </summary>
    public static void AssertNoLangfuseNames(IEnumerable<Activity> spans)
    {
        var named = spans
            .SelectMany(span => span.TagObjects.Select(t => (Span: span.DisplayName, t.Key))
                .Concat(span.Events.SelectMany(e => e.Tags.Select(t => (Span: $"{span.DisplayName} event {e.Name}", t.Key)))))
            .Where(t => t.Key.StartsWith("langfuse.", StringComparison.Ordinal))
            .Select(t => $"{t.Span}: {t.Key}")
            .ToList();
        Assert.True(named.Count == 0, "The execution path set Langfuse names: " + string.Join(", ", named));
    }
}
