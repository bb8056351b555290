using System.Collections.Concurrent;
using System.Diagnostics;
using TtaActors.Telemetry;

namespace TtaActors.Tests.Support;

/// <summary>
/// Records every finished span of the <c>TtaActors</c> source. Tests run in parallel and the listener is
/// process-wide, so a test only ever looks at the traces of its own runs.
/// </summary>
public sealed class SpanRecorder : IDisposable
{
    private readonly ConcurrentQueue<Activity> _spans = new();
    private readonly ActivityListener _listener;

    public SpanRecorder()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == TelemetryNames.SourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = _spans.Enqueue,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    public IReadOnlyList<Activity> ForTrace(string? traceId) =>
        _spans.Where(s => s.TraceId.ToHexString() == traceId).ToList();

    /// <summary>The finished spans that <paramref name="match"/> picks, for spans that are not of one trace.</summary>
    public IReadOnlyList<Activity> Where(Func<Activity, bool> match) => _spans.Where(match).ToList();

    public void Dispose() => _listener.Dispose();
}

/// <summary>Shape checks shared by span specs.</summary>
public static class SpanTree
{
    /// <summary>Spans whose parent is not in the trace, other than the one root.</summary>
    public static IReadOnlyList<Activity> Orphans(IReadOnlyList<Activity> trace)
    {
        var ids = trace.Select(s => s.SpanId).ToHashSet();
        return trace.Where(s => s.ParentSpanId != default && !ids.Contains(s.ParentSpanId)).ToList();
    }

    public static Activity Single(IReadOnlyList<Activity> trace, string name) => Assert.Single(trace, s => s.DisplayName == name);

    public static IReadOnlyList<Activity> ChildrenOf(IReadOnlyList<Activity> trace, Activity parent) =>
        trace.Where(s => s.ParentSpanId == parent.SpanId).OrderBy(s => s.StartTimeUtc).ToList();
}
