using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using TtaActors.Runtime.Hosting;
using TtaActors.Tests.Support;

namespace TtaActors.Tests.TelemetryPipeline;

/// <summary>Several workspaces on one host: each its own service name and metrics port; a taken port names its holder.</summary>
public class WorkspaceSpecs
{
    [Fact]
    public void A_taken_metrics_port_should_name_the_process_that_holds_it()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;

        var error = Assert.Throws<TtaConfigurationException>(() => MetricsEndpoint.EnsurePortFree(port));

        Assert.Contains($"Metrics port {port} is already in use by process {Environment.ProcessId} (", error.Message);
    }

    [Fact]
    public async Task Two_workspaces_should_serve_their_own_metrics_side_by_side()
    {
        var (mainPort, copilotPort) = (FreePort.Next(), FreePort.Next());
        using var main = await HoldAsync("tta-dev-main", mainPort);
        using var copilot = await HoldAsync("tta-dev-copilot", copilotPort);

        using var http = new HttpClient();
        var mainText = await http.GetStringAsync($"http://localhost:{mainPort}/metrics");
        var copilotText = await http.GetStringAsync($"http://localhost:{copilotPort}/metrics");
        foreach (var process in new[] { main, copilot })
        {
            Process.Start("kill", $"-TERM {process.Id}")!.WaitForExit();
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
            Assert.Equal(0, process.ExitCode);
        }

        Assert.Contains("primitive_executions_total{", mainText);
        Assert.Contains("service_name=\"tta-dev-main\"", mainText);
        Assert.DoesNotContain("tta-dev-copilot", mainText);
        Assert.Contains("service_name=\"tta-dev-copilot\"", copilotText);
        Assert.DoesNotContain("tta-dev-main", copilotText);
        Assert.Contains(copilotText.Split('\n'), line => line.StartsWith("akka_actor_messages_received_total{")
            && line.Contains("actor_type=\"LambdaActor\"") && line.Contains("service_name=\"tta-dev-copilot\"") && !line.EndsWith(" 0"));
    }

    private static async Task<Process> HoldAsync(string service, int port)
    {
        var info = new ProcessStartInfo("dotnet", $"\"{Path.Combine(AppContext.BaseDirectory, "tta.dll")}\" demo --hold --http 0 --metrics-port {port}")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            WorkingDirectory = Directory.CreateTempSubdirectory("tta-workspace-").FullName,
        };
        info.Environment["TTA_SERVICE_NAME"] = service;
        info.Environment.Remove("OTEL_SERVICE_NAME");
        info.Environment.Remove("OTEL_EXPORTER_OTLP_ENDPOINT");
        var process = Process.Start(info)!;
        var serving = new TaskCompletionSource();
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data?.StartsWith("Serving metrics") == true) serving.TrySetResult();
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        await serving.Task.WaitAsync(TimeSpan.FromSeconds(90));
        return process;
    }
}
