using System.Diagnostics;
using OpenTelemetry;

namespace TtaActors.Telemetry.Export;

/// <summary>Hands every finished, recorded span to the telemetry pipeline; never blocks the thread that ended it.</summary>
internal sealed class TelemetrySpanProcessor(TelemetryPipeline pipeline) : BaseProcessor<Activity>
{
    public override void OnEnd(Activity data)
    {
        if (data.Recorded) pipeline.Offer(data);
    }

    protected override bool OnForceFlush(int timeoutMilliseconds) => FlushWithin(timeoutMilliseconds);

    protected override bool OnShutdown(int timeoutMilliseconds) => FlushWithin(timeoutMilliseconds);

    private bool FlushWithin(int timeoutMilliseconds)
    {
        var limit = pipeline.Options.ShutdownTimeout;
        var timeout = timeoutMilliseconds < 0 ? limit : TimeSpan.FromMilliseconds(Math.Min(timeoutMilliseconds, limit.TotalMilliseconds));
        // The SDK's flush and shutdown are synchronous by contract; FlushAsync is bounded by the timeout and runs on
        // the actors, so this thread only waits, for at most that long.
        return pipeline.FlushAsync(timeout).GetAwaiter().GetResult();
    }
}
