using System.Globalization;
using TtaActors.Telemetry;

namespace TtaActors.Runtime.Hosting;

/// <summary>Raised for a configuration a node cannot start with; the message names the key and the problem.</summary>
public sealed class TtaConfigurationException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>The runtime's own settings, each with its <c>TTA_*</c> environment variable.</summary>
public sealed record TtaRuntimeOptions
{
    /// <summary>The service name when neither <c>TTA_SERVICE_NAME</c> nor <c>OTEL_SERVICE_NAME</c> is set.</summary>
    public const string DefaultServiceName = "tta-dev-main";
    /// <summary>The Prometheus port when <c>TTA_METRICS_PORT</c> is not set (the OpenTelemetry default).</summary>
    public const int DefaultMetricsPort = 9464;
    /// <summary>The host the Prometheus endpoint binds when none is set: loopback only.</summary>
    public const string DefaultMetricsHost = "localhost";

    /// <summary><c>TTA_SERVICE_NAME</c>, else <c>OTEL_SERVICE_NAME</c>: the workspace, reported as <c>service.name</c> and <c>service_name</c>.</summary>
    public string ServiceName { get; init; } = DefaultServiceName;

    /// <summary><c>TTA_METRICS_PORT</c>: where Prometheus scrapes <c>/metrics</c> on loopback; 0 turns the endpoint off.</summary>
    public int MetricsPort { get; init; } = DefaultMetricsPort;

    /// <summary>
    /// <c>TTA_METRICS_HOST</c>: the address the Prometheus endpoint binds; <c>localhost</c> (IPv4 and IPv6 loopback)
    /// by default, <c>0.0.0.0</c> for every interface (e.g. to be scraped from another container).
    /// </summary>
    public string MetricsHost { get; init; } = DefaultMetricsHost;

    /// <summary>
    /// <c>TTA_METRIC_LABEL_VALUES</c>: the most distinct values each caller-supplied metric label (persona, chat mode,
    /// model) takes on this process; later values are reported as <c>_other</c> and counted.
    /// </summary>
    public int MetricLabelValues { get; init; } = LabelValueBound.DefaultLimit;

    /// <summary><c>TTA_ENVIRONMENT</c>: the <c>deployment.environment.name</c> resource attribute.</summary>
    public string Environment { get; init; } = "development";

    /// <summary>Reads the options from environment variables, failing with the variable's name on a bad value.</summary>
    public static TtaRuntimeOptions FromEnvironment(Func<string, string?>? read = null)
    {
        read ??= System.Environment.GetEnvironmentVariable;
        var options = new TtaRuntimeOptions();
        var serviceName = NonEmpty(read("TTA_SERVICE_NAME")) ?? NonEmpty(read("OTEL_SERVICE_NAME"));
        if (serviceName is not null) options = options with { ServiceName = serviceName };
        if (NonEmpty(read("TTA_METRICS_PORT")) is { } port) options = options with { MetricsPort = ParsePort("TTA_METRICS_PORT", port) };
        if (NonEmpty(read("TTA_METRICS_HOST")) is { } host) options = options with { MetricsHost = ParseHost("TTA_METRICS_HOST", host) };
        if (NonEmpty(read("TTA_METRIC_LABEL_VALUES")) is { } labels)
            options = options with { MetricLabelValues = ParseCount("TTA_METRIC_LABEL_VALUES", labels) };
        if (NonEmpty(read("TTA_ENVIRONMENT")) is { } environment) options = options with { Environment = environment };
        return options;
    }

    /// <summary>A port number (0 to 65535) from the setting <paramref name="key"/>.</summary>
    /// <exception cref="TtaConfigurationException">The value is not a port; the message names <paramref name="key"/>.</exception>
    public static int ParsePort(string key, string value)
    {
        if (int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port is >= 0 and <= 65535) return port;
        throw new TtaConfigurationException($"{key}: '{value}' is not a port number (0-65535).");
    }

    /// <summary><c>localhost</c> or an IP address (<c>127.0.0.1</c>, <c>0.0.0.0</c>, <c>::</c>, an interface's address).</summary>
    public static string ParseHost(string key, string value)
    {
        var host = value.Trim().Trim('[', ']');
        if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase) || System.Net.IPAddress.TryParse(host, out _)) return host;
        throw new TtaConfigurationException($"{key}: '{value}' is not an IP address; use localhost, 127.0.0.1, 0.0.0.0 or an interface address.");
    }

    /// <summary>A whole number from 1 to <see cref="int.MaxValue"/>.</summary>
    public static int ParseCount(string key, string value)
    {
        if (int.TryParse(value.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var count) && count > 0) return count;
        throw new TtaConfigurationException($"{key}: '{value}' is not a whole number from 1 to {int.MaxValue}.");
    }

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}
