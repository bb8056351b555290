using Microsoft.Extensions.Time.Testing;
using TtaActors.Actors.Context;
using TtaActors.Actors.Primitives;
using TtaActors.Telemetry;
using Xunit;
using Xunit.Abstractions;

namespace TtaActors.Tests.Primitives;

public sealed class CacheSpecs(ITestOutputHelper output) : CatalogSpec(output)
{
    private static readonly TimeSpan Ttl = TimeSpan.FromMinutes(10);
    private static readonly TimeSpan OneTick = TimeSpan.FromTicks(1);
    private readonly FakeTimeProvider _time = new();

    private static MockPrimitive Expensive() => MockPrimitive.WithSideEffect((input, _) => $"computed:{input}", "expensive");

    private CachePrimitive Cache(Primitive inner, string name, Func<object?, WorkflowContext, string>? key = null,
        int maxEntries = 100) =>
        new(inner, Ttl, key, new InMemoryCacheBackend(maxEntries, _time), name);

    [Fact]
    public async Task Cache_should_answer_a_repeated_input_from_the_cache_and_count_hits_and_misses()
    {
        var name = Unique("cache");
        using var metrics = new MetricRecorder(TelemetryNames.Catalog.Metrics.CacheHits, TelemetryNames.Catalog.Metrics.CacheMisses);
        var inner = Expensive();
        var cache = Cache(inner, name);
        var graph = Materialize(cache);

        var first = await Within(graph.RunAsync("a"));
        var second = await Within(graph.RunAsync("a"));
        var other = await Within(graph.RunAsync("b"));

        Assert.Equal(["computed:a", "computed:a", "computed:b"], new[] { first.Output, second.Output, other.Output });
        Assert.Equal(["a", "b"], inner.Inputs);
        Assert.Equal(new CacheStatistics(Hits: 1, Misses: 2, Expirations: 0, HitRate: 1.0 / 3), cache.Statistics);
        Assert.Equal(false, SpanOf(first, name).GetTagItem(TelemetryNames.Catalog.Attributes.CacheHit));
        Assert.Equal(true, SpanOf(second, name).GetTagItem(TelemetryNames.Catalog.Attributes.CacheHit));
        Assert.DoesNotContain(SpansOf(second), s => s.DisplayName == "primitive.expensive");
        Assert.Equal(1, second.Context.State[WorkflowStateKeys.CacheHits]);
        Assert.Equal(1, first.Context.State[WorkflowStateKeys.CacheMisses]);
        Assert.Equal(1, metrics.Sum(TelemetryNames.Catalog.Metrics.CacheHits, name));
        Assert.Equal(2, metrics.Sum(TelemetryNames.Catalog.Metrics.CacheMisses, name));
    }

    [Fact]
    public async Task Cache_should_expire_an_entry_exactly_at_its_time_to_live()
    {
        var inner = Expensive();
        var cache = Cache(inner, "cache");
        var graph = Materialize(cache);

        await Within(graph.RunAsync("a"));
        _time.Advance(Ttl - OneTick);
        var stillFresh = await Within(graph.RunAsync("a"));
        _time.Advance(OneTick);
        var expired = await Within(graph.RunAsync("a"));

        Assert.Equal(true, SpanOf(stillFresh, "cache").GetTagItem(TelemetryNames.Catalog.Attributes.CacheHit));
        Assert.Equal(false, SpanOf(expired, "cache").GetTagItem(TelemetryNames.Catalog.Attributes.CacheHit));
        Assert.Equal(2, inner.CallCount);
        Assert.Equal(new CacheStatistics(Hits: 1, Misses: 2, Expirations: 1, HitRate: 1.0 / 3), cache.Statistics);
    }

