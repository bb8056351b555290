namespace TtaActors.Actors.Primitives;

/// <summary>What a cache backend found for a key.</summary>
public enum CacheLookupOutcome
{
    /// <summary>No entry for the key.</summary>
    Miss,
    /// <summary>An entry that is still live; its value is in <see cref="CacheLookup.Value"/>.</summary>
    Hit,

    /// <summary>The key had an entry whose time to live was over; the backend dropped it.</summary>
    Expired,
}

/// <summary>The result of <see cref="ICacheBackend.GetAsync"/>: the outcome and, for a hit, the cached value.</summary>
public readonly record struct CacheLookup(CacheLookupOutcome Outcome, object? Value)
{
    /// <summary>A lookup that found nothing.</summary>
    public static CacheLookup Miss => new(CacheLookupOutcome.Miss, null);
    /// <summary>A lookup that found an entry past its time to live.</summary>
    public static CacheLookup Expired => new(CacheLookupOutcome.Expired, null);
    /// <summary>A lookup that found <paramref name="value"/>.</summary>
    public static CacheLookup Hit(object value) => new(CacheLookupOutcome.Hit, value);
}

/// <summary>
/// Where a <see cref="CachePrimitive"/> keeps its entries. The in-memory backend ships with TtaActors; a distributed
/// one (Redis, a database) implements this interface. Calls may come from several actors at once, so implementations
/// must be thread-safe. A backend that fails makes the lookup a miss (and the store a no-op); it never fails a run.
/// </summary>
public interface ICacheBackend
{
    /// <summary>Looks up <paramref name="key"/>; an expired entry answers <see cref="CacheLookup.Expired"/> and is dropped.</summary>
    ValueTask<CacheLookup> GetAsync(string key, CancellationToken cancellation = default);

    /// <summary>Stores <paramref name="value"/> (never null) for <paramref name="timeToLive"/>.</summary>
    ValueTask SetAsync(string key, object value, TimeSpan timeToLive, CancellationToken cancellation = default);

    /// <summary>Drops the entry for <paramref name="key"/>; false when there was none.</summary>
    ValueTask<bool> RemoveAsync(string key, CancellationToken cancellation = default);

    /// <summary>Drops every entry.</summary>
    ValueTask ClearAsync(CancellationToken cancellation = default);
}

/// <summary>
/// An in-process cache with a time to live per entry and a bound on the number of entries: when full, the least
/// recently used entry makes room. Time comes from a <see cref="TimeProvider"/>, so tests can move it by hand.
/// </summary>
public sealed class InMemoryCacheBackend : ICacheBackend
{
    /// <summary>Entries kept when the constructor is not told otherwise.</summary>
    public const int DefaultMaxEntries = 1000;

    private readonly Lock _lock = new();
    private readonly Dictionary<string, LinkedListNode<Entry>> _entries = new(StringComparer.Ordinal);

    /// <summary>Entries from most to least recently used.</summary>
    private readonly LinkedList<Entry> _recency = new();

    private readonly TimeProvider _time;
    private long _evictions;

    /// <param name="maxEntries">Entries kept at most; the least recently used one makes room for a new one.</param>
    /// <param name="timeProvider">The clock of the times to live; the system clock when null.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxEntries"/> is below 1.</exception>
    public InMemoryCacheBackend(int maxEntries = DefaultMaxEntries, TimeProvider? timeProvider = null)
    {
        if (maxEntries <= 0)
            throw new ArgumentOutOfRangeException(nameof(maxEntries), maxEntries, "An in-memory cache needs room for at least one entry.");
        MaxEntries = maxEntries;
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <summary>Entries kept at most.</summary>
    public int MaxEntries { get; }

    /// <summary>Entries held now, expired ones not yet dropped included.</summary>
    public int Count
    {
        get { lock (_lock) return _entries.Count; }
    }

    /// <summary>Entries dropped to respect <see cref="MaxEntries"/>.</summary>
    public long Evictions => Interlocked.Read(ref _evictions);

    /// <inheritdoc/>
    public ValueTask<CacheLookup> GetAsync(string key, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        var now = _time.GetUtcNow();
        lock (_lock)
        {
            if (!_entries.TryGetValue(key, out var node)) return new(CacheLookup.Miss);
            if (now >= node.Value.ExpiresAt)
            {
                Drop(node);
                return new(CacheLookup.Expired);
            }
            _recency.Remove(node);
            _recency.AddFirst(node);
            return new(CacheLookup.Hit(node.Value.Value));
        }
    }

    /// <inheritdoc/>
    public ValueTask SetAsync(string key, object value, TimeSpan timeToLive, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        var entry = new Entry(key, value, _time.GetUtcNow() + timeToLive);
        lock (_lock)
        {
            if (_entries.TryGetValue(key, out var existing))
            {
                existing.Value = entry;
                _recency.Remove(existing);
                _recency.AddFirst(existing);
                return ValueTask.CompletedTask;
            }
            _entries[key] = _recency.AddFirst(entry);
            while (_entries.Count > MaxEntries)
            {
                Drop(_recency.Last!);
                Interlocked.Increment(ref _evictions);
            }
        }
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc/>
    public ValueTask<bool> RemoveAsync(string key, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        lock (_lock)
        {
            if (!_entries.TryGetValue(key, out var node)) return new(false);
            Drop(node);
            return new(true);
        }
    }

    /// <inheritdoc/>
    public ValueTask ClearAsync(CancellationToken cancellation = default)
    {
        lock (_lock)
        {
            _entries.Clear();
            _recency.Clear();
        }
        return ValueTask.CompletedTask;
    }

    private void Drop(LinkedListNode<Entry> node)
    {
        _entries.Remove(node.Value.Key);
        _recency.Remove(node);
    }

    private sealed record Entry(string Key, object Value, DateTimeOffset ExpiresAt);
}
