using Akka.Event;

namespace TtaActors.Telemetry.Export;

/// <summary>
/// Warnings about one exporter, rate-limited: the first is logged at once, later ones at most once per interval,
/// each saying how many were held back since the last one. Time is the actor system's scheduler clock.
/// </summary>
internal sealed class RateLimitedLog(ILoggingAdapter log, TimeSpan interval)
{
    private DateTimeOffset? _lastLogged;
    private int _suppressed;

    /// <summary>
    /// Logs <paramref name="message"/> now and answers true, or counts it and answers false when the last warning is
    /// more recent than the interval.
    /// </summary>
    public bool Warning(string message, DateTimeOffset now)
    {
        if (_lastLogged is { } last && now - last < interval)
        {
            _suppressed++;
            return false;
        }
        log.Warning(_suppressed == 0 ? message : $"{message} ({_suppressed} more since the last warning were not logged)");
        _lastLogged = now;
        _suppressed = 0;
        return true;
    }
}
