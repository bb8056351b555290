using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using TtaActors.Telemetry;

namespace TtaActors.Tests.Primitives;

/// <summary>One measurement of a TtaActors instrument, with its tags.</summary>
public sealed record RecordedMeasurement(string Instrument, double Value, IReadOnlyDictionary<string, object?> Tags)
{
    public string? Tag(string key) => Tags.TryGetValue(key, out var value) ? value?.ToString() : null;
}

/// <summary>
/// Listens to the named instruments of the TtaActors meter. Tests run in parallel in one process, so measurements are
/// read back by <c>primitive_name</c>, which each test makes unique.
/// </summary>
public sealed class MetricRecorder : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentQueue<RecordedMeasurement> _measurements = new();
    private readonly List<(Func<RecordedMeasurement, bool> Match, int Count, TaskCompletionSource Done)> _waiters = [];
    private readonly Lock _lock = new();

    public MetricRecorder(params string[] instruments)
    {
        var wanted = instruments.ToHashSet();
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == TelemetryNames.SourceName && wanted.Contains(instrument.Name))
                listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.SetMeasurementEventCallback<int>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.Start();
    }

    public IReadOnlyList<RecordedMeasurement> Of(string instrument, string primitiveName) =>
        _measurements.Where(m => m.Instrument == instrument && m.Tag(TelemetryNames.Labels.PrimitiveName) == primitiveName).ToList();

    public double Sum(string instrument, string primitiveName) => Of(instrument, primitiveName).Sum(m => m.Value);

    /// <summary>Completes once <paramref name="count"/> measurements of the instrument for the primitive have been seen.</summary>
    public Task WaitFor(string instrument, string primitiveName, int count)
    {
        bool Match(RecordedMeasurement m) => m.Instrument == instrument && m.Tag(TelemetryNames.Labels.PrimitiveName) == primitiveName;
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lock)
        {
            if (_measurements.Count(Match) >= count) done.SetResult();
            else _waiters.Add((Match, count, done));
        }
        return done.Task;
    }

    public void Dispose() => _listener.Dispose();

    private void Record<T>(Instrument instrument, T value, ReadOnlySpan<KeyValuePair<string, object?>> tags) where T : struct
    {
        var tagCopy = new Dictionary<string, object?>();
        foreach (var tag in tags) tagCopy[tag.Key] = tag.Value;
        var measurement = new RecordedMeasurement(instrument.Name, Convert.ToDouble(value), tagCopy);
        lock (_lock)
        {
            _measurements.Enqueue(measurement);
            foreach (var waiter in _waiters.Where(w => w.Match(measurement)).ToList())
            {
                if (_measurements.Count(waiter.Match) < waiter.Count) continue;
                waiter.Done.TrySetResult();
                _waiters.Remove(waiter);
            }
        }
    }
}
