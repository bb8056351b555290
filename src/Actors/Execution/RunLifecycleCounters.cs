using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using TtaActors.Telemetry;

namespace TtaActors.Actors.Execution;

/// <summary>
/// The per-run state a process holds, counted so that a leak is visible from outside: runs started and not yet answered,
/// per workflow (<c>workflow_runs_active</c>), and runs held by composite primitives (<c>primitive_dispatches_pending</c>).
/// Each counter is written where the state lives (one Interlocked add per run, a plain add inside an actor) and summed
/// only when the gauges are collected.
/// </summary>
internal static class RunLifecycleCounters
{
    private static readonly ConcurrentDictionary<string, StrongBox<long>> RunsActive = new(StringComparer.Ordinal);

    static RunLifecycleCounters() =>
        TtaInstrumentation.ObserveRunLifecycle(
            () => RunsActive.Select(entry => (entry.Key, Volatile.Read(ref entry.Value.Value))),
            DispatchCounter.Total);

    /// <summary>The counter of active runs of the workflow named <paramref name="workflowName"/>.</summary>
    public static StrongBox<long> RunsActiveOf(string workflowName) =>
        RunsActive.GetOrAdd(workflowName, static _ => new StrongBox<long>());
}

/// <summary>Runs held by one composite actor; written only by that actor, read by the gauge.</summary>
internal sealed class DispatchCounter
{
    private static readonly ConcurrentDictionary<DispatchCounter, byte> Live = new();
    private long _value;

    public void Add(int delta) => Volatile.Write(ref _value, _value + delta);

    public static void Register(DispatchCounter counter) => Live.TryAdd(counter, 0);

    public static void Unregister(DispatchCounter counter) => Live.TryRemove(counter, out _);

    public static long Total() => Live.Keys.Sum(counter => Volatile.Read(ref counter._value));
}
