using System.Globalization;

namespace TtaActors.Runtime.Hosting;

/// <summary>Raised for a configuration a node cannot start with; the message names the key and the problem.</summary>
public sealed class TtaConfigurationException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>The runtime's own settings, each with its <c>TTA_*</c> environment variable.</summary>
public sealed record TtaRuntimeOptions
{
    public const string DefaultServiceName = "tta-dev-main";
    public const int DefaultMetricsPort = 9464;

    /// <summary><c>TTA_SERVICE_NAME</c>, else <c>OTEL_SERVICE_NAME</c>: the workspace, reported as <c>service.name</c> and <c>service_name</c>.</summary>
    public string ServiceName { get; init; } = DefaultServiceName;

    /// <summary><c>TTA_METRICS_PORT</c>: where Prometheus scrapes <c>/metrics</c> on loopback; 0 turns the endpoint off.</summary>
    public int MetricsPort { get; init; } = DefaultMetricsPort;

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
        if (NonEmpty(read("TTA_ENVIRONMENT")) is { } environment) options = options with { Environment = environment };
        return options;
    }

    public static int ParsePort(string key, string value)
    {
        if (int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port is >= 0 and <= 65535) return port;
        throw new TtaConfigurationException($"{key}: '{value}' is not a port number (0-65535).");
    }

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}
