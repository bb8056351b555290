using System.Text;

namespace TtaActors.Tests.Support;

/// <summary>A span as decoded from an OTLP <c>ExportTraceServiceRequest</c>.</summary>
public sealed record OtlpSpan(
    string TraceId,
    string SpanId,
    string ParentSpanId,
    string Name,
    int Kind,
    ulong StartUnixNano,
    ulong EndUnixNano,
    IReadOnlyDictionary<string, object?> Attributes,
    IReadOnlyList<OtlpEvent> Events,
    int StatusCode,
    string StatusMessage,
    IReadOnlyDictionary<string, object?> Resource,
    string ScopeName);

public sealed record OtlpEvent(string Name, IReadOnlyDictionary<string, object?> Attributes);

/// <summary>
/// Decodes OTLP trace payloads straight from the protobuf wire format, written from the OTLP .proto field numbers
/// and sharing no code with any exporter, so tests check what is on the wire rather than what the exporter meant.
/// </summary>
public static class OtlpDecoder
{
    /// <summary>Decodes an OTLP/HTTP protobuf body (an <c>ExportTraceServiceRequest</c>).</summary>
    public static IReadOnlyList<OtlpSpan> DecodeTraces(ReadOnlySpan<byte> request)
    {
        var spans = new List<OtlpSpan>();
        var reader = new WireReader(request.ToArray());
        while (reader.Next(out var field, out var wire))
        {
            if (field == 1 && wire == 2) DecodeResourceSpans(reader.Bytes(), spans);
            else reader.Skip(wire);
        }
        return spans;
    }

    /// <summary>Decodes a gRPC message frame (1 byte compressed flag, 4 bytes big-endian length, message).</summary>
    public static IReadOnlyList<OtlpSpan> DecodeGrpcTraces(ReadOnlySpan<byte> frame)
    {
        if (frame.Length < 5) throw new FormatException("A gRPC frame has at least 5 bytes.");
        if (frame[0] != 0) throw new FormatException("Compressed gRPC frames are not supported by this decoder.");
        var length = (frame[1] << 24) | (frame[2] << 16) | (frame[3] << 8) | frame[4];
        return DecodeTraces(frame.Slice(5, length));
    }

    private static void DecodeResourceSpans(byte[] bytes, List<OtlpSpan> spans)
    {
        var resource = new Dictionary<string, object?>();
        var scopes = new List<byte[]>();
        var reader = new WireReader(bytes);
        while (reader.Next(out var field, out var wire))
        {
            switch (field, wire)
            {
                case (1, 2):
                    var resourceReader = new WireReader(reader.Bytes());
                    while (resourceReader.Next(out var f, out var w))
                    {
                        if (f == 1 && w == 2) AddKeyValue(resourceReader.Bytes(), resource);
                        else resourceReader.Skip(w);
                    }
                    break;
                case (2, 2):
                    scopes.Add(reader.Bytes());
                    break;
                default:
                    reader.Skip(wire);
                    break;
            }
        }
        foreach (var scope in scopes) DecodeScopeSpans(scope, resource, spans);
    }

    private static void DecodeScopeSpans(byte[] bytes, IReadOnlyDictionary<string, object?> resource, List<OtlpSpan> spans)
    {
        var scopeName = "";
        var raw = new List<byte[]>();
        var reader = new WireReader(bytes);
        while (reader.Next(out var field, out var wire))
        {
            switch (field, wire)
            {
                case (1, 2):
                    var scopeReader = new WireReader(reader.Bytes());
                    while (scopeReader.Next(out var f, out var w))
                    {
                        if (f == 1 && w == 2) scopeName = Encoding.UTF8.GetString(scopeReader.Bytes());
                        else scopeReader.Skip(w);
                    }
                    break;
                case (2, 2):
                    raw.Add(reader.Bytes());
                    break;
                default:
                    reader.Skip(wire);
                    break;
            }
        }
        foreach (var span in raw) spans.Add(DecodeSpan(span, resource, scopeName));
    }

    private static OtlpSpan DecodeSpan(byte[] bytes, IReadOnlyDictionary<string, object?> resource, string scopeName)
    {
        string traceId = "", spanId = "", parent = "", name = "", statusMessage = "";
        int kind = 0, statusCode = 0;
        ulong start = 0, end = 0;
        var attributes = new Dictionary<string, object?>();
        var events = new List<OtlpEvent>();
        var reader = new WireReader(bytes);
        while (reader.Next(out var field, out var wire))
        {
            switch (field, wire)
            {
                case (1, 2): traceId = Convert.ToHexStringLower(reader.Bytes()); break;
                case (2, 2): spanId = Convert.ToHexStringLower(reader.Bytes()); break;
                case (4, 2): parent = Convert.ToHexStringLower(reader.Bytes()); break;
                case (5, 2): name = Encoding.UTF8.GetString(reader.Bytes()); break;
                case (6, 0): kind = (int)reader.Varint(); break;
                case (7, 1): start = reader.Fixed64(); break;
                case (8, 1): end = reader.Fixed64(); break;
                case (9, 2): AddKeyValue(reader.Bytes(), attributes); break;
                case (11, 2): events.Add(DecodeEvent(reader.Bytes())); break;
                case (15, 2):
                    var statusReader = new WireReader(reader.Bytes());
                    while (statusReader.Next(out var f, out var w))
                    {
                        if (f == 2 && w == 2) statusMessage = Encoding.UTF8.GetString(statusReader.Bytes());
                        else if (f == 3 && w == 0) statusCode = (int)statusReader.Varint();
                        else statusReader.Skip(w);
                    }
                    break;
                default: reader.Skip(wire); break;
            }
        }
        return new OtlpSpan(traceId, spanId, parent, name, kind, start, end, attributes, events, statusCode, statusMessage, resource, scopeName);
    }

