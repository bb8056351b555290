using System.Diagnostics;
using OpenTelemetry;

namespace TtaActors.Telemetry.Export;

/// <summary>
/// One destination of finished spans: a standard OpenTelemetry exporter and the name it is reported under in the
/// pipeline's metrics (<c>exporter</c> label). OTLP, Langfuse and any user exporter plug in the same way.
/// </summary>
public sealed record NamedExporter
{
    public NamedExporter(string name, BaseExporter<Activity> exporter)
    {
        if (string.IsNullOrWhiteSpace(name)) throw new ArgumentException("An exporter needs a name.", nameof(name));
        Name = name;
        Exporter = exporter ?? throw new ArgumentNullException(nameof(exporter));
    }

    public string Name { get; }
    public BaseExporter<Activity> Exporter { get; }
}
