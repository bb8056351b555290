using Akka.Configuration;

namespace TtaActors.Telemetry.Export;

/// <summary>Reads <see cref="TelemetryPipelineOptions"/> from the <c>tta.telemetry</c> HOCON section.</summary>
public static class TelemetryPipelineConfig
{
    /// <summary>The HOCON section the options are read from.</summary>
    public const string Section = "tta.telemetry";

    /// <summary>The options in <paramref name="config"/>; keys it does not set keep their defaults.</summary>
    public static TelemetryPipelineOptions FromConfig(Config config)
    {
        var defaults = new TelemetryPipelineOptions();
        if (!config.HasPath(Section)) return defaults;
        var section = config.GetConfig(Section);
        var options = defaults with
        {
            MaxQueueSize = Int(section, "max-queue-size", defaults.MaxQueueSize),
            MaxQueueBytes = Bytes(section, "max-queue-bytes", defaults.MaxQueueBytes),
            MaxExportBatchSize = Int(section, "max-export-batch-size", defaults.MaxExportBatchSize),
            ScheduledDelay = Duration(section, "scheduled-delay", defaults.ScheduledDelay),
            InitialRetryBackoff = Duration(section, "initial-retry-backoff", defaults.InitialRetryBackoff),
            MaxRetryBackoff = Duration(section, "max-retry-backoff", defaults.MaxRetryBackoff),
            ShutdownTimeout = Duration(section, "shutdown-timeout", defaults.ShutdownTimeout),
            ExportTimeout = Duration(section, "export-timeout", defaults.ExportTimeout),
            FailureLogInterval = Duration(section, "failure-log-interval", defaults.FailureLogInterval),
            MaxExportAttempts = Attempts(section, defaults.MaxExportAttempts),
        };
        try
        {
            options.Validate();
        }
        catch (ArgumentOutOfRangeException error)
        {
            throw new ConfigurationException($"{Section}: {error.Message}");
        }
        return options;
    }

    private static int Int(Config section, string key, int fallback)
    {
        if (!section.HasPath(key)) return fallback;
        var text = section.GetString(key);
        return int.TryParse(text, out var value) && value > 0
            ? value
            : throw new ConfigurationException($"{Section}.{key}: '{text}' is not a positive whole number.");
    }

    private static long Bytes(Config section, string key, long fallback)
    {
        if (!section.HasPath(key)) return fallback;
        var text = section.GetString(key);
        long? value;
        try
        {
            value = section.GetByteSize(key);
        }
        catch (Exception error) when (error is not OutOfMemoryException)
        {
            value = null;
        }
        return value is > 0
            ? value.Value
            : throw new ConfigurationException($"{Section}.{key}: '{text}' is not a positive size (examples: 65536, 64MiB, 512k).");
    }

    private static TimeSpan Duration(Config section, string key, TimeSpan fallback)
    {
        if (!section.HasPath(key)) return fallback;
        try
        {
            return section.GetTimeSpan(key);
        }
        catch (Exception error) when (error is not OutOfMemoryException)
        {
            throw new ConfigurationException($"{Section}.{key}: '{section.GetString(key)}' is not a duration (examples: 500ms, 2s, 1m).");
        }
    }

    private static int? Attempts(Config section, int? fallback)
    {
        const string key = "max-export-attempts";
        if (!section.HasPath(key)) return fallback;
        var text = section.GetString(key);
        if (string.Equals(text, "unlimited", StringComparison.OrdinalIgnoreCase)) return null;
        return int.TryParse(text, out var value) && value > 0
            ? value
            : throw new ConfigurationException($"{Section}.{key}: '{text}' is neither 'unlimited' nor a positive whole number.");
    }
}
