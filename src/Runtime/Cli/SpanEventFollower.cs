using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using TtaActors.Actors.Durable;
using TtaActors.Telemetry;

namespace TtaActors.Runtime.Cli;

/// <summary>
/// The events of the one run <c>tta run --follow</c> makes in its own process, from the TtaActors spans as they start and
/// stop (<see cref="AgUiEvents.FromSpan"/>): the first workflow root span picks the run's trace, later spans of other traces
/// are not the run's. Listener callbacks only queue; <see cref="PrintAsync"/> writes the lines, so actor threads never wait
/// on the console.
/// </summary>
public sealed class SpanEventFollower : IDisposable
{
    private readonly ActivityListener _listener;
    private readonly ConcurrentDictionary<ActivitySpanId, string> _paths = new();
    private readonly Channel<JsonObject> _events = Channel.CreateUnbounded<JsonObject>(new UnboundedChannelOptions { SingleReader = true });
    private ActivityTraceId _trace;
    private int _traceChosen;

    /// <summary>Starts listening to the TtaActors source.</summary>
    public SpanEventFollower()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == TelemetryNames.SourceName,
            // AllData, not AllDataAndRecorded: the spans get their attributes, but following a run does not make an exporter
            // record spans its sampler dropped.
            Sample = static (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
            ActivityStarted = span => On(span, finished: false),
            ActivityStopped = span => On(span, finished: true),
        };
        ActivitySource.AddActivityListener(_listener);
    }

    private void On(Activity span, bool finished)
    {
        if (Volatile.Read(ref _traceChosen) == 0)
        {
            if (finished || span.ParentSpanId != default || !span.OperationName.StartsWith(TelemetryNames.Spans.WorkflowRunPrefix, StringComparison.Ordinal))
                return;
            if (Interlocked.CompareExchange(ref _traceChosen, 1, 0) != 0) return;
            _trace = span.TraceId;
            Volatile.Write(ref _traceChosen, 2);
        }
        if (Volatile.Read(ref _traceChosen) != 2 || span.TraceId != _trace) return;
        var parentPath = span.ParentSpanId == default ? null : _paths.GetValueOrDefault(span.ParentSpanId);
        if (!finished) _paths[span.SpanId] = AgUiEvents.SpanPath(span, parentPath);
        if (AgUiEvents.FromSpan(span, finished, parentPath, runId: "", threadId: "") is { } json) _events.Writer.TryWrite(json);
    }

    /// <summary>
    /// Prints each event as one line (see <see cref="RunsCommand.EventLine"/>) until <see cref="Complete"/>; the run's id,
    /// known only once the run has started, goes into the run events.
    /// </summary>
    public async Task PrintAsync(string runId, string threadId, TextWriter output)
    {
        long id = 0;
        await foreach (var json in _events.Reader.ReadAllAsync())
        {
            if (json["type"]?.GetValue<string>() is "RUN_STARTED" or "RUN_FINISHED" or "RUN_ERROR")
            {
                if (json["runId"]?.GetValue<string>() is null or "") json["runId"] = runId;
                if (json.ContainsKey("threadId")) json["threadId"] = threadId;
            }
            await output.WriteLineAsync(RunsCommand.EventLine(++id, json));
        }
        await output.FlushAsync();
    }

    /// <summary>No more events: the run has ended (its root span stopped before its result came back).</summary>
    public void Complete() => _events.Writer.TryComplete();

    /// <summary>Stops listening.</summary>
    public void Dispose()
    {
        _listener.Dispose();
        Complete();
    }
}
