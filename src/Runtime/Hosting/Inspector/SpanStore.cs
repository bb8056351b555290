using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using OpenTelemetry;
using TtaActors.Telemetry;
using TtaActors.Telemetry.Export;

namespace TtaActors.Runtime.Inspector;

/// <summary>The bound of the spans a node keeps for its run inspector (<c>/ui</c>).</summary>
public sealed record SpanStoreLimits
{
    /// <summary><see cref="MaxBytes"/> when not set: 32 MiB.</summary>
    public const long DefaultMaxBytes = 32L * 1024 * 1024;

    /// <summary>
    /// <c>TTA_UI_SPAN_STORE_MAX_BYTES</c>: the spans kept, as <see cref="SpanSize"/> estimates them plus
    /// <see cref="SpanStore.StoredSpanOverheadBytes"/> each. Past it the oldest traces are evicted whole.
    /// </summary>
    public long MaxBytes { get; init; } = DefaultMaxBytes;
}

/// <summary>One attribute of a stored span, its value as text.</summary>
public sealed record StoredAttribute(string Key, string Value);

/// <summary>One event of a stored span (an exception, a retry, a captured prompt).</summary>
public sealed record StoredSpanEvent(string Name, DateTimeOffset At, IReadOnlyList<StoredAttribute> Attributes);

/// <summary>A finished span as the inspector keeps it: a copy, so the <see cref="Activity"/> itself is not held.</summary>
public sealed record StoredSpan(string TraceId, string SpanId, string? ParentSpanId, string Name, string Kind, DateTimeOffset Start,
    TimeSpan Duration, string Status, string? StatusDescription, IReadOnlyList<StoredAttribute> Attributes, IReadOnlyList<StoredSpanEvent> Events)
{
    /// <summary>The value of the attribute <paramref name="key"/>; null when the span has none.</summary>
    public string? Attribute(string key)
    {
        foreach (var attribute in Attributes)
            if (attribute.Key == key) return attribute.Value;
        return null;
    }
}

/// <summary>The spans of one trace the store holds, in the order they arrived (the order they ended, batch by batch).</summary>
public sealed record StoredTrace(string TraceId, IReadOnlyList<StoredSpan> Spans, long Version);

/// <summary>
/// The spans of recent runs for the run inspector, indexed by trace id and by run id, bounded in bytes: when a batch
/// passes <see cref="SpanStoreLimits.MaxBytes"/> the oldest traces are evicted whole (counted in
/// <see cref="EvictedTraces"/> and <c>ui_span_store_evicted_traces_total</c>), so a trace is shown complete or not at
/// all. It is fed by <see cref="SpanStoreExporter"/> behind the telemetry actor, off the workflow path.
/// </summary>
public sealed class SpanStore
{
    /// <summary>What one stored span costs beyond <see cref="SpanSize"/>'s estimate: the copy's record, arrays and index slots.</summary>
    public const long StoredSpanOverheadBytes = 192;

    private static readonly Counter<long> Evicted = TtaInstrumentation.Meter.CreateCounter<long>(
        "ui_span_store_evicted_traces_total", unit: null,
        description: "Traces evicted from the run inspector's span store to stay within TTA_UI_SPAN_STORE_MAX_BYTES.");

    private readonly Dictionary<string, Entry> _traces = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _runs = new(StringComparer.Ordinal);
    private readonly LinkedList<string> _order = new();
    private readonly Lock _lock = new();
    private TaskCompletionSource _changed = NewSignal();
    private long _bytes;
    private long _evicted;
    private long _version;

    /// <param name="limits">The byte bound.</param>
    /// <exception cref="ArgumentOutOfRangeException">The bound is below 1.</exception>
    public SpanStore(SpanStoreLimits limits)
    {
        if (limits.MaxBytes < 1) throw new ArgumentOutOfRangeException(nameof(limits), limits.MaxBytes, "TTA_UI_SPAN_STORE_MAX_BYTES must be at least 1.");
        Limits = limits;
    }

    /// <summary>The store's bound.</summary>
    public SpanStoreLimits Limits { get; }

    /// <summary>The bytes charged for the spans kept now; never above <see cref="SpanStoreLimits.MaxBytes"/> once a batch is in.</summary>
    public long Bytes
    {
        get { lock (_lock) return _bytes; }
    }

    /// <summary>Traces kept now.</summary>
    public int TraceCount
    {
        get { lock (_lock) return _traces.Count; }
    }

    /// <summary>Traces evicted so far to stay within the bound.</summary>
    public long EvictedTraces => Interlocked.Read(ref _evicted);

    /// <summary>Completes when the next batch of spans is in; readers of a live run wait on it.</summary>
    public Task Changed
    {
        get { lock (_lock) return _changed.Task; }
    }

