using System.Diagnostics;
using System.Net.Sockets;
using TtaActors.Tests.Support;

namespace TtaActors.Tests.Runtime;

/// <summary>The real <c>tta</c> binary, started as a process: what a user sees.</summary>
public class DemoProcessSpecs
{
    private static readonly string Tta = Path.Combine(AppContext.BaseDirectory, "tta.dll");

    [Fact]
    public async Task Demo_hold_should_serve_both_primitive_metrics_with_all_five_labels_until_sigterm()
    {
        var port = FreePort.Next();
        using var process = Start($"demo --hold --http 0 --metrics-port {port}");
        var output = new List<string>();
        var serving = new TaskCompletionSource();
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (output) output.Add(e.Data);
            if (e.Data.StartsWith("Serving metrics")) serving.TrySetResult();
        };
        process.BeginOutputReadLine();

        await serving.Task.WaitAsync(TimeSpan.FromSeconds(60));
        using var http = new HttpClient();
        var metrics = await http.GetStringAsync($"http://localhost:{port}/metrics");
        Signal(process, "TERM");
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));

        foreach (var metric in new[] { "primitive_executions_total{", "primitive_execution_duration_seconds_bucket{" })
        {
            var line = metrics.Split('\n').First(l => l.StartsWith(metric) && l.Contains("primitive_name=\"call-design-tool\"") && l.Contains("status=\"error\""));
            Assert.Contains("primitive_type=\"LambdaPrimitive\"", line);
            Assert.Contains("persona=\"backend-engineer\"", line);
            Assert.Contains("service_name=\"tta-dev-main\"", line);
        }
        Assert.Equal(0, process.ExitCode);
        lock (output)
        {
            Assert.Contains(output, l => l.Contains("primitive.SequentialPrimitive"));
            Assert.Contains(output, l => l.Contains("retry.attempt_2"));
        }
    }

    [Fact]
    public async Task Demo_on_a_taken_metrics_port_should_exit_with_one_clear_line()
    {
        using var taken = new TcpListener(System.Net.IPAddress.Loopback, 0);
        taken.Start();
        var port = ((System.Net.IPEndPoint)taken.LocalEndpoint).Port;

        using var process = Start($"demo --metrics-port {port}");
        var stderr = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(1, process.ExitCode);
        Assert.StartsWith($"tta: Metrics port {port} is already in use", stderr);
        Assert.DoesNotContain("   at ", stderr);
    }

    private static Process Start(string arguments)
    {
        var info = new ProcessStartInfo("dotnet", $"\"{Tta}\" {arguments}")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.Environment.Remove("TTA_METRICS_PORT");
        info.Environment.Remove("TTA_SERVICE_NAME");
        info.Environment.Remove("OTEL_SERVICE_NAME");
        // The demo must run on the offline model and export nowhere, whatever keys the machine has.
        foreach (var key in new[] { "OPENAI_API_KEY", "ANTHROPIC_API_KEY", "TTA_LLM_PROVIDER", "LANGFUSE_PUBLIC_KEY", "LANGFUSE_SECRET_KEY" })
            info.Environment.Remove(key);
        return Process.Start(info)!;
    }

    private static void Signal(Process process, string signal) =>
        Process.Start("kill", $"-{signal} {process.Id}")!.WaitForExit();
}
