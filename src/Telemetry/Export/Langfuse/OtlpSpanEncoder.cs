using System.Diagnostics;
using Google.Protobuf;
using OpenTelemetry.Resources;

namespace TtaActors.Telemetry.Export.Langfuse;

/// <summary>
/// Encodes spans as OTLP protobuf (<c>opentelemetry/proto/trace/v1/trace.proto</c>, <c>ExportTraceServiceRequest</c>).
/// Each span becomes one self-contained <c>ScopeSpans</c> record, so spans can be kept, spooled to disk and packed
/// into requests of a bounded size without being encoded again. The trace fields Langfuse reads are added from the span's
/// contract attributes (<see cref="LangfuseAttributeMapping"/>).
/// </summary>
internal static class OtlpSpanEncoder
{
    private const long TicksPerNano = 100;
    private static readonly long UnixEpochTicks = DateTime.UnixEpoch.Ticks;

    /// <summary>One span with its instrumentation scope, as an encoded <c>ScopeSpans</c> message.</summary>
    public static byte[] EncodeScopeSpans(Activity activity) => Message(output =>
    {
        WriteMessage(output, 1, scope =>
        {
            WriteString(scope, 1, activity.Source.Name);
            if (!string.IsNullOrEmpty(activity.Source.Version)) WriteString(scope, 2, activity.Source.Version);
        });
        WriteMessage(output, 2, span => WriteSpan(span, activity));
    });

    /// <summary>An encoded <c>Resource</c> message.</summary>
    public static byte[] EncodeResource(Resource resource) => Message(output =>
    {
        foreach (var attribute in resource.Attributes) WriteAttribute(output, 1, attribute.Key, attribute.Value);
    });

    /// <summary>An <c>ExportTraceServiceRequest</c> of one <c>ResourceSpans</c> holding the given records.</summary>
    public static byte[] EncodeRequest(byte[] resource, IEnumerable<byte[]> scopeSpans) => Message(output =>
    {
        WriteMessage(output, 1, resourceSpans =>
        {
            WriteBytes(resourceSpans, 1, resource);
            foreach (var record in scopeSpans) WriteBytes(resourceSpans, 2, record);
        });
    });

    private static void WriteSpan(CodedOutputStream output, Activity activity)
    {
        var traceId = new byte[16];
        var spanId = new byte[8];
        activity.TraceId.CopyTo(traceId);
        activity.SpanId.CopyTo(spanId);
        WriteBytes(output, 1, traceId);
        WriteBytes(output, 2, spanId);
        if (!string.IsNullOrEmpty(activity.TraceStateString)) WriteString(output, 3, activity.TraceStateString);
        if (activity.ParentSpanId != default)
        {
            var parentId = new byte[8];
            activity.ParentSpanId.CopyTo(parentId);
            WriteBytes(output, 4, parentId);
        }
        WriteString(output, 5, activity.DisplayName);
        output.WriteTag(6, WireFormat.WireType.Varint);
        output.WriteEnum((int)activity.Kind + 1);
        var start = activity.StartTimeUtc.Ticks;
        output.WriteTag(7, WireFormat.WireType.Fixed64);
        output.WriteFixed64(UnixNanos(start));
        output.WriteTag(8, WireFormat.WireType.Fixed64);
        output.WriteFixed64(UnixNanos(start + activity.Duration.Ticks));
        foreach (var tag in activity.TagObjects)
        {
            if (tag.Value is not null) WriteAttribute(output, 9, LangfuseAttributeMapping.NameOf(tag.Key), tag.Value);
        }
        LangfuseAttributeMapping.AddDerived(activity, (key, value) => WriteAttribute(output, 9, key, value));
        foreach (var activityEvent in activity.Events)
        {
            WriteMessage(output, 11, e =>
            {
                e.WriteTag(1, WireFormat.WireType.Fixed64);
                e.WriteFixed64(UnixNanos(activityEvent.Timestamp.UtcTicks));
                WriteString(e, 2, activityEvent.Name);
                foreach (var tag in activityEvent.Tags)
                {
                    if (tag.Value is not null) WriteAttribute(e, 3, tag.Key, tag.Value);
                }
            });
        }
        foreach (var link in activity.Links)
        {
            WriteMessage(output, 13, l =>
            {
                var linkTrace = new byte[16];
                var linkSpan = new byte[8];
                link.Context.TraceId.CopyTo(linkTrace);
                link.Context.SpanId.CopyTo(linkSpan);
                WriteBytes(l, 1, linkTrace);
                WriteBytes(l, 2, linkSpan);
            });
        }
        if (activity.Status != ActivityStatusCode.Unset)
        {
            WriteMessage(output, 15, status =>
            {
                if (!string.IsNullOrEmpty(activity.StatusDescription)) WriteString(status, 2, activity.StatusDescription);
                status.WriteTag(3, WireFormat.WireType.Varint);
                status.WriteEnum(activity.Status == ActivityStatusCode.Ok ? 1 : 2);
            });
        }
    }

    private static void WriteAttribute(CodedOutputStream output, int field, string key, object value) =>
        WriteMessage(output, field, keyValue =>
        {
            WriteString(keyValue, 1, key);
            WriteMessage(keyValue, 2, any => WriteAnyValue(any, value));
        });

    private static void WriteAnyValue(CodedOutputStream output, object value)
    {
        switch (value)
        {
            case string s:
                WriteString(output, 1, s);
                break;
            case bool b:
                output.WriteTag(2, WireFormat.WireType.Varint);
                output.WriteBool(b);
                break;
            case int or long or short or byte or sbyte or ushort or uint:
                output.WriteTag(3, WireFormat.WireType.Varint);
                output.WriteInt64(Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture));
                break;
            case double or float or decimal:
                output.WriteTag(4, WireFormat.WireType.Fixed64);
                output.WriteDouble(Convert.ToDouble(value, System.Globalization.CultureInfo.InvariantCulture));
                break;
            case System.Collections.IEnumerable items:
                WriteMessage(output, 5, array =>
                {
                    foreach (var item in items)
                    {
                        if (item is not null) WriteMessage(array, 1, any => WriteAnyValue(any, item));
                    }
                });
                break;
            default:
                WriteString(output, 1, Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? "");
                break;
        }
    }

    private static ulong UnixNanos(long utcTicks) => (ulong)Math.Max(0, (utcTicks - UnixEpochTicks) * TicksPerNano);

    private static void WriteString(CodedOutputStream output, int field, string value)
    {
        output.WriteTag(field, WireFormat.WireType.LengthDelimited);
        output.WriteString(value);
    }

    private static void WriteBytes(CodedOutputStream output, int field, byte[] value)
    {
        output.WriteTag(field, WireFormat.WireType.LengthDelimited);
        output.WriteBytes(UnsafeByteOperations.UnsafeWrap(value));
    }

    private static void WriteMessage(CodedOutputStream output, int field, Action<CodedOutputStream> write) =>
        WriteBytes(output, field, Message(write));

    private static byte[] Message(Action<CodedOutputStream> write)
    {
        using var buffer = new MemoryStream();
        using (var output = new CodedOutputStream(buffer, leaveOpen: true))
        {
            write(output);
        }
        return buffer.ToArray();
    }
}