    /// <summary>Keeps a batch of finished spans; each arrives with its size as <see cref="SpanSize"/> estimated it.</summary>
    public void Add(IEnumerable<(StoredSpan Span, long Size)> batch)
    {
        TaskCompletionSource changed;
        lock (_lock)
        {
            var version = ++_version;
            foreach (var (span, size) in batch)
            {
                if (!_traces.TryGetValue(span.TraceId, out var entry))
                {
                    entry = new Entry(_order.AddLast(span.TraceId));
                    _traces[span.TraceId] = entry;
                }
                entry.Spans.Add(span);
                entry.Version = version;
                var charge = size + StoredSpanOverheadBytes;
                entry.Bytes += charge;
                _bytes += charge;
                foreach (var key in RunKeys(span))
                    if (entry.RunIds.Add(key)) _runs[key] = span.TraceId;
            }
            while (_bytes > Limits.MaxBytes && _order.First is { } oldest) Evict(oldest.Value);
            changed = _changed;
            _changed = NewSignal();
        }
        changed.TrySetResult();
    }

    /// <summary>The trace <paramref name="traceId"/>; null when unknown or evicted.</summary>
    public StoredTrace? Trace(string traceId)
    {
        lock (_lock)
            return _traces.TryGetValue(traceId, out var entry) ? new StoredTrace(traceId, entry.Spans.ToArray(), entry.Version) : null;
    }

    /// <summary>The trace of a run, by its run id (the <c>workflow.run_id</c> of its root, the correlation id of its primitives).</summary>
    public string? TraceIdOfRun(string runId)
    {
        lock (_lock) return _runs.GetValueOrDefault(runId);
    }

    /// <summary>Every span the store holds that matches, newest traces first, for the session view; at most <paramref name="max"/>.</summary>
    public IReadOnlyList<StoredSpan> Find(Func<StoredSpan, bool> match, int max)
    {
        var found = new List<StoredSpan>();
        lock (_lock)
        {
            for (var node = _order.Last; node is not null && found.Count < max; node = node.Previous)
                foreach (var span in _traces[node.Value].Spans)
                {
                    if (!match(span)) continue;
                    found.Add(span);
                    if (found.Count == max) break;
                }
        }
        return found;
    }

    private void Evict(string traceId)
    {
        if (!_traces.Remove(traceId, out var entry)) return;
        _order.Remove(entry.Order);
        _bytes -= entry.Bytes;
        foreach (var runId in entry.RunIds)
            if (_runs.TryGetValue(runId, out var owner) && owner == traceId) _runs.Remove(runId);
        Interlocked.Increment(ref _evicted);
        Evicted.Add(1);
    }

    private static IEnumerable<string> RunKeys(StoredSpan span)
    {
        foreach (var attribute in span.Attributes)
            if (attribute.Key is TelemetryNames.Attributes.WorkflowRunId or TelemetryNames.Attributes.WorkflowCorrelationId)
                yield return attribute.Value;
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private sealed class Entry(LinkedListNode<string> order)
    {
        public LinkedListNode<string> Order { get; } = order;
        public List<StoredSpan> Spans { get; } = [];
        public HashSet<string> RunIds { get; } = new(StringComparer.Ordinal);
        public long Bytes { get; set; }
        public long Version { get; set; }
    }

    /// <summary>A copy of a finished span that holds no reference to the <see cref="Activity"/>.</summary>
    public static StoredSpan Copy(Activity span) => new(
        span.TraceId.ToHexString(),
        span.SpanId.ToHexString(),
        span.ParentSpanId == default ? null : span.ParentSpanId.ToHexString(),
        span.DisplayName,
        span.Kind.ToString().ToLowerInvariant(),
        new DateTimeOffset(span.StartTimeUtc, TimeSpan.Zero),
        span.Duration,
        span.Status.ToString().ToLowerInvariant(),
        span.StatusDescription,
        Attributes(span.EnumerateTagObjects()),
        Events(span));

    private static StoredSpanEvent[] Events(Activity span)
    {
        var events = new List<StoredSpanEvent>();
        foreach (ref readonly var item in span.EnumerateEvents())
            events.Add(new StoredSpanEvent(item.Name, item.Timestamp, Attributes(item.EnumerateTagObjects())));
        return events.ToArray();
    }

    private static StoredAttribute[] Attributes(Activity.Enumerator<KeyValuePair<string, object?>> tags)
    {
        var attributes = new List<StoredAttribute>();
        foreach (ref readonly var tag in tags) attributes.Add(new StoredAttribute(tag.Key, Text(tag.Value)));
        return attributes.ToArray();
    }

    private static string Text(object? value) => value switch
    {
        null => "",
        string text => text,
        bool flag => flag ? "true" : "false",
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        System.Collections.IEnumerable items => "[" + string.Join(", ", items.Cast<object?>().Select(Text)) + "]",
        _ => value.ToString() ?? "",
    };
}

/// <summary>The span store's place on the telemetry pipeline: an exporter like OTLP and Langfuse, named <c>ui</c>.</summary>
public sealed class SpanStoreExporter(SpanStore store) : BaseExporter<Activity>
{
    /// <summary>The exporter's name in the pipeline's metrics.</summary>
    public const string ExporterName = "ui";

    /// <summary>Copies the batch into the store.</summary>
    public override ExportResult Export(in Batch<Activity> batch)
    {
        var copies = new List<(StoredSpan, long)>((int)batch.Count);
        foreach (var span in batch) copies.Add((SpanStore.Copy(span), SpanSize.Estimate(span)));
        store.Add(copies);
        return ExportResult.Success;
    }
}
