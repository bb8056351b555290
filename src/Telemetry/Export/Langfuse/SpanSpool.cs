using System.Buffers.Binary;
using Microsoft.Extensions.Logging;

namespace TtaActors.Telemetry.Export.Langfuse;

/// <summary>
/// Encoded spans waiting for Langfuse, oldest first, bounded by count and bytes. With a directory, every chunk is
/// also a file (written whole, then renamed into place) that is deleted once Langfuse has taken it, so waiting
/// spans survive a restart.
/// </summary>
internal sealed class SpanSpool
{
    private const string Extension = ".spans";
    private readonly LinkedList<Chunk> _chunks = new();

    /// <summary>Spool files left by an earlier process that do not fit the bounds yet; loaded as the queue drains.</summary>
    private readonly Queue<string> _unloaded = new();
    private readonly string? _directory;
    private readonly int _maxSpans;
    private readonly long _maxBytes;
    private readonly ILogger _logger;
    private long _sequence;

    public SpanSpool(string? directory, int maxSpans, long maxBytes, ILogger logger)
    {
        _directory = directory;
        _maxSpans = maxSpans;
        _maxBytes = maxBytes;
        _logger = logger;
        if (directory is not null) LoadFrom(directory);
    }

    public object Gate { get; } = new();
    public int SpanCount { get; private set; }
    public long ByteCount { get; private set; }

    /// <summary>Keeps <paramref name="records"/> in chunks of at most <paramref name="maxChunkBytes"/>; returns how many did not fit.</summary>
    public int Add(IReadOnlyList<byte[]> records, int maxChunkBytes)
    {
        var accepted = new List<byte[]>(records.Count);
        long bytes = 0;
        lock (Gate)
        {
            foreach (var record in records)
            {
                if (SpanCount + accepted.Count >= _maxSpans || ByteCount + bytes + record.Length > _maxBytes) break;
                accepted.Add(record);
                bytes += record.Length;
            }
        }
        foreach (var chunk in Split(accepted, maxChunkBytes))
        {
            var file = _directory is null ? null : Write(chunk);
            lock (Gate)
            {
                _chunks.AddLast(new Chunk(chunk, chunk.Sum(r => (long)r.Length), file));
                SpanCount += chunk.Count;
                ByteCount += _chunks.Last!.Value.Bytes;
            }
        }
        return records.Count - accepted.Count;
    }

    /// <summary>The oldest chunks whose records fit in one request of <paramref name="maxBytes"/> (at least one chunk).</summary>
    public IReadOnlyList<Chunk> Peek(int maxBytes)
    {
        lock (Gate)
        {
            var batch = new List<Chunk>();
            long bytes = 0;
            foreach (var chunk in _chunks)
            {
                if (batch.Count > 0 && bytes + chunk.Bytes > maxBytes) break;
                batch.Add(chunk);
                bytes += chunk.Bytes;
            }
            return batch;
        }
    }

    /// <summary>Forgets chunks Langfuse took (or refused for good) and deletes their files.</summary>
    public void Remove(IReadOnlyList<Chunk> delivered)
    {
        // Files go first, so whoever is woken below finds the spool directory as it will stay.
        foreach (var chunk in delivered) Delete(chunk.File);
        lock (Gate)
        {
            foreach (var chunk in delivered)
            {
                if (!_chunks.Remove(chunk)) continue;
                SpanCount -= chunk.Records.Count;
                ByteCount -= chunk.Bytes;
            }
            LoadUnloaded();
            Monitor.PulseAll(Gate);
        }
    }

    /// <summary>Replaces a chunk Langfuse found too large by its two halves, in place.</summary>
    public void Halve(Chunk chunk)
    {
        var middle = chunk.Records.Count / 2;
        var first = chunk.Records.Take(middle).ToList();
        var second = chunk.Records.Skip(middle).ToList();
        var firstChunk = new Chunk(first, first.Sum(r => (long)r.Length), _directory is null ? null : Write(first));
        var secondChunk = new Chunk(second, second.Sum(r => (long)r.Length), _directory is null ? null : Write(second));
        lock (Gate)
        {
            var node = _chunks.Find(chunk);
            if (node is null) return;
            _chunks.AddBefore(node, firstChunk);
            _chunks.AddBefore(node, secondChunk);
            _chunks.Remove(node);
        }
        Delete(chunk.File);
    }

