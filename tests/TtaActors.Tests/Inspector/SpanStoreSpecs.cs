using System.Diagnostics;
using OpenTelemetry;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using TtaActors.Actors.Context;
using TtaActors.Actors.Execution;
using TtaActors.Actors.Primitives;
using TtaActors.Runtime.Inspector;
using TtaActors.Telemetry;
using TtaActors.Telemetry.Export;
using TtaActors.Tests.NodeHost;
using TtaActors.Tests.Primitives;
using Pipeline = TtaActors.Telemetry.Export.TelemetryPipeline;

namespace TtaActors.Tests.Inspector;

/// <summary>The run inspector's span store: bounded in bytes, whole traces evicted oldest first, found by run id.</summary>
public sealed class SpanStoreSpecs
{
    private static StoredSpan Span(string traceId, string spanId, params StoredAttribute[] attributes) =>
        new(traceId, spanId, null, "primitive.step", "internal", DateTimeOffset.UnixEpoch, TimeSpan.FromMilliseconds(1), "unset", null, attributes, []);

    private static string Trace(int n) => n.ToString("x32");

    [Fact]
    public void Store_should_keep_spans_up_to_its_byte_bound_exactly_and_evict_the_oldest_trace_whole_one_byte_beyond()
    {
        const long size = 1000;
        var perSpan = size + SpanStore.StoredSpanOverheadBytes;
        var store = new SpanStore(new SpanStoreLimits { MaxBytes = 4 * perSpan });
        store.Add([(Span(Trace(1), "a1"), size), (Span(Trace(1), "a2"), size)]);
        store.Add([(Span(Trace(2), "b1"), size), (Span(Trace(2), "b2"), size)]);
        Assert.Equal(4 * perSpan, store.Bytes);
        Assert.Equal(2, store.TraceCount);
        Assert.Equal(0, store.EvictedTraces);

        store.Add([(Span(Trace(3), "c1"), 1)]);

        Assert.Null(store.Trace(Trace(1)));
        Assert.Equal(2, store.Trace(Trace(2))!.Spans.Count);
        Assert.Single(store.Trace(Trace(3))!.Spans);
        Assert.Equal(1, store.EvictedTraces);
        Assert.Equal(2 * perSpan + 1 + SpanStore.StoredSpanOverheadBytes, store.Bytes);
    }

    [Fact]
    public void A_trace_larger_than_the_whole_bound_is_not_kept_and_the_bytes_stay_within_it()
    {
        var store = new SpanStore(new SpanStoreLimits { MaxBytes = 5000 });
        store.Add([(Span(Trace(1), "a"), 100)]);
        store.Add([(Span(Trace(2), "b"), 10_000)]);
        Assert.Equal(0, store.TraceCount);
        Assert.Equal(0, store.Bytes);
        Assert.Equal(2, store.EvictedTraces);
    }

    [Fact]
    public void Runs_are_found_by_the_correlation_id_of_their_primitives_and_forgotten_with_their_trace()
    {
        var store = new SpanStore(new SpanStoreLimits { MaxBytes = 3000 });
        var runId = Guid.NewGuid().ToString("N");
        store.Add([(Span(Trace(1), "a", new StoredAttribute(TelemetryNames.Attributes.WorkflowCorrelationId, runId)), 10)]);
        Assert.Equal(Trace(1), store.TraceIdOfRun(runId));

        store.Add([(Span(Trace(2), "b"), 2900)]);
        Assert.Null(store.TraceIdOfRun(runId));
    }

    [Fact]
    public void Store_limits_refuse_a_bound_below_one_byte()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new SpanStore(new SpanStoreLimits { MaxBytes = 0 }));
        Assert.Equal(1, new SpanStore(new SpanStoreLimits { MaxBytes = 1 }).Limits.MaxBytes);
    }

    [Fact]
    public void Changed_completes_when_a_batch_is_in()
    {
        var store = new SpanStore(new SpanStoreLimits());
        var changed = store.Changed;
        Assert.False(changed.IsCompleted);
        store.Add([(Span(Trace(1), "a"), 1)]);
        Assert.True(changed.IsCompleted);
        Assert.False(store.Changed.IsCompleted);
    }
}

/// <summary>
/// The done-when measure of the run inspector: a 1,000-run workload through the real telemetry pipeline leaves the
/// store within its bound, and the process's managed heap within that bound plus <see cref="DocumentedOverheadBytes"/> (half the bound plus 1 MiB).
/// Runs alone (the process collection) so no other spec's allocations are measured.
/// </summary>
[Collection(TtaProcessCollection.Name)]
public sealed class SpanStoreMemorySpecs : PrimitiveSpec
{
    /// <summary>
    /// README, "Run inspector": what the heap may hold beyond the store's bound after the workload settles: half the
    /// bound (the size estimate counts strings and slots, not every object header) plus 1 MiB.
    /// </summary>
    public static long DocumentedOverheadBytes(long bound) => bound / 2 + 1024 * 1024;

    [Fact]
    public async Task A_thousand_runs_leave_the_heap_within_the_span_store_bound_plus_the_documented_overhead()
    {
        const long bound = 2L * 1024 * 1024;
        var store = new SpanStore(new SpanStoreLimits { MaxBytes = bound });
        using var pipeline = new Pipeline([new NamedExporter(SpanStoreExporter.ExporterName, new SpanStoreExporter(store))],
            new TelemetryPipelineOptions { MaxExportBatchSize = 256, ScheduledDelay = TimeSpan.FromMilliseconds(50) },
            ResourceBuilder.CreateEmpty().AddService("tta-ui-memory"), "tta-ui-memory");
        pipeline.Start(Sys);
        using var tracer = Sdk.CreateTracerProviderBuilder().AddTtaActorsInstrumentation().AddProcessor(pipeline.Processor).Build();
        var graph = Materialize(
            Lambda.From<string, string>(s => s + "-a", "first") >> (Lambda.From<string, string>(s => s + "-b", "left") | Lambda.From<string, string>(s => s + "-c", "right"))
            >> Lambda.From<object?, string>(o => new string('x', 512), "pad"), "memory");

        async Task RunAsync(int count)
        {
            for (var i = 0; i < count; i++)
            {
                var runId = RunId.New();
                var result = await graph.RunAsync("in", WorkflowContext.Create(persona: "backend-engineer") with { CorrelationId = runId.ToString() },
                    new RunOptions { RunId = runId });
                Assert.True(result.Succeeded);
            }
            Assert.True(await pipeline.FlushAsync(TimeSpan.FromSeconds(60)));
        }

        await RunAsync(50);
        var before = GC.GetTotalMemory(forceFullCollection: true);
        await RunAsync(1000);
        var after = GC.GetTotalMemory(forceFullCollection: true);

        Assert.InRange(store.Bytes, 1, bound);
        Assert.True(store.EvictedTraces > 0, "the workload is larger than the bound, so old traces went");
        Assert.Equal(0, pipeline.Statistics().Lost);
        Assert.True(after - before <= bound + DocumentedOverheadBytes(bound),
            $"The heap grew by {after - before} bytes over 1,000 runs; the bound is {bound} + {DocumentedOverheadBytes(bound)}.");
        Console.WriteLine($"span store memory: heap grew {after - before} bytes, store charged {store.Bytes}, evicted {store.EvictedTraces} traces");
    }
}
