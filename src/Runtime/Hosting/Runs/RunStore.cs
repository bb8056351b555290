using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using TtaActors.Telemetry;

namespace TtaActors.Runtime.Runs;

/// <summary>The bounds of the runs a node keeps for <c>GET /runs/{id}</c>.</summary>
public sealed record RunStoreLimits
{
    /// <summary><see cref="MaxBytes"/> when not set: 64 MiB.</summary>
    public const long DefaultMaxBytes = 64L * 1024 * 1024;
    /// <summary><see cref="MaxRuns"/> when not set.</summary>
    public const int DefaultMaxRuns = 10_000;
    /// <summary><see cref="MaxOutputBytes"/> when not set: 1 MiB.</summary>
    public const long DefaultMaxOutputBytes = 1024 * 1024;

    /// <summary><c>TTA_RUN_STORE_MAX_BYTES</c>: inputs of running runs plus outputs of finished ones, as UTF-8 JSON, plus <see cref="RunStore.RecordOverheadBytes"/> per run.</summary>
    public long MaxBytes { get; init; } = DefaultMaxBytes;

    /// <summary><c>TTA_RUN_STORE_MAX_RUNS</c>: the most runs kept, whatever their size.</summary>
    public int MaxRuns { get; init; } = DefaultMaxRuns;

    /// <summary><c>TTA_RUN_OUTPUT_MAX_BYTES</c>: a larger output is not kept; the stored run shows a marker saying so.</summary>
    public long MaxOutputBytes { get; init; } = DefaultMaxOutputBytes;
}

/// <summary>A run as the store keeps it: the record without its output object, the output as UTF-8 JSON, and what it is charged.</summary>
public sealed record StoredRun(RunRecord Record, byte[]? OutputJson, long Bytes)
{
    /// <summary>The output parsed back from its JSON; null when there is none.</summary>
    public JsonNode? Output => OutputJson is null ? null
        : JsonNode.Parse(OutputJson, documentOptions: new System.Text.Json.JsonDocumentOptions { MaxDepth = Workflows.JsonData.MaxOutputDepth + 8 });
}

/// <summary>
/// The latest runs of a node, bounded by count and by bytes: when either bound is passed the oldest runs are evicted
/// (counted in <c>run_store_evicted_total{reason}</c>), so memory stays flat however large the runs are.
/// </summary>
public sealed class RunStore(RunStoreLimits limits)
{
    /// <summary>What one run costs beyond its JSON: the record, its ids and timestamps, the dictionary and queue slots.</summary>
    public const long RecordOverheadBytes = 1024;

    private readonly Dictionary<string, StoredRun> _runs = new(StringComparer.Ordinal);
    private readonly Queue<string> _order = new();
    private readonly Lock _lock = new();
    private long _bytes;

    /// <summary>The store's bounds.</summary>
    public RunStoreLimits Limits { get; } = limits;

    /// <summary>The bytes charged for the runs kept now; never above <see cref="RunStoreLimits.MaxBytes"/>.</summary>
    public long Bytes
    {
        get { lock (_lock) return _bytes; }
    }

    /// <summary>Runs kept now.</summary>
    public int Count
    {
        get { lock (_lock) return _runs.Count; }
    }

    /// <summary>The run <paramref name="runId"/>; null when unknown or evicted.</summary>
    public StoredRun? Get(string runId)
    {
        lock (_lock) return _runs.GetValueOrDefault(runId);
    }

    /// <summary>The kept runs that match, newest first, at most <paramref name="max"/> (for <c>GET /runs</c>).</summary>
    public IReadOnlyList<StoredRun> Recent(Func<RunRecord, bool> match, int max)
    {
        var found = new List<StoredRun>();
        lock (_lock)
            foreach (var id in _order.Reverse())
            {
                if (found.Count >= max) break;
                if (_runs.TryGetValue(id, out var run) && match(run.Record)) found.Add(run);
            }
        return found;
    }