    [Fact]
    public async Task Cache_should_never_store_a_failure()
    {
        var calls = 0;
        var inner = MockPrimitive.WithSideEffect(
            (input, _) => Interlocked.Increment(ref calls) == 1 ? throw new InvalidOperationException("flaky") : $"computed:{input}",
            "flaky");
        var cache = Cache(inner, "cache");
        var graph = Materialize(cache);

        var failed = await Within(graph.RunAsync("a"));
        var retried = await Within(graph.RunAsync("a"));
        var cached = await Within(graph.RunAsync("a"));

        Assert.IsType<InvalidOperationException>(failed.Failure!.Exception);
        Assert.Equal("computed:a", retried.Output);
        Assert.Equal(false, SpanOf(retried, "cache").GetTagItem(TelemetryNames.Catalog.Attributes.CacheHit));
        Assert.Equal("computed:a", cached.Output);
        Assert.Equal(true, SpanOf(cached, "cache").GetTagItem(TelemetryNames.Catalog.Attributes.CacheHit));
        Assert.Equal(2, inner.CallCount);
    }

    [Fact]
    public async Task Cache_should_treat_a_null_result_as_a_miss()
    {
        var inner = MockPrimitive.Returning(null, "nothing");
        var cache = Cache(inner, "cache");
        var graph = Materialize(cache);

        var first = await Within(graph.RunAsync("a"));
        var second = await Within(graph.RunAsync("a"));

        Assert.True(first.Succeeded && second.Succeeded);
        Assert.Null(second.Output);
        Assert.Equal(2, inner.CallCount);
        Assert.Equal(0, cache.Statistics.Hits);
        Assert.Equal(false, SpanOf(second, "cache").GetTagItem(TelemetryNames.Catalog.Attributes.CacheHit));
    }

    [Fact]
    public async Task Cache_should_key_entries_by_the_key_function_over_input_and_context()
    {
        var inner = MockPrimitive.WithSideEffect((input, context) => $"{context.Persona}:{input}", "persona-answer");
        var cache = Cache(inner, "cache", key: (input, context) => $"{context.Persona}|{input}");
        var graph = Materialize(cache);
        var backend = WorkflowContext.Create(persona: "backend-engineer");
        var frontend = WorkflowContext.Create(persona: "frontend-dev");

        var a = await Within(graph.RunAsync("q", backend));
        var b = await Within(graph.RunAsync("q", frontend));
        var c = await Within(graph.RunAsync("q", WorkflowContext.Create(persona: "backend-engineer")));

        Assert.Equal("backend-engineer:q", a.Output);
        Assert.Equal("frontend-dev:q", b.Output);
        Assert.Equal("backend-engineer:q", c.Output);
        Assert.Equal(2, inner.CallCount);
        Assert.Equal(true, SpanOf(c, "cache").GetTagItem(TelemetryNames.Catalog.Attributes.CacheHit));
    }

    [Fact]
    public async Task Cache_should_hold_at_most_its_size_bound()
    {
        var inner = Expensive();
        var cache = Cache(inner, "cache", maxEntries: 2);
        var graph = Materialize(cache);

        foreach (var input in new[] { "a", "b", "a", "c", "a", "b" }) await Within(graph.RunAsync(input));

        // "b" was least recently used when "c" came in, so it was the one dropped.
        Assert.Equal(["a", "b", "c", "b"], inner.Inputs);
        Assert.Equal(2, ((InMemoryCacheBackend)cache.Backend).Count);
        Assert.Equal(2, ((InMemoryCacheBackend)cache.Backend).Evictions);
    }

