using System.Diagnostics;
using System.Text.Json;
using TtaActors.Tests.Support;

namespace TtaActors.Tests.TelemetryPipeline;

/// <summary>A real Prometheus (the Debian package) on a free loopback port with a temporary config and data dir.</summary>
public sealed class PrometheusServer : IDisposable
{
    public const string Binary = "/usr/bin/prometheus";
    private readonly Process _process;
    private readonly string _directory;
    private readonly HttpClient _http = new();

    public PrometheusServer(int scrapePort)
    {
        Port = FreePort.Next();
        _directory = Directory.CreateTempSubdirectory("tta-prometheus-").FullName;
        var config = Path.Combine(_directory, "prometheus.yml");
        File.WriteAllText(config, $"""
            global:
              scrape_interval: 1s
            scrape_configs:
              - job_name: tta
                static_configs:
                  - targets: ["localhost:{scrapePort}"]
            """);
        var info = new ProcessStartInfo(Binary,
            $"--config.file={config} --storage.tsdb.path={Path.Combine(_directory, "data")} --web.listen-address=127.0.0.1:{Port}")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        _process = Process.Start(info)!;
        _process.BeginErrorReadLine();
        _process.BeginOutputReadLine();
    }

    public int Port { get; }
    public static bool Installed => File.Exists(Binary);

    /// <summary>Runs an instant query; returns the result vector, or throws with Prometheus's error.</summary>
    public async Task<JsonElement> QueryAsync(string promql)
    {
        var response = await _http.GetAsync($"http://127.0.0.1:{Port}/api/v1/query?query={Uri.EscapeDataString(promql)}");
        var text = await response.Content.ReadAsStringAsync();
        JsonElement body;
        try
        {
            body = JsonDocument.Parse(text).RootElement;
        }
        catch (JsonException)
        {
            // While it starts, Prometheus answers 503 in plain text.
            throw new HttpRequestException($"Prometheus is not ready: {(int)response.StatusCode} {text.Trim()}");
        }
        if (body.GetProperty("status").GetString() != "success")
            throw new InvalidOperationException($"Prometheus refused '{promql}': {body.GetProperty("error").GetString()}");
        return body.GetProperty("data").GetProperty("result");
    }

    /// <summary>Queries until the result has at least one series with a finite value, or the patience runs out.</summary>
    public async Task<JsonElement> QueryUntilNonEmptyAsync(string promql, TimeSpan patience)
    {
        var deadline = DateTime.UtcNow + patience;
        while (true)
        {
            try
            {
                var result = await QueryAsync(promql);
                if (result.EnumerateArray().Any(series => double.IsFinite(Value(series)))) return result;
            }
            catch (HttpRequestException) when (DateTime.UtcNow < deadline)
            {
                // Prometheus is still starting.
            }
            if (DateTime.UtcNow >= deadline) throw new TimeoutException($"'{promql}' returned no finite series within {patience}.");
            await Task.Delay(250);
        }
    }

    public static double Value(JsonElement series) =>
        double.Parse(series.GetProperty("value")[1].GetString()!, System.Globalization.CultureInfo.InvariantCulture);

    public static string Label(JsonElement series, string label) =>
        series.GetProperty("metric").TryGetProperty(label, out var value) ? value.GetString()! : "";

    public void Dispose()
    {
        if (!_process.HasExited) _process.Kill();
        _process.WaitForExit(10_000);
        _process.Dispose();
        _http.Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}
