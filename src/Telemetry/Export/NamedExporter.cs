using System.Diagnostics;
using System.Runtime.CompilerServices;
using OpenTelemetry;

namespace TtaActors.Telemetry.Export;

/// <summary>
/// One destination of finished spans: a standard OpenTelemetry exporter and the name it is reported under in the
/// pipeline's metrics (<c>exporter</c> label). OTLP, Langfuse and any user exporter plug in the same way.
/// </summary>
public sealed record NamedExporter
{
    // Exporters made by this library (OTLP, Langfuse) say where they send, also when only the exporter is passed on.
    private static readonly ConditionalWeakTable<BaseExporter<Activity>, string> KnownEndpoints = new();

    /// <param name="name">The <c>exporter</c> label of the pipeline's metrics and the name in its logs.</param>
    /// <param name="exporter">The exporter.</param>
    /// <param name="endpoint">Where it sends, for the logs; user info and query are left out, so credentials never show.</param>
    public NamedExporter(string name, BaseExporter<Activity> exporter, Uri? endpoint = null)
    {
        if (string.IsNullOrWhiteSpace(name)) throw new ArgumentException("An exporter needs a name.", nameof(name));
        Name = name;
        Exporter = exporter ?? throw new ArgumentNullException(nameof(exporter));
        Endpoint = endpoint is not null ? Printable(endpoint) : KnownEndpoints.TryGetValue(exporter, out var known) ? known : null;
    }

    /// <summary>The <c>exporter</c> label of the pipeline's metrics.</summary>
    public string Name { get; }
    /// <summary>The OpenTelemetry exporter the pipeline hands batches to.</summary>
    public BaseExporter<Activity> Exporter { get; }

    /// <summary>Where the exporter sends (scheme, host, port and path only), or null when it was not given.</summary>
    public string? Endpoint { get; }

    /// <summary>How the pipeline's logs name this exporter: its name and endpoint.</summary>
    public override string ToString() => Endpoint is null ? $"'{Name}'" : $"'{Name}' ({Endpoint})";

    internal static void Describe(BaseExporter<Activity> exporter, Uri endpoint) => KnownEndpoints.AddOrUpdate(exporter, Printable(endpoint));

    internal static string Printable(Uri endpoint) =>
        endpoint.IsAbsoluteUri
            ? endpoint.GetComponents(UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.UriEscaped)
            : "(relative address)";
}
