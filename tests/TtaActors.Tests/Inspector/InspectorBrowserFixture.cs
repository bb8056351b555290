using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;
using TtaActors.Tests.NodeHost;
using TtaActors.Tests.Support;

namespace TtaActors.Tests.Inspector;

/// <summary>
/// One real <c>tta node</c> bound to a non-loopback address (so the token rule is on), a loopback gate server its
/// <c>gated</c> workflow waits on, and one headless Chromium driven through Debian's chromedriver, shared by the
/// browser specs. Without chromium or chromedriver the specs are skipped, naming what is missing.
/// </summary>
public sealed class InspectorBrowserFixture : IAsyncLifetime
{
    public const string ApiToken = "ui-token-5f0c9a7e21d84b6c";
    public const string Chromium = "/usr/bin/chromium";
    public const string ChromeDriver = "/usr/bin/chromedriver";
    public const long SpanStoreBytes = 4 * 1024 * 1024;

    private readonly string _workflows = Directory.CreateTempSubdirectory("tta-ui-workflows-").FullName;
    private readonly string _data = Directory.CreateTempSubdirectory("tta-ui-data-").FullName;
    private HttpListener? _gate;
    private TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly SemaphoreSlim _arrivals = new(0);

    public string? Missing { get; } = !File.Exists(Chromium) ? "chromium (Debian package chromium)"
        : !File.Exists(ChromeDriver) ? "chromedriver (Debian package chromium-driver)" : null;

    public TtaProcess Node { get; private set; } = null!;
    public HttpClient Api { get; private set; } = null!;
    public string Url { get; private set; } = "";
    public ChromeDriver Browser { get; private set; } = null!;

    /// <summary>Where the screenshots go: beside the test binaries.</summary>
    public string Screenshots { get; } = Path.Combine(AppContext.BaseDirectory, "screenshots");

    public async Task InitializeAsync()
    {
        if (Missing is not null) return;
        var gatePort = FreePort.Next();
        _gate = new HttpListener();
        _gate.Prefixes.Add($"http://127.0.0.1:{gatePort}/");
        _gate.Start();
        _ = ServeGateAsync(_gate);
        WriteWorkflows($"http://127.0.0.1:{gatePort}/gate");

        var httpPort = FreePort.Next();
        Node = await TtaProcess.StartAsync(
            ["node", "--http", $"0.0.0.0:{httpPort}", "--metrics-port", FreePort.Next().ToString(), "--workflows", _workflows,
             "--data", _data, "--port", FreePort.Next().ToString()],
            new Dictionary<string, string?>
            {
                ["TTA_API_TOKEN"] = ApiToken,
                ["TTA_SERVICE_NAME"] = "tta-ui",
                ["TTA_UI_SPAN_STORE_MAX_BYTES"] = SpanStoreBytes.ToString(),
            },
            "tta node ready");
        Url = $"http://127.0.0.1:{httpPort}";
        Api = new HttpClient { BaseAddress = new Uri(Url), Timeout = TimeSpan.FromSeconds(60) };
        Api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ApiToken);

