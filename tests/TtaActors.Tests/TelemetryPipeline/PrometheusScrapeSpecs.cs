using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using TtaActors.Runtime.Demo;
using TtaActors.Runtime.Hosting;
using TtaActors.Telemetry;
using TtaActors.Tests.Support;

namespace TtaActors.Tests.TelemetryPipeline;

/// <summary>
/// A node running the demo workflow, scraped by a real Prometheus; the PromQL of DESIGN.md section 4 and every panel
/// query of the Grafana dashboard run through Prometheus's HTTP API.
/// </summary>
public class PrometheusScrapeSpecs
{
    private const string Service = "tta-dev-copilot";
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    [SkippableFact]
    public async Task A_real_prometheus_should_answer_the_design_promql_and_the_dashboard_queries_from_a_running_node()
    {
        Skip.IfNot(PrometheusServer.Installed, $"Prometheus is not installed at {PrometheusServer.Binary} (Debian package 'prometheus').");
        var metricsPort = FreePort.Next();
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddTtaActors(new TtaRuntimeOptions { ServiceName = Service, MetricsPort = metricsPort });
        using var host = builder.Build();
        await host.StartAsync();
        using var prometheus = new PrometheusServer(metricsPort);
        using var stop = new CancellationTokenSource();
        var graph = host.Services.GetRequiredService<TtaRuntime>().Materialize(DemoWorkflow.Build(), DemoWorkflow.Name);
        // Runs go on while Prometheus scrapes, so rates and quantiles have increases to work with.
        var load = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested) await graph.RunAsync(DemoWorkflow.DefaultInput, DemoWorkflow.Context());
        });

        try
        {
            var executions = await prometheus.QueryUntilNonEmptyAsync("rate(primitive_executions_total[5m])", Patience);
            Assert.Contains(executions.EnumerateArray(), s => PrometheusServer.Label(s, "primitive_name") == "call-design-tool"
                && PrometheusServer.Label(s, "status") == "error" && PrometheusServer.Value(s) > 0);

            var p95 = await prometheus.QueryUntilNonEmptyAsync(
                "histogram_quantile(0.95, rate(primitive_execution_duration_seconds_bucket[5m]))", Patience);
            Assert.All(p95.EnumerateArray().Where(s => double.IsFinite(PrometheusServer.Value(s))),
                s => Assert.InRange(PrometheusServer.Value(s), 0, 120));

            // The demo's LLM step runs on the offline model, priced in the cost catalog.
            var cost = await prometheus.QueryUntilNonEmptyAsync("sum by (model) (rate(llm_cost_usd_total[1h]))", Patience);
            Assert.All(cost.EnumerateArray(), s => Assert.NotEqual("", PrometheusServer.Label(s, "model")));

            var backendCounts = await prometheus.QueryUntilNonEmptyAsync(
                "primitive_execution_duration_seconds_count{persona=\"backend-engineer\"}", Patience);
            Assert.All(backendCounts.EnumerateArray(), s => Assert.Equal("backend-engineer", PrometheusServer.Label(s, "persona")));

            var byPersona = await prometheus.QueryUntilNonEmptyAsync("sum by (persona) (rate(primitive_executions_total[5m]))", Patience);
            Assert.Contains(byPersona.EnumerateArray(), s => PrometheusServer.Label(s, "persona") == "backend-engineer" && PrometheusServer.Value(s) > 0);

            var workspace = await prometheus.QueryUntilNonEmptyAsync($"{{service_name=\"{Service}\"}}", Patience);
            var names = workspace.EnumerateArray().Select(s => PrometheusServer.Label(s, "__name__")).ToHashSet();
            Assert.Contains("primitive_executions_total", names);
            Assert.Contains(TelemetryNames.ActorMetrics.MessagesReceived, names);
            Assert.Contains(TelemetryNames.PipelineMetrics.QueueDepth, names);

            var received = await prometheus.QueryUntilNonEmptyAsync(
                $"{TelemetryNames.ActorMetrics.MessagesReceived}{{actor_type=\"LambdaActor\", service_name=\"{Service}\"}}", Patience);
            Assert.True(PrometheusServer.Value(received[0]) > 0);
            await prometheus.QueryUntilNonEmptyAsync($"{TelemetryNames.ActorMetrics.LiveActors}{{actor_type=\"SequentialActor\"}}", Patience);

            // curl http://localhost:9464/metrics | grep tta_ finds the build info, as Prometheus stores it.
            var build = Assert.Single((await prometheus.QueryUntilNonEmptyAsync(
                $"{TelemetryNames.BuildInfo.Name}{{service_name=\"{Service}\"}}", Patience)).EnumerateArray());
            Assert.Equal(1, PrometheusServer.Value(build));
            Assert.Equal(TtaActors.Telemetry.BuildInfo.AkkaVersion, PrometheusServer.Label(build, TelemetryNames.BuildInfo.AkkaVersion));
            Assert.Equal(Environment.Version.ToString(), PrometheusServer.Label(build, TelemetryNames.BuildInfo.DotnetVersion));
            Assert.Matches(@"^\d+\.\d+\.\d+", PrometheusServer.Label(build, TelemetryNames.BuildInfo.Version));
            Assert.Matches(@"^1\.5\.\d+", PrometheusServer.Label(build, TelemetryNames.BuildInfo.AkkaVersion));

            // Process and .NET runtime metrics, every name the dashboard's process row uses.
            foreach (var series in typeof(TelemetryNames.ProcessMetrics).GetFields().Select(f => (string)f.GetValue(null)!))
                await prometheus.QueryUntilNonEmptyAsync(series, Patience);
            var cpu = await prometheus.QueryUntilNonEmptyAsync(DashboardSpecs.PanelQueries()
                .First(q => q.Contains(TelemetryNames.ProcessMetrics.CpuTime)).Replace("$service_name", Service), Patience);
            Assert.Equal(Service, PrometheusServer.Label(cpu[0], "service_name"));

            foreach (var query in DashboardSpecs.PanelQueries())
            {
                var promql = query.Replace("$service_name", Service).Replace("$persona", ".*");
                await prometheus.QueryAsync(promql);
            }
            await prometheus.QueryUntilNonEmptyAsync(
                DashboardSpecs.PanelQueries().First(q => q.Contains("by (persona)")).Replace("$service_name", Service).Replace("$persona", ".*"), Patience);
        }
        finally
        {
            await stop.CancelAsync();
            await load;
            await host.StopAsync();
        }
    }

    [SkippableFact]
    public async Task Promtool_should_accept_the_scraped_metrics_text()
    {
        Skip.IfNot(File.Exists("/usr/bin/promtool"), "promtool is not installed (Debian package 'prometheus').");
        var metricsPort = FreePort.Next();
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddTtaActors(new TtaRuntimeOptions { ServiceName = Service, MetricsPort = metricsPort });
        using var host = builder.Build();
        await host.StartAsync();
        var graph = host.Services.GetRequiredService<TtaRuntime>().Materialize(DemoWorkflow.Build(), DemoWorkflow.Name);
        await graph.RunAsync(DemoWorkflow.DefaultInput, DemoWorkflow.Context());
        using var http = new HttpClient();
        var text = await http.GetStringAsync($"http://localhost:{metricsPort}/metrics");
        await host.StopAsync();

        var check = Process.Start(new ProcessStartInfo("/usr/bin/promtool", "check metrics")
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        })!;
        await check.StandardInput.WriteAsync(text);
        check.StandardInput.Close();
        var problems = await check.StandardOutput.ReadToEndAsync() + await check.StandardError.ReadToEndAsync();
        await check.WaitForExitAsync();

        // The runtime and process instrumentation name gauges "*.count" (dotnet.assembly.count, process.thread.count) by
        // the OpenTelemetry conventions; promtool's lint dislikes the suffix. Those are not TtaActors names; any other
        // finding fails.
        var findings = problems.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Where(line => !Regex.IsMatch(line.Trim(), @"^(dotnet|process)_[a-z_]+_count non-histogram and non-summary metrics should not have ""_count"" suffix$"))
            .ToList();
        Assert.True(check.ExitCode == 0 || findings.Count == 0, $"promtool check metrics failed:\n{problems}");
        Assert.Empty(findings);
        Assert.Matches(new Regex(@"^akka_actor_mailbox_depth\{", RegexOptions.Multiline), text);
    }
}
