using System.Globalization;
using OpenTelemetry.Exporter;

namespace TtaActors.Telemetry.Export;

/// <summary>Raised for an OTLP setting that cannot be used; the message names the variable and the problem.</summary>
public sealed class OtlpConfigurationException(string message) : Exception(message);

/// <summary>
/// Where and how to send traces, metrics and logs over OTLP, read from the standard OpenTelemetry variables:
/// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> (unset = no OTLP export), <c>OTEL_EXPORTER_OTLP_PROTOCOL</c> (<c>grpc</c>, the
/// default, or <c>http/protobuf</c>), <c>OTEL_EXPORTER_OTLP_HEADERS</c>, <c>OTEL_EXPORTER_OTLP_TIMEOUT</c> (ms), and
/// <c>OTEL_TRACES_EXPORTER</c> / <c>OTEL_METRICS_EXPORTER</c> / <c>OTEL_LOGS_EXPORTER</c> (<c>otlp</c> or <c>none</c>).
/// </summary>
public sealed record OtlpSettings
{
    /// <summary>The name the OTLP trace exporter has in the pipeline's metrics and logs.</summary>
    public const string ExporterName = "otlp";

    /// <summary>The collector's base address, e.g. <c>http://localhost:4317</c> (grpc) or <c>http://localhost:4318</c> (http/protobuf).</summary>
    public required Uri Endpoint { get; init; }

    /// <summary><c>OTEL_EXPORTER_OTLP_PROTOCOL</c>: grpc (the default) or http/protobuf.</summary>
    public OtlpExportProtocol Protocol { get; init; } = OtlpExportProtocol.Grpc;

    /// <summary>Extra request headers as <c>key=value,key2=value2</c> (credentials); never logged.</summary>
    public string? Headers { get; init; }

    /// <summary><c>OTEL_EXPORTER_OTLP_TIMEOUT</c>: how long one export may take, in milliseconds; 10,000 by default.</summary>
    public int TimeoutMilliseconds { get; init; } = 10_000;

    /// <summary><c>OTEL_TRACES_EXPORTER</c> is not <c>none</c>: traces go over OTLP.</summary>
    public bool Traces { get; init; } = true;
    /// <summary><c>OTEL_METRICS_EXPORTER</c> is not <c>none</c>: metrics go over OTLP.</summary>
    public bool Metrics { get; init; } = true;
    /// <summary><c>OTEL_LOGS_EXPORTER</c> is not <c>none</c>: logs go over OTLP.</summary>
    public bool Logs { get; init; } = true;

    /// <summary>The settings from the environment, or null when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is not set.</summary>
    public static OtlpSettings? FromEnvironment(Func<string, string?>? read = null)
    {
        read ??= Environment.GetEnvironmentVariable;
        var endpoint = NonEmpty(read("OTEL_EXPORTER_OTLP_ENDPOINT"));
        if (endpoint is null) return null;
        if (!Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            throw new OtlpConfigurationException(
                $"OTEL_EXPORTER_OTLP_ENDPOINT: '{endpoint}' is not an http:// or https:// address (example: http://localhost:4317).");

        var settings = new OtlpSettings { Endpoint = uri, Headers = NonEmpty(read("OTEL_EXPORTER_OTLP_HEADERS")) };
        switch (NonEmpty(read("OTEL_EXPORTER_OTLP_PROTOCOL"))?.ToLowerInvariant())
        {
            case null or "grpc":
                break;
            case "http/protobuf":
                settings = settings with { Protocol = OtlpExportProtocol.HttpProtobuf };
                break;
            case var other:
                throw new OtlpConfigurationException(
                    $"OTEL_EXPORTER_OTLP_PROTOCOL: '{other}' is not supported; use 'grpc' or 'http/protobuf'.");
        }
        if (NonEmpty(read("OTEL_EXPORTER_OTLP_TIMEOUT")) is { } timeout)
        {
            if (!int.TryParse(timeout, NumberStyles.None, CultureInfo.InvariantCulture, out var ms) || ms < 1)
                throw new OtlpConfigurationException($"OTEL_EXPORTER_OTLP_TIMEOUT: '{timeout}' is not a positive number of milliseconds.");
            settings = settings with { TimeoutMilliseconds = ms };
        }
        return settings with
        {
            Traces = Enabled(read, "OTEL_TRACES_EXPORTER"),
            Metrics = Enabled(read, "OTEL_METRICS_EXPORTER"),
            Logs = Enabled(read, "OTEL_LOGS_EXPORTER"),
        };
    }

    /// <summary>The address of one signal: as given for grpc, with <c>/v1/{signal}</c> appended for http/protobuf.</summary>
    public Uri SignalEndpoint(string signal)
    {
        if (Protocol == OtlpExportProtocol.Grpc) return Endpoint;
        var path = Endpoint.AbsolutePath.TrimEnd('/');
        return new UriBuilder(Endpoint) { Path = $"{path}/v1/{signal}" }.Uri;
    }

    /// <summary>Applies these settings to the OpenTelemetry exporter options of <paramref name="signal"/> (traces, metrics, logs).</summary>
    public void Configure(OtlpExporterOptions options, string signal)
    {
        options.Endpoint = SignalEndpoint(signal);
        options.Protocol = Protocol;
        options.TimeoutMilliseconds = TimeoutMilliseconds;
        if (Headers is not null) options.Headers = Headers;
    }

    /// <summary>The standard OTLP trace exporter, named <c>otlp</c>, for the telemetry pipeline.</summary>
    public NamedExporter CreateTraceExporter()
    {
        var options = new OtlpExporterOptions();
        Configure(options, "traces");
        var exporter = new OtlpTraceExporter(options);
        NamedExporter.Describe(exporter, options.Endpoint);
        return new NamedExporter(ExporterName, exporter);
    }

    private static bool Enabled(Func<string, string?> read, string key) =>
        NonEmpty(read(key))?.ToLowerInvariant() switch
        {
            null or "otlp" => true,
            "none" => false,
            var other => throw new OtlpConfigurationException($"{key}: '{other}' is not supported here; use 'otlp' or 'none'."),
        };

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}
