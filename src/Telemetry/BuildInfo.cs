using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Reflection;

namespace TtaActors.Telemetry;

/// <summary>
/// What a workspace runs, as the <c>tta_build_info</c> gauge (value 1): the TtaActors, Akka.NET and .NET versions and the
/// service name. A host registers its workspace while it runs; the gauge reports every registered one.
/// </summary>
public static class BuildInfo
{
    private static readonly ConcurrentDictionary<Registration, byte> Registered = new();

    /// <summary>The TtaActors version (informational version without the source revision).</summary>
    public static string Version { get; } = Strip(typeof(BuildInfo).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion);

    /// <summary>The Akka.NET version the process loaded.</summary>
    public static string AkkaVersion { get; } = Strip(typeof(Akka.Actor.ActorSystem).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion);

    /// <summary>The .NET runtime version, e.g. <c>10.0.0</c>.</summary>
    public static string DotnetVersion { get; } = Environment.Version.ToString();

    /// <summary>Reports <paramref name="serviceName"/> in <c>tta_build_info</c> until the result is disposed.</summary>
    public static IDisposable Register(string serviceName)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(serviceName);
        var registration = new Registration(serviceName);
        Registered[registration] = 0;
        _ = TtaInstrumentation.BuildInfo;
        return registration;
    }

    internal static IEnumerable<Measurement<int>> Measurements() =>
        Registered.Keys.Select(r => r.ServiceName).Distinct().Select(service => new Measurement<int>(1,
            new KeyValuePair<string, object?>(TelemetryNames.BuildInfo.Version, Version),
            new KeyValuePair<string, object?>(TelemetryNames.BuildInfo.AkkaVersion, AkkaVersion),
            new KeyValuePair<string, object?>(TelemetryNames.BuildInfo.DotnetVersion, DotnetVersion),
            new KeyValuePair<string, object?>(TelemetryNames.Labels.ServiceName, service)));

    // "1.2.3+abcdef" -> "1.2.3": the revision would make a new series on every build.
    private static string Strip(string? version) => version is null ? "unknown" : version.Split('+')[0];

    private sealed class Registration(string serviceName) : IDisposable
    {
        public string ServiceName { get; } = serviceName;

        public void Dispose() => Registered.TryRemove(this, out _);
    }
}