    [Fact]
    public async Task Cache_should_work_with_an_asynchronous_backend_and_go_on_as_a_miss_when_it_fails()
    {
        var backend = new RemoteLikeBackend();
        var inner = Expensive();
        var cache = new CachePrimitive(inner, Ttl, backend: backend, name: "cache");
        var graph = Materialize(cache);

        var miss = await Within(graph.RunAsync("a"));
        // The answer does not wait for a slow backend's store; the test does.
        await Within(backend.Stored.Task);
        var hit = await Within(graph.RunAsync("a"));
        backend.Down = true;
        var degraded = await Within(graph.RunAsync("a"));

        Assert.Equal("computed:a", miss.Output);
        Assert.Equal(true, SpanOf(hit, "cache").GetTagItem(TelemetryNames.Catalog.Attributes.CacheHit));
        Assert.True(degraded.Succeeded, degraded.Failure?.ToString());
        Assert.Equal("computed:a", degraded.Output);
        Assert.Equal(false, SpanOf(degraded, "cache").GetTagItem(TelemetryNames.Catalog.Attributes.CacheHit));
        Assert.Equal(2, inner.CallCount);
    }

    [Fact]
    public async Task Cache_should_treat_a_null_value_from_a_backend_as_a_miss()
    {
        var inner = Expensive();
        var graph = Materialize(new CachePrimitive(inner, Ttl, backend: new NullHitBackend(), name: "cache"));

        var result = await Within(graph.RunAsync("a"));

        Assert.Equal("computed:a", result.Output);
        Assert.Equal(1, inner.CallCount);
        Assert.Equal(false, SpanOf(result, "cache").GetTagItem(TelemetryNames.Catalog.Attributes.CacheHit));
    }

    [Fact]
    public async Task InMemoryCacheBackend_should_evict_the_least_recently_used_entry_when_full()
    {
        var backend = new InMemoryCacheBackend(maxEntries: 2, _time);
        await backend.SetAsync("a", 1, Ttl);
        await backend.SetAsync("b", 2, Ttl);
        Assert.Equal(CacheLookup.Hit(1), await backend.GetAsync("a"));
        await backend.SetAsync("c", 3, Ttl);

        Assert.Equal(CacheLookup.Miss, await backend.GetAsync("b"));
        Assert.Equal(CacheLookup.Hit(1), await backend.GetAsync("a"));
        Assert.Equal(CacheLookup.Hit(3), await backend.GetAsync("c"));
        Assert.Equal(1, backend.Evictions);
        _time.Advance(Ttl);
        Assert.Equal(CacheLookup.Expired, await backend.GetAsync("a"));
        Assert.Equal(1, backend.Count);
    }

    /// <summary>A backend that claims a hit for every key but holds nothing, as a store that kept a null would.</summary>
    private sealed class NullHitBackend : ICacheBackend
    {
        public ValueTask<CacheLookup> GetAsync(string key, CancellationToken cancellation = default) =>
            new(new CacheLookup(CacheLookupOutcome.Hit, null));

        public ValueTask SetAsync(string key, object value, TimeSpan timeToLive, CancellationToken cancellation = default) =>
            ValueTask.CompletedTask;

        public ValueTask<bool> RemoveAsync(string key, CancellationToken cancellation = default) => new(false);

        public ValueTask ClearAsync(CancellationToken cancellation = default) => ValueTask.CompletedTask;
    }

    /// <summary>A backend that answers asynchronously, as a networked one does, and that can be taken down.</summary>
    private sealed class RemoteLikeBackend : ICacheBackend
    {
        private readonly InMemoryCacheBackend _store = new();
        public volatile bool Down;
        public TaskCompletionSource Stored { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public async ValueTask<CacheLookup> GetAsync(string key, CancellationToken cancellation = default)
        {
            await Task.Yield();
            if (Down) throw new IOException("cache server unreachable");
            return await _store.GetAsync(key, cancellation);
        }

        public async ValueTask SetAsync(string key, object value, TimeSpan timeToLive, CancellationToken cancellation = default)
        {
            await Task.Yield();
            if (Down) throw new IOException("cache server unreachable");
            await _store.SetAsync(key, value, timeToLive, cancellation);
            Stored.TrySetResult();
        }

        public ValueTask<bool> RemoveAsync(string key, CancellationToken cancellation = default) => _store.RemoveAsync(key, cancellation);

        public ValueTask ClearAsync(CancellationToken cancellation = default) => _store.ClearAsync(cancellation);
    }
}
