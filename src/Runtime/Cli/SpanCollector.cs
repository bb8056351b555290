using System.Collections.Concurrent;
using System.Diagnostics;
using OpenTelemetry;

namespace TtaActors.Runtime.Cli;

/// <summary>Keeps finished spans in memory so the command line can print a run's span tree.</summary>
public sealed class SpanCollector : BaseProcessor<Activity>
{
    private readonly ConcurrentQueue<Activity> _finished = new();

    /// <summary>Keeps the finished span.</summary>
    public override void OnEnd(Activity data) => _finished.Enqueue(data);

    /// <summary>The finished spans of one trace, in the order they ended.</summary>
    public IReadOnlyList<Activity> ForTrace(string traceId) =>
        _finished.Where(a => a.TraceId.ToHexString() == traceId).ToList();
}
