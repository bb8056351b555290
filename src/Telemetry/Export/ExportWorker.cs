using System.Collections.Concurrent;

namespace TtaActors.Telemetry.Export;

/// <summary>
/// The one thread that calls an exporter. <c>Export</c> and <c>ForceFlush</c> are synchronous and may block for as
/// long as a backend hangs; on this thread they stall nobody, and the exporter actor stays free to time a call out,
/// take new batches and account for everything at shutdown. A background thread, so a call that never returns does
/// not keep the process alive.
/// </summary>
internal sealed class ExportWorker : IDisposable
{
    private readonly BlockingCollection<Action> _jobs = new();

    public ExportWorker(string exporterName)
    {
        var thread = new Thread(Run) { IsBackground = true, Name = $"tta-exporter-{exporterName}" };
        thread.Start();
    }

    /// <summary>Runs <paramref name="job"/> after the jobs before it; the job reports its own outcome.</summary>
    public void Enqueue(Action job) => _jobs.Add(job);

    private void Run()
    {
        foreach (var job in _jobs.GetConsumingEnumerable()) job();
        _jobs.Dispose();
    }

    /// <summary>No more jobs: the thread ends once it has run the ones it was given.</summary>
    public void Dispose() => _jobs.CompleteAdding();
}
