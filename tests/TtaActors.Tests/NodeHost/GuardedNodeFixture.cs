using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using TtaActors.Tests.Support;
using Xunit;

namespace TtaActors.Tests.NodeHost;

/// <summary>
/// One real <c>tta node</c> with small, known limits for the hostile-input specs: few label values, a small run store,
/// small bodies; bound to every interface with a token, metrics on every interface too; and a local upstream that
/// holds requests until the test releases them.
/// </summary>
public sealed class GuardedNodeFixture : IAsyncLifetime
{
    public const string ApiToken = "guarded-token-0123456789abcdef";
    public const int LabelValues = 5;
    public const long MaxBodyBytes = 200_000;
    public const long RunStoreMaxBytes = 400_000;
    public const long RunOutputMaxBytes = 100_000;

    public HoldingServer Upstream { get; private set; } = null!;
    public TtaProcess Node { get; private set; } = null!;
    public HttpClient Api { get; private set; } = null!;
    public string ApiUrl { get; private set; } = "";
    public int MetricsPort { get; private set; }
    public int RemotingPort { get; private set; }
    public string DataDirectory { get; } = Directory.CreateTempSubdirectory("tta-guarded-data-").FullName;
    private readonly string _workflows = Directory.CreateTempSubdirectory("tta-guarded-workflows-").FullName;

    public async Task InitializeAsync()
    {
        Upstream = await HoldingServer.StartAsync();
        File.WriteAllText(Path.Combine(_workflows, "echo.yaml"), "- template: \"{{ input.text }}\"\n");
        File.WriteAllText(Path.Combine(_workflows, "held.yaml"), $"- http: {{url: \"{Upstream.Url}/hold\", timeout_seconds: 120}}\n");
        var httpPort = FreePort.Next();
        MetricsPort = FreePort.Next();
        RemotingPort = FreePort.Next();
        Node = await TtaProcess.StartAsync(
            ["node", "--http", $"0.0.0.0:{httpPort}", "--metrics-port", MetricsPort.ToString(), "--metrics-host", "0.0.0.0",
             "--workflows", _workflows, "--data", DataDirectory, "--port", RemotingPort.ToString()],
            new Dictionary<string, string?>
            {
                ["TTA_API_TOKEN"] = ApiToken,
                ["TTA_SERVICE_NAME"] = "tta-guarded",
                ["TTA_MAX_BODY_BYTES"] = MaxBodyBytes.ToString(),
                ["TTA_METRIC_LABEL_VALUES"] = LabelValues.ToString(),
                ["TTA_RUN_STORE_MAX_BYTES"] = RunStoreMaxBytes.ToString(),
                ["TTA_RUN_OUTPUT_MAX_BYTES"] = RunOutputMaxBytes.ToString(),
            },
            "tta node ready");
        ApiUrl = $"http://127.0.0.1:{httpPort}";
        Api = new HttpClient { BaseAddress = new Uri(ApiUrl), Timeout = TimeSpan.FromSeconds(60) };
        Api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ApiToken);
    }

    public async Task<(int Status, JsonNode? Body)> PostAsync(string path, string json)
    {
        using var response = await Api.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));
        return ((int)response.StatusCode, Parse(await response.Content.ReadAsStringAsync()));
    }

    public async Task<(int Status, JsonNode? Body)> GetAsync(string path)
    {
        using var response = await Api.GetAsync(path);
        return ((int)response.StatusCode, Parse(await response.Content.ReadAsStringAsync()));
    }

    public async Task<string> ScrapeAsync()
    {
        using var scraper = new HttpClient();
        return await scraper.GetStringAsync($"http://127.0.0.1:{MetricsPort}/metrics");
    }

    /// <summary>After every hostile request the node must still answer, and a good run must still succeed.</summary>
    public async Task AssertStillServingAsync()
    {
        var (status, body) = await PostAsync("/runs", """{"workflow": "echo", "input": {"text": "still here"}}""");
        Assert.True(status == 200, body?.ToJsonString());
        Assert.Equal("still here", (string?)body!["output"]);
        Assert.False(Node.HasExited, Node.Output);
    }

    public async Task DisposeAsync()
    {
        Api?.Dispose();
        if (Node is not null) await Node.DisposeAsync();
        if (Upstream is not null) await Upstream.DisposeAsync();
        Directory.Delete(_workflows, recursive: true);
        Directory.Delete(DataDirectory, recursive: true);
    }

    private static JsonNode? Parse(string text)
    {
        try
        {
            return text.Length == 0 ? null : JsonNode.Parse(text);
        }
        catch (System.Text.Json.JsonException)
        {
            return JsonValue.Create(text);
        }
    }
}

/// <summary>A loopback upstream whose <c>/hold</c> answers only once the test calls <see cref="Release"/>.</summary>
public sealed class HoldingServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly SemaphoreSlim _arrived = new(0);

    private HoldingServer(WebApplication app) => _app = app;

    public string Url { get; private set; } = "";

    public static async Task<HoldingServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var server = new HoldingServer(app);
        app.MapGet("/hold", async () =>
        {
            server._arrived.Release();
            await server._released.Task;
            return Results.Text("released");
        });
        await app.StartAsync();
        server.Url = app.Urls.First();
        return server;
    }

    /// <summary>Waits until a request has reached <c>/hold</c> (its run is admitted and running).</summary>
    public Task ArrivedAsync() => _arrived.WaitAsync(TimeSpan.FromSeconds(60)).ContinueWith(t =>
        Assert.True(t.Result, "no request reached the upstream within 60 s"));

    public void Release() => _released.TrySetResult();

    public async ValueTask DisposeAsync()
    {
        Release();
        await _app.DisposeAsync();
    }
}
