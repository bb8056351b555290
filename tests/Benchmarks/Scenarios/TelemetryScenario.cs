using System.Diagnostics;
using OpenTelemetry;
using OpenTelemetry.Trace;
using Akka.Actor;
using TtaActors.Benchmarks.Harness;
using TtaActors.Telemetry;
using TtaActors.Telemetry.Export;

namespace TtaActors.Benchmarks.Scenarios;

/// <summary>
/// Spans through the real export path of a node: an OpenTelemetry tracer provider whose processor is the pipeline's,
/// the telemetry actor batching them, the exporter's actor handing each batch to a batching no-op exporter (it walks
/// every attribute, as a serialiser would, and sends nothing). Spans carry the attributes of a primitive span.
/// <list type="bullet">
/// <item><c>telemetry.max</c>: producers as fast as they can, for the intake's ceiling and what is dropped beyond it;</item>
/// <item><c>telemetry.paced</c>: 200,000 spans/s offered at an even pace: the target is none dropped;</item>
/// <item><c>telemetry-soak</c> (opt-in): the paced load for 60 s, the managed heap sampled after a collection every 5 s.</item>
/// </list>
/// <c>steps_per_s</c> is spans exported per second (counted by the exporter, once the pipeline has flushed);
/// <c>workflows_per_s</c> is spans offered per second; alloc and cpu are per span.
/// </summary>
public sealed class TelemetryScenario(bool soak) : IScenario
{
    public const double TargetSpansPerSecond = 200_000;
    private const string SourceName = "TtaActors.Benchmarks.TelemetryLoad";
    private static readonly TimeSpan SoakDuration = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan SoakSample = TimeSpan.FromSeconds(5);

    public string Name => soak ? "telemetry-soak" : "telemetry";

    public string Description => soak
        ? "60 s of 200,000 spans/s through the telemetry actor: drops and the managed heap every 5 s"
        : "spans/s through the telemetry actor into a batching no-op exporter: ceiling, and 200,000 spans/s paced (drops)";

    public bool OptIn => soak;

    public async Task RunAsync(BenchmarkSession session)
    {
        if (soak)
        {
            await MeasureAsync(session, "telemetry-soak", producers: 1, TargetSpansPerSecond, SoakDuration, sampleHeap: true);
            return;
        }
        await MeasureSdkOnlyAsync(session, session.Options.Duration);
        await MeasureAsync(session, "telemetry.max", producers: 1, rate: null, session.Options.Duration, sampleHeap: false);
        await MeasureAsync(session, "telemetry.max", producers: 2, rate: null, session.Options.Duration, sampleHeap: false);
        await MeasureAsync(session, "telemetry.paced", producers: 2, TargetSpansPerSecond, session.Options.Duration, sampleHeap: false);
    }

    /// <summary>
    /// The same spans ended into a processor that does nothing: what creating and ending them costs the application,
    /// so that <c>telemetry.max</c> minus this is the pipeline's own cost per span.
    /// </summary>
    private static async Task MeasureSdkOnlyAsync(BenchmarkSession session, TimeSpan duration)
    {
        if (session.Options.Impls.Count > 0 && !session.Options.Impls.Contains("otel-sdk-only")) return;
        Console.Error.Write($"  {"telemetry.max",-18} {"otel-sdk-only",-16} {"max",-8} x1   ... ");
        using var tracing = Sdk.CreateTracerProviderBuilder().AddSource(SourceName).SetSampler(new AlwaysOnSampler())
            .AddProcessor(new NothingProcessor()).Build();
        using var source = new ActivitySource(SourceName);
        await ProduceAsync(source, 1, null, session.Options.Warmup, null);
        GC.Collect();
        using var process = Process.GetCurrentProcess();
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        var cpuBefore = process.TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        var offered = await ProduceAsync(source, 1, null, duration, null);
        var elapsed = clock.Elapsed;
        process.Refresh();
        var perSecond = offered / elapsed.TotalSeconds;
        Console.Error.WriteLine($"{Measurement.Format(perSecond)} spans/s");
        session.Record(new Measurement("telemetry.max", "otel-sdk-only", true, 1, perSecond, perSecond, double.NaN, double.NaN,
            (double)(GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore) / offered, (process.TotalProcessorTime - cpuBefore).TotalMicroseconds / offered)
        {
            Extras = [new("spans_offered", offered)],
        });
    }

