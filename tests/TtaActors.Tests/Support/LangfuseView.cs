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
}
