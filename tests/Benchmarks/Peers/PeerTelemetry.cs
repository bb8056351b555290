using System.Diagnostics;

namespace TtaActors.Benchmarks.Peers;

/// <summary>The one span source of the hand-written peers (bare Akka.NET actors, plain async methods).</summary>
public static class PeerTelemetry
{
    public const string SourceName = "TtaActors.Benchmarks.Peers";

    public static readonly ActivitySource Source = new(SourceName);
}