    private static async Task MeasureAsync(BenchmarkSession session, string scenario, int producers, double? rate, TimeSpan duration, bool sampleHeap)
    {
        if (session.Options.Impls.Count > 0 && !session.Options.Impls.Contains(Impl.TtaActors)) return;
        Console.Error.Write($"  {scenario,-18} {Impl.TtaActors,-16} {(rate is null ? "max" : $"{rate:N0}/s"),-8} x{producers,-3} ... ");
        var exporter = new BatchingNoOpExporter();
        var pipeline = new TtaActors.Telemetry.Export.TelemetryPipeline([new NamedExporter("no-op", exporter)], serviceName: "tta-bench");
        var actor = await StartAsync(pipeline, session.System);
        try
        {
            await MeasureAsync(session, scenario, producers, rate, duration, sampleHeap, pipeline, exporter);
        }
        finally
        {
            pipeline.Dispose();
            await actor.WatchAsync();
        }
    }

    /// <summary>How long a measurement waits for the previous measurement's telemetry actor to give up its name.</summary>
    private static readonly TimeSpan NameReleaseBound = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Starts the pipeline's telemetry actor, whose name is fixed (<c>tta-telemetry</c>). The previous measurement's actor
    /// has terminated (its <c>WatchAsync</c> completed), but the guardian frees the name only when it handles that
    /// termination itself, which can come after the watcher heard of it: until then starting fails with
    /// <see cref="InvalidActorNameException"/>, and it is tried again.
    /// </summary>
    private static async Task<IActorRef> StartAsync(TtaActors.Telemetry.Export.TelemetryPipeline pipeline, ActorSystem system)
    {
        var waited = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                return pipeline.Start(system);
            }
            catch (InvalidActorNameException) when (waited.Elapsed < NameReleaseBound)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(10));
            }
        }
    }

    private static async Task MeasureAsync(BenchmarkSession session, string scenario, int producers, double? rate, TimeSpan duration, bool sampleHeap,
        TtaActors.Telemetry.Export.TelemetryPipeline pipeline, BatchingNoOpExporter exporter)
    {
        using var tracing = Sdk.CreateTracerProviderBuilder()
            .AddSource(SourceName)
            .SetSampler(new AlwaysOnSampler())
            .AddProcessor(pipeline.Processor)
            .Build();
        using var source = new ActivitySource(SourceName);

        // Warm-up: JIT, the SDK's first allocations, the actor's first batches.
        await ProduceAsync(source, producers, rate, session.Options.Warmup, null);
        await pipeline.FlushAsync(TimeSpan.FromSeconds(30));
        var warm = pipeline.Statistics();
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();

        var heap = new List<long>();
        using var process = Process.GetCurrentProcess();
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        var cpuBefore = process.TotalProcessorTime;
        var started = Stopwatch.StartNew();
        var offered = await ProduceAsync(source, producers, rate, duration, sampleHeap ? heap : null);
        var produced = started.Elapsed;
        var flushed = await pipeline.FlushAsync(TimeSpan.FromSeconds(30));
        var elapsed = started.Elapsed;
        process.Refresh();
        var cpu = process.TotalProcessorTime - cpuBefore;
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        var end = pipeline.Statistics();
        var noOp = end["no-op"];
        var delivered = noOp.Exported - warm["no-op"].Exported;
        var dropped = noOp.DroppedTotal - warm["no-op"].DroppedTotal;
        if (!flushed) throw new InvalidOperationException($"{scenario}: the pipeline did not flush within 30 s ({end.QueueDepth} spans still queued).");
        if (delivered + dropped != offered)
            throw new InvalidOperationException($"{scenario}: {offered} spans offered, but {delivered} delivered and {dropped} dropped: spans went missing.");
        if (exporter.Spans - warm["no-op"].Exported < delivered)
            throw new InvalidOperationException($"{scenario}: the exporter saw fewer spans than the pipeline counted as delivered.");

        var offeredPerSecond = offered / produced.TotalSeconds;
        var exportedPerSecond = delivered / elapsed.TotalSeconds;
        Console.Error.WriteLine($"{Measurement.Format(exportedPerSecond)} spans/s exported, {dropped} dropped");
        var extras = new List<KeyValuePair<string, double>>
        {
            new("spans_offered", offered), new("spans_dropped", dropped), new("export_calls", noOp.Calls - warm["no-op"].Calls),
            new("flush_s", (elapsed - produced).TotalSeconds),
        };
        if (rate is { } r) extras.Add(new("offered_rate_target", r));
        if (heap.Count > 0)
        {
            extras.Add(new("heap_first_bytes", heap[0]));
            extras.Add(new("heap_last_bytes", heap[^1]));
            extras.Add(new("heap_max_bytes", heap.Max()));
            session.Note($"{scenario}: managed heap after a collection every {SoakSample.TotalSeconds:0} s (MB): " +
                         string.Join(", ", heap.Select(b => (b / 1e6).ToString("0.0"))) + $"; {dropped} of {offered:N0} spans dropped");
        }
        session.Record(new Measurement(scenario, Impl.TtaActors, true, producers, offeredPerSecond, exportedPerSecond,
            double.NaN, double.NaN, (double)allocated / offered, cpu.TotalMicroseconds / offered) { Extras = extras });
        if (rate is { } target)
            session.Note($"{scenario}: {target:N0} spans/s offered by {producers} producer(s), {Measurement.Format(exportedPerSecond)} spans/s exported, " +
                         $"{dropped} dropped (target: none dropped below the bound of {pipeline.Options.MaxQueueSize:N0} spans)");
    }

    /// <summary>
    /// Ends spans on <paramref name="producers"/> threads for <paramref name="duration"/>: as fast as possible, or at
    /// <paramref name="rate"/> spans/s in all, evenly (each producer catches up every millisecond). Answers how many.
    /// </summary>
    private static async Task<long> ProduceAsync(ActivitySource source, int producers, double? rate, TimeSpan duration, List<long>? heap)
    {
        var stop = Stopwatch.StartNew();
        var sampler = heap is null ? Task.CompletedTask : Task.Run(async () =>
        {
            heap.Add(GC.GetTotalMemory(forceFullCollection: true));
            while (stop.Elapsed + SoakSample <= duration + TimeSpan.FromMilliseconds(100))
            {
                await Task.Delay(SoakSample);
                heap.Add(GC.GetTotalMemory(forceFullCollection: true));
            }
        });
        var counts = await Task.WhenAll(Enumerable.Range(0, producers).Select(p => Task.Factory.StartNew(() =>
        {
            long count = 0;
            var share = rate / producers;
            while (stop.Elapsed < duration)
            {
                var due = share is { } s ? (long)(s * stop.Elapsed.TotalSeconds) - count : 256;
                if (due <= 0)
                {
                    Thread.Sleep(1);
                    continue;
                }
                for (var i = 0; i < due; i++) EndOneSpan(source, count + i);
                count += due;
            }
            return count;
        }, TaskCreationOptions.LongRunning)));
        await sampler;
        return counts.Sum();
    }

    private static readonly object?[] Primitives = ["parse-request", "plan-feature", "call-design-tool", "draft", "review"];

    /// <summary>One span like a primitive's: the contract attributes of a run step.</summary>
    private static void EndOneSpan(ActivitySource source, long n)
    {
        using var span = source.StartActivity("primitive.Lambda", ActivityKind.Internal);
        if (span is null) return;
        span.SetTag(TelemetryNames.Attributes.PrimitiveName, Primitives[n % Primitives.Length]);
        span.SetTag(TelemetryNames.Attributes.PrimitiveType, "Lambda");
        span.SetTag(TelemetryNames.Attributes.PrimitiveStatus, TelemetryNames.Status.Success);
        span.SetTag(TelemetryNames.Attributes.PrimitivePath, "dev-copilot-demo/triage/plan-feature");
        span.SetTag(TelemetryNames.Attributes.WorkflowName, "dev-copilot-demo");
        span.SetTag(TelemetryNames.Attributes.WorkflowRunId, "run-0001");
        span.SetTag(TelemetryNames.Attributes.WorkflowSessionId, "session-42");
        span.SetTag(TelemetryNames.Attributes.Persona, "backend-engineer");
        span.SetTag(TelemetryNames.Attributes.ChatMode, "feature-implementation");
    }

    private sealed class NothingProcessor : BaseProcessor<Activity>;

    /// <summary>Takes each batch as an OTLP serialiser would (every span, every attribute) and sends nothing.</summary>
    private sealed class BatchingNoOpExporter : BaseExporter<Activity>
    {
        private long _spans;
        private long _attributes;

        public long Spans => Interlocked.Read(ref _spans);

        public override ExportResult Export(in Batch<Activity> batch)
        {
            long spans = 0, attributes = 0;
            foreach (var span in batch)
            {
                spans++;
                foreach (var tag in span.TagObjects) attributes += tag.Value is null ? 0 : 1;
            }
            Interlocked.Add(ref _spans, spans);
            Interlocked.Add(ref _attributes, attributes);
            return ExportResult.Success;
        }
    }
}
