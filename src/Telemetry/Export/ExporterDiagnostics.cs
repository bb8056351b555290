using System.Diagnostics.Tracing;
using System.Globalization;
using System.Text.RegularExpressions;

namespace TtaActors.Telemetry.Export;

/// <summary>
/// Why an export failed, when the exporter only answers <c>Failure</c>: OpenTelemetry's exporters (OTLP among them)
/// report the cause (HTTP status, refused connection, timeout) as warnings and errors on their EventSource. Events are
/// delivered on the thread that writes them, so the one written during a call on an exporter's own thread is that
/// call's cause. User info in addresses is removed, so credentials never reach the log.
/// </summary>
internal sealed partial class ExporterDiagnostics : EventListener
{
    private const string ExporterSourcePrefix = "OpenTelemetry-Exporter";
    private static readonly Lazy<ExporterDiagnostics> Listener = new(() => new ExporterDiagnostics());

    [ThreadStatic] private static Capture? _current;

    /// <summary>Collects what exporters report on this thread until disposed.</summary>
    public static Capture Start()
    {
        _ = Listener.Value;
        return _current = new Capture();
    }

    protected override void OnEventSourceCreated(EventSource source)
    {
        if (source.Name.StartsWith(ExporterSourcePrefix, StringComparison.Ordinal)) EnableEvents(source, EventLevel.Warning);
    }

    protected override void OnEventWritten(EventWrittenEventArgs data)
    {
        if (_current is not { } capture || data.Message is null) return;
        var text = data.Payload is { Count: > 0 } payload
            ? string.Format(CultureInfo.InvariantCulture, data.Message, payload.ToArray())
            : data.Message;
        capture.Reported = UserInfo().Replace(text, "://");
    }

    [GeneratedRegex(@"://[^/\s@]+@")]
    private static partial Regex UserInfo();

    public sealed class Capture : IDisposable
    {
        /// <summary>The last warning or error an exporter wrote on this thread, or null.</summary>
        public string? Reported { get; internal set; }

        public void Dispose()
        {
            if (ReferenceEquals(_current, this)) _current = null;
        }
    }
}
