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

    public static IReadOnlyList<string> PanelQueries()
    {
        using var dashboard = JsonDocument.Parse(File.ReadAllText(Path.Combine(Deploy(), "grafana", "tta-primitives-dashboard.json")));
        return dashboard.RootElement.GetProperty("panels").EnumerateArray()
            .SelectMany(panel => panel.GetProperty("targets").EnumerateArray())
            .Select(target => target.GetProperty("expr").GetString()!)
            .ToList();
    }

    /// <summary>Every metric name TtaActors exports, with the series suffixes Prometheus adds to histograms.</summary>
    private static HashSet<string> KnownSeries()
    {
        var names = new[] { typeof(TelemetryNames.Metrics), typeof(TelemetryNames.PipelineMetrics), typeof(TelemetryNames.ActorMetrics) }
            .SelectMany(type => type.GetFields(BindingFlags.Public | BindingFlags.Static))
            .Select(field => (string)field.GetValue(null)!)
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
            var metrics = Regex.Matches(query, @"\b([a-z_]+)\s*\{").Select(m => m.Groups[1].Value).ToList();
            Assert.NotEmpty(metrics);
            Assert.All(metrics, metric => Assert.True(known.Contains(metric), $"'{metric}' in '{query}' is not a TtaActors metric"));
        }
        Assert.Contains(queries, q => q.Contains("histogram_quantile(0.95") && q.Contains("primitive_execution_duration_seconds_bucket"));
        Assert.Contains(queries, q => q.Contains("status=\"error\""));
        Assert.Contains(queries, q => q.Contains("by (persona)"));
        Assert.Contains(queries, q => q.Contains("by (service_name)"));
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
