using System.Collections.Concurrent;
using System.Diagnostics;
using OpenTelemetry;

namespace TtaActors.Tests.TelemetryPipeline;

/// <summary>
/// An exporter whose backend the test controls: it can fail the next calls, throw, or hang inside Export until
/// released, and it records every span it exported successfully and the size of every batch it was given.
/// </summary>
public sealed class TestExporter : BaseExporter<Activity>
{
    private readonly ManualResetEventSlim _open = new(true);
    private readonly ManualResetEventSlim _flushOpen = new(true);
    private int _failuresLeft;
    private Exception? _throw;

    public ConcurrentQueue<string> Exported { get; } = new();
    public ConcurrentQueue<int> BatchSizes { get; } = new();
    public int Calls;
    public int BatchesExported;
    public int FlushCalls;

    /// <summary>What ForceFlush answers (true unless a test says otherwise).</summary>
    public bool FlushSucceeds { get; set; } = true;

    /// <summary>Set while a call is blocked inside Export.</summary>
    public ManualResetEventSlim Hanging { get; } = new(false);

    public void FailNext(int calls) => _failuresLeft = calls;
    public void ThrowAlways(Exception error) => _throw = error;
    public void Hang() => _open.Reset();
    public void Release() => _open.Set();

    /// <summary>Set while a call is blocked inside ForceFlush.</summary>
    public ManualResetEventSlim FlushHanging { get; } = new(false);

    public void HangFlush() => _flushOpen.Reset();
    public void ReleaseFlush() => _flushOpen.Set();

    protected override bool OnForceFlush(int timeoutMilliseconds)
    {
        Interlocked.Increment(ref FlushCalls);
        if (!_flushOpen.IsSet)
        {
            FlushHanging.Set();
            _flushOpen.Wait();
            FlushHanging.Reset();
        }
        return FlushSucceeds;
    }

    public override ExportResult Export(in Batch<Activity> batch)
    {
        Interlocked.Increment(ref Calls);
        BatchSizes.Enqueue((int)batch.Count);
        if (!_open.IsSet)
        {
            Hanging.Set();
            _open.Wait();
            Hanging.Reset();
        }
        if (_throw is not null) throw _throw;
        if (Interlocked.Decrement(ref _failuresLeft) >= 0) return ExportResult.Failure;
        foreach (var span in batch) Exported.Enqueue(span.SpanId.ToHexString());
        Interlocked.Increment(ref BatchesExported);
        return ExportResult.Success;
    }

    protected override void Dispose(bool disposing)
    {
        Release();
        ReleaseFlush();
        base.Dispose(disposing);
    }
}