    /// <summary>Keeps a run that has started; <paramref name="inputBytes"/> is charged while it runs.</summary>
    public StoredRun Started(RunRecord record, long inputBytes) => Put(new StoredRun(record with { Output = null }, null, Charge(record, inputBytes)));

    /// <summary>Replaces a run by its final record; its output is kept as JSON, or as a marker when it is too large.</summary>
    public StoredRun Finished(RunRecord record)
    {
        var output = OutputJson(record);
        return Put(new StoredRun(record with { Output = null }, output, Charge(record, output?.LongLength ?? 0)));
    }

    /// <summary>The UTF-8 JSON size of <paramref name="value"/>, counted without building the text.</summary>
    public static long JsonBytes(JsonNode? value)
    {
        if (value is null) return 0;
        using var counter = new CountingStream();
        using (var writer = new Utf8JsonWriter(counter)) value.WriteTo(writer);
        return counter.Length;
    }

    private byte[]? OutputJson(RunRecord record)
    {
        if (record.Output is null) return null;
        string text;
        try
        {
            text = Workflows.JsonData.Serialize(record.Output);
        }
        catch (Exception error) when (error is JsonException or InvalidOperationException or NotSupportedException)
        {
            return Marker(record, $"The output of run {record.RunId} cannot be written as JSON ({error.Message}); it is not kept.");
        }
        var bytes = Encoding.UTF8.GetByteCount(text);
        if (bytes <= Limits.MaxOutputBytes) return Encoding.UTF8.GetBytes(text);
        return Marker(record,
            $"The output of run {record.RunId} is {bytes} bytes, more than the {Limits.MaxOutputBytes} bytes a stored run keeps " +
            "(TTA_RUN_OUTPUT_MAX_BYTES); it was answered to the caller that waited for it but is not kept. Raise the limit or return less.",
            bytes);
    }

    private byte[] Marker(RunRecord record, string message, long? bytes = null)
    {
        var marker = new JsonObject { ["truncated"] = true, ["message"] = message, ["limit"] = Limits.MaxOutputBytes };
        if (bytes is { } size) marker["bytes"] = size;
        return JsonSerializer.SerializeToUtf8Bytes(marker);
    }

    private static long Charge(RunRecord record, long jsonBytes) =>
        RecordOverheadBytes + jsonBytes + 2L * ((record.Error?.Message.Length ?? 0) + (record.Error?.PrimitivePath.Length ?? 0));

    private StoredRun Put(StoredRun run)
    {
        var id = run.Record.RunId;
        lock (_lock)
        {
            if (_runs.TryGetValue(id, out var previous)) _bytes -= previous.Bytes;
            else _order.Enqueue(id);
            _runs[id] = run;
            _bytes += run.Bytes;
            while (_order.Count > 0 && (_runs.Count > Limits.MaxRuns || _bytes > Limits.MaxBytes))
            {
                var reason = _runs.Count > Limits.MaxRuns ? RunStoreEvictionReasons.Count : RunStoreEvictionReasons.Bytes;
                var oldest = _order.Dequeue();
                if (!_runs.Remove(oldest, out var evicted)) continue;
                _bytes -= evicted.Bytes;
                TtaInstrumentation.RunsEvicted.Add(1, new KeyValuePair<string, object?>(TelemetryNames.Labels.Reason, reason));
            }
        }
        return run;
    }

    private sealed class CountingStream : Stream
    {
        private long _length;
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => _length;
        public override long Position { get => _length; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => _length += count;
        public override void Write(ReadOnlySpan<byte> buffer) => _length += buffer.Length;
    }
}

/// <summary>Why a run was evicted from the store: the <c>reason</c> label of <c>run_store_evicted_total</c>.</summary>
public static class RunStoreEvictionReasons
{
    /// <summary>The byte bound was passed.</summary>
    public const string Bytes = "bytes";
    /// <summary>The count bound was passed.</summary>
    public const string Count = "count";
}