    private static OtlpEvent DecodeEvent(byte[] bytes)
    {
        var name = "";
        var attributes = new Dictionary<string, object?>();
        var reader = new WireReader(bytes);
        while (reader.Next(out var field, out var wire))
        {
            if (field == 2 && wire == 2) name = Encoding.UTF8.GetString(reader.Bytes());
            else if (field == 3 && wire == 2) AddKeyValue(reader.Bytes(), attributes);
            else reader.Skip(wire);
        }
        return new OtlpEvent(name, attributes);
    }

    private static void AddKeyValue(byte[] bytes, Dictionary<string, object?> into)
    {
        string key = "";
        object? value = null;
        var reader = new WireReader(bytes);
        while (reader.Next(out var field, out var wire))
        {
            if (field == 1 && wire == 2) key = Encoding.UTF8.GetString(reader.Bytes());
            else if (field == 2 && wire == 2) value = DecodeAnyValue(reader.Bytes());
            else reader.Skip(wire);
        }
        into[key] = value;
    }

    private static object? DecodeAnyValue(byte[] bytes)
    {
        object? value = null;
        var reader = new WireReader(bytes);
        while (reader.Next(out var field, out var wire))
        {
            switch (field, wire)
            {
                case (1, 2): value = Encoding.UTF8.GetString(reader.Bytes()); break;
                case (2, 0): value = reader.Varint() != 0; break;
                case (3, 0): value = (long)reader.Varint(); break;
                case (4, 1): value = BitConverter.Int64BitsToDouble((long)reader.Fixed64()); break;
                case (5, 2):
                    var items = new List<object?>();
                    var arrayReader = new WireReader(reader.Bytes());
                    while (arrayReader.Next(out var f, out var w))
                    {
                        if (f == 1 && w == 2) items.Add(DecodeAnyValue(arrayReader.Bytes()));
                        else arrayReader.Skip(w);
                    }
                    value = items;
                    break;
                case (6, 2):
                    var map = new Dictionary<string, object?>();
                    var listReader = new WireReader(reader.Bytes());
                    while (listReader.Next(out var f, out var w))
                    {
                        if (f == 1 && w == 2) AddKeyValue(listReader.Bytes(), map);
                        else listReader.Skip(w);
                    }
                    value = map;
                    break;
                case (7, 2): value = reader.Bytes(); break;
                default: reader.Skip(wire); break;
            }
        }
        return value;
    }

    /// <summary>The protobuf wire format: varint tags, then varint, fixed64, length-delimited or fixed32 values.</summary>
    private sealed class WireReader(byte[] buffer)
    {
        private int _position;

        public bool Next(out int field, out int wire)
        {
            if (_position >= buffer.Length)
            {
                field = wire = 0;
                return false;
            }
            var tag = Varint();
            field = (int)(tag >> 3);
            wire = (int)(tag & 7);
            return true;
        }

        public ulong Varint()
        {
            ulong result = 0;
            for (var shift = 0; shift < 64; shift += 7)
            {
                if (_position >= buffer.Length) throw new FormatException("Truncated varint.");
                var b = buffer[_position++];
                result |= (ulong)(b & 0x7f) << shift;
                if ((b & 0x80) == 0) return result;
            }
            throw new FormatException("Varint longer than 10 bytes.");
        }

        public ulong Fixed64()
        {
            var value = BitConverter.ToUInt64(buffer, _position);
            _position += 8;
            return value;
        }

        public byte[] Bytes()
        {
            var length = (int)Varint();
            if (_position + length > buffer.Length) throw new FormatException("Length-delimited field runs past the end.");
            var bytes = buffer.AsSpan(_position, length).ToArray();
            _position += length;
            return bytes;
        }

        public void Skip(int wire)
        {
            switch (wire)
            {
                case 0: Varint(); break;
                case 1: _position += 8; break;
                case 2:
                    var length = (int)Varint(); // read before adding: `_position += Varint()` would add to the old position
                    _position += length;
                    break;
                case 5: _position += 4; break;
                default: throw new FormatException($"Unknown wire type {wire}.");
            }
        }
    }
}
