using System.Diagnostics;
using System.Reflection;
using System.Text.Json;
using System.Text.RegularExpressions;
using TtaActors.Telemetry;

namespace TtaActors.Tests.TelemetryPipeline;

/// <summary>The files in deploy/: checked with the tools that exist for them.</summary>
public class DashboardSpecs
{
    public static string Deploy([System.Runtime.CompilerServices.CallerFilePath] string here = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(here)!, "..", "..", "..", "deploy"));

    /// <summary>The PromQL of every Prometheus panel (rows and Loki panels left out).</summary>
    public static IReadOnlyList<string> PanelQueries() => Queries("prometheus");

    /// <summary>The LogQL of every Loki panel.</summary>
    public static IReadOnlyList<string> LogPanelQueries() => Queries("loki");

    private static IReadOnlyList<string> Queries(string datasource)
    {
        using var dashboard = JsonDocument.Parse(File.ReadAllText(Path.Combine(Deploy(), "grafana", "tta-primitives-dashboard.json")));
        return dashboard.RootElement.GetProperty("panels").EnumerateArray()
            .Where(panel => panel.GetProperty("type").GetString() != "row"
                && panel.GetProperty("datasource").GetProperty("type").GetString() == datasource)
            .SelectMany(panel => panel.GetProperty("targets").EnumerateArray())
            .Select(target => target.GetProperty("expr").GetString()!)
            .ToList();
    }

    /// <summary>The host exporter's series (node_exporter, via prometheus.exporter.unix in deploy/alloy) the host row uses.</summary>
    public static readonly IReadOnlyList<string> HostSeries =
        ["node_cpu_seconds_total", "node_memory_MemTotal_bytes", "node_memory_MemAvailable_bytes", "node_filesystem_avail_bytes", "node_filesystem_size_bytes"];

    /// <summary>Every metric name TtaActors exports, with the series suffixes Prometheus adds to histograms.</summary>
    private static HashSet<string> KnownSeries()
    {
        var names = new[] { typeof(TelemetryNames.Metrics), typeof(TelemetryNames.PipelineMetrics), typeof(TelemetryNames.ActorMetrics), typeof(TelemetryNames.ProcessMetrics) }
            .SelectMany(type => type.GetFields(BindingFlags.Public | BindingFlags.Static))
            .Select(field => (string)field.GetValue(null)!)
            .Append(TelemetryNames.BuildInfo.Name)
            .Concat(HostSeries)
            .ToList();
        return names.Concat(names.SelectMany(n => new[] { n + "_bucket", n + "_count", n + "_sum" })).ToHashSet();
    }

    [Fact]
    public void Every_dashboard_panel_should_query_only_metrics_that_tta_exports()
    {
        var queries = PanelQueries();
        Assert.NotEmpty(queries);
        var known = KnownSeries();
        foreach (var query in queries)
        {
            var metrics = Regex.Matches(query, @"\b([A-Za-z_]+)\s*\{").Select(m => m.Groups[1].Value).ToList();
            Assert.NotEmpty(metrics);
            Assert.All(metrics, metric => Assert.True(known.Contains(metric), $"'{metric}' in '{query}' is not a TtaActors metric"));
        }
        Assert.Contains(queries, q => q.Contains("histogram_quantile(0.95") && q.Contains("primitive_execution_duration_seconds_bucket"));
        Assert.Contains(queries, q => q.Contains("status=\"error\""));
        Assert.Contains(queries, q => q.Contains("by (persona)"));
        Assert.Contains(queries, q => q.Contains("by (service_name)"));
        // The host and process row: CPU, memory and disk of the host, CPU, memory, GC and thread pool of each workspace.
        Assert.All(HostSeries, series => Assert.Contains(queries, q => q.Contains(series)));
        foreach (var series in new[] { TelemetryNames.ProcessMetrics.CpuTime, TelemetryNames.ProcessMetrics.MemoryUsage,
                     TelemetryNames.ProcessMetrics.GcCollections, TelemetryNames.ProcessMetrics.ThreadPoolThreads })
            Assert.Contains(queries, q => q.Contains(series) && q.Contains(TelemetryNames.BuildInfo.Name));
    }

    [SkippableFact]
    public async Task The_prometheus_scrape_config_should_pass_promtool()
    {
        Skip.IfNot(File.Exists("/usr/bin/promtool"), "promtool is not installed (Debian package 'prometheus').");
        var check = Process.Start(new ProcessStartInfo("/usr/bin/promtool", $"check config {Path.Combine(Deploy(), "prometheus", "prometheus.yml")}")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        })!;
        var output = await check.StandardOutput.ReadToEndAsync() + await check.StandardError.ReadToEndAsync();
        await check.WaitForExitAsync();
        Assert.True(check.ExitCode == 0, output);
        Assert.Contains("localhost:9464", await File.ReadAllTextAsync(Path.Combine(Deploy(), "prometheus", "prometheus.yml")));
    }
}