    private static IEnumerable<List<byte[]>> Split(List<byte[]> records, int maxChunkBytes)
    {
        var current = new List<byte[]>();
        long bytes = 0;
        foreach (var record in records)
        {
            if (current.Count > 0 && bytes + record.Length > maxChunkBytes)
            {
                yield return current;
                current = [];
                bytes = 0;
            }
            current.Add(record);
            bytes += record.Length;
        }
        if (current.Count > 0) yield return current;
    }

    private string Write(List<byte[]> records)
    {
        var name = $"{DateTime.UtcNow.Ticks:D19}-{Interlocked.Increment(ref _sequence):D9}{Extension}";
        var path = Path.Combine(_directory!, name);
        var temporary = path + ".tmp";
        using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            Span<byte> length = stackalloc byte[4];
            foreach (var record in records)
            {
                BinaryPrimitives.WriteInt32LittleEndian(length, record.Length);
                stream.Write(length);
                stream.Write(record);
            }
            stream.Flush(flushToDisk: true);
        }
        File.Move(temporary, path, overwrite: true);
        return path;
    }

    private void LoadFrom(string directory)
    {
        try
        {
            Directory.CreateDirectory(directory);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"TTA_TELEMETRY_SPOOL_DIR: cannot create spool directory '{directory}': {error.Message}", error);
        }
        foreach (var leftover in Directory.EnumerateFiles(directory, "*" + Extension + ".tmp")) Delete(leftover);
        foreach (var path in Directory.EnumerateFiles(directory, "*" + Extension).Order(StringComparer.Ordinal)) _unloaded.Enqueue(path);
        var files = _unloaded.Count;
        LoadUnloaded();
        if (files > 0)
        {
            _logger.LogInformation("Found {Files} spool files of spans waiting for Langfuse in {Directory}; {Spans} spans loaded, the rest as the queue drains.",
                files, directory, SpanCount);
        }
    }

    /// <summary>Loads waiting spool files, oldest first, while they fit the bounds (always at least one when the queue is empty).</summary>
    private void LoadUnloaded()
    {
        while (_unloaded.TryPeek(out var path))
        {
            var records = File.Exists(path) ? Read(path) : null;
            if (records is null)
            {
                _unloaded.Dequeue();
                if (File.Exists(path))
                {
                    _logger.LogWarning("Spool file {Path} is damaged (cut short by a crash?); it was removed.", path);
                    Delete(path);
                }
                continue;
            }
            var bytes = records.Sum(r => (long)r.Length);
            if (_chunks.Count > 0 && (SpanCount + records.Count > _maxSpans || ByteCount + bytes > _maxBytes)) return;
            _unloaded.Dequeue();
            _chunks.AddLast(new Chunk(records, bytes, path));
            SpanCount += records.Count;
            ByteCount += bytes;
        }
    }

    private static List<byte[]>? Read(string path)
    {
        var data = File.ReadAllBytes(path);
        var records = new List<byte[]>();
        var offset = 0;
        while (offset < data.Length)
        {
            if (data.Length - offset < 4) return null;
            var length = BinaryPrimitives.ReadInt32LittleEndian(data.AsSpan(offset));
            offset += 4;
            if (length < 0 || data.Length - offset < length) return null;
            records.Add(data.AsSpan(offset, length).ToArray());
            offset += length;
        }
        return records;
    }

    private void Delete(string? path)
    {
        if (path is null) return;
        try
        {
            File.Delete(path);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            _logger.LogWarning("Cannot delete delivered spool file {Path}: {Reason}", path, error.Message);
        }
    }

    /// <summary>Spans that are sent together or not at all; <see cref="File"/> is their spool file, if any.</summary>
    internal sealed class Chunk(List<byte[]> records, long bytes, string? file)
    {
        public List<byte[]> Records { get; } = records;
        public long Bytes { get; } = bytes;
        public string? File { get; } = file;
    }
}