        var service = ChromeDriverService.CreateDefaultService("/usr/bin", "chromedriver");
        service.HideCommandPromptWindow = true;
        service.SuppressInitialDiagnosticInformation = true;
        var options = new ChromeOptions { BinaryLocation = Chromium };
        options.AddArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,1000",
            "--no-first-run", "--disable-extensions");
        Browser = new ChromeDriver(service, options, TimeSpan.FromSeconds(60));
        Directory.CreateDirectory(Screenshots);
    }

    /// <summary>
    /// Waits until a <c>gated</c> run's request has reached the gate, then lets it go on. Opening first would race a
    /// run that was accepted but had not sent its request yet: that request would wait on the next gate.
    /// </summary>
    public async Task OpenGateWhenReachedAsync()
    {
        Assert.True(await _arrivals.WaitAsync(TimeSpan.FromSeconds(60)), "No gated run reached the gate within 60 s.");
        OpenGate();
    }

    /// <summary>Lets every <c>gated</c> run that is waiting on the gate go on; later ones wait again.</summary>
    public void OpenGate() => Interlocked.Exchange(ref _release, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

    /// <summary>Gives this browser the token once, as a person would: <c>/ui?token=</c>; the node answers with its cookie.</summary>
    public void SignIn() => Browser.Navigate().GoToUrl($"{Url}/ui?token={ApiToken}");

    public async Task<JsonNode> PostRunAsync(string json)
    {
        using var response = await Api.PostAsync("/runs", new StringContent(json, Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, text);
        return JsonNode.Parse(text)!;
    }

    public async Task<JsonNode> GetAsync(string path)
    {
        using var response = await Api.GetAsync(path);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{path}: {text}");
        return JsonNode.Parse(text)!;
    }

    /// <summary>Waits for the page to show something (the page updates itself; a bound only keeps a broken page from hanging).</summary>
    public T Until<T>(Func<T?> found, string what) where T : class
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            try
            {
                if (found() is { } value) return value;
            }
            catch (Exception error) when (error is StaleElementReferenceException or NoSuchElementException)
            {
                // The page re-rendered between finding and reading; look again.
            }
            if (DateTime.UtcNow > deadline) throw new Xunit.Sdk.XunitException($"The page never showed {what}. Page text:\n{Browser.FindElement(By.TagName("body")).Text}");
            Thread.Sleep(100);
        }
    }

    public void Screenshot(string name) => Browser.GetScreenshot().SaveAsFile(Path.Combine(Screenshots, name + ".png"));

    private async Task ServeGateAsync(HttpListener listener)
    {
        while (listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await listener.GetContextAsync();
            }
            catch (Exception error) when (error is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }
            _ = AnswerAsync(context);
        }
    }

    private async Task AnswerAsync(HttpListenerContext context)
    {
        // The gate this request waits on is read before its arrival is counted, so an opening after the arrival opens it.
        var release = Volatile.Read(ref _release);
        _arrivals.Release();
        await release.Task;
        var body = "\"through the gate\""u8.ToArray();
        context.Response.ContentType = "application/json";
        await context.Response.OutputStream.WriteAsync(body);
        context.Response.Close();
    }

    private void WriteWorkflows(string gateUrl)
    {
        File.WriteAllText(Path.Combine(_workflows, "echo.yaml"), """
            name: echo
            description: Answers the input's text as it came.
            steps:
              - name: say
                template: "{{ input.text }}"
            """);
        File.WriteAllText(Path.Combine(_workflows, "triage.yaml"), """
            name: triage
            description: Several primitives, an LLM call on the offline model.
            steps:
              - name: normalize
                template: "{{ input.text }}"
              - name: fan-out
                parallel:
                  - name: left
                    template: "left"
                  - name: careful
                    retry:
                      max_retries: 1
                      do:
                        name: right
                        template: "right"
              - name: summarise
                llm:
                  provider: offline
                  prompt: "Summarise: {{ input }}"
                  max_tokens: 16
            """);
        File.WriteAllText(Path.Combine(_workflows, "gated.yaml"), $$"""
            name: gated
            steps:
              - name: wait-for-gate
                http:
                  url: "{{gateUrl}}"
                  expect: 200
            """);
        File.WriteAllText(Path.Combine(_workflows, "ship.yaml"), """
            name: ship
            durability: steps
            steps:
              - name: prepare
                template: "ready"
              - name: sign-off
                approval:
                  prompt: "Ship it?"
              - name: done
                template: "shipped"
            """);
        File.WriteAllText(Path.Combine(_workflows, "broken.yaml"), "steps:\n  - name: x\n    nosuchkind: 1\n");
    }

    public async Task DisposeAsync()
    {
        if (Missing is not null) return;
        Browser?.Quit();
        Browser?.Dispose();
        Api?.Dispose();
        OpenGate();
        if (Node is not null) await Node.DisposeAsync();
        _gate?.Close();
        Directory.Delete(_workflows, recursive: true);
        Directory.Delete(_data, recursive: true);
    }
}
