using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using TtaActors.Tests.Support;
using Xunit;

namespace TtaActors.Tests.NodeHost;

/// <summary>
/// One real <c>tta node</c> process for the end-to-end tests: bound to a non-loopback address (so the bearer token is
/// enforced), with a directory of workflow files (one per bad-input case beside the good one), on free ports.
/// </summary>
public sealed class NodeFixture : IAsyncLifetime
{
    public const string ApiToken = "e2e-token-0123456789abcdef";
    public const string FlakyToken = "flaky-secret-token-42";
    public const string ServiceName = "tta-e2e";
    public const long MaxBodyBytes = 64 * 1024;
    public const string UnsetVariable = "E2E_UNSET_VARIABLE_FOR_HEADER";

    public FlakyServer Flaky { get; private set; } = null!;
    public TtaProcess Node { get; private set; } = null!;
    public HttpClient Api { get; private set; } = null!;
    public string ApiUrl { get; private set; } = "";
    public int MetricsPort { get; private set; }
    public string WorkflowsDirectory { get; } = Directory.CreateTempSubdirectory("tta-e2e-workflows-").FullName;
    private readonly string _data = Directory.CreateTempSubdirectory("tta-e2e-data-").FullName;

    public async Task InitializeAsync()
    {
        Flaky = await FlakyServer.StartAsync(FlakyToken);
        WorkflowFiles.WriteAll(WorkflowsDirectory, Flaky.Url);
        var httpPort = FreePort.Next();
        MetricsPort = FreePort.Next();
        Node = await TtaProcess.StartAsync(
            ["node", "--http", $"0.0.0.0:{httpPort}", "--metrics-port", MetricsPort.ToString(), "--workflows", WorkflowsDirectory,
             "--data", _data, "--port", FreePort.Next().ToString()],
            new Dictionary<string, string?>
            {
                ["TTA_API_TOKEN"] = ApiToken,
                ["TTA_SERVICE_NAME"] = ServiceName,
                ["TTA_MAX_BODY_BYTES"] = MaxBodyBytes.ToString(),
                ["FLAKY_API_TOKEN"] = FlakyToken,
            },
            "tta node ready");
        ApiUrl = $"http://127.0.0.1:{httpPort}";
        Api = new HttpClient { BaseAddress = new Uri(ApiUrl), Timeout = TimeSpan.FromSeconds(60) };
        Api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ApiToken);
    }

    public async Task<(int Status, JsonNode? Body)> PostAsync(string path, string json, HttpClient? client = null)
    {
        using var response = await (client ?? Api).PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));
        return ((int)response.StatusCode, Parse(await response.Content.ReadAsStringAsync()));
    }

    public async Task<(int Status, JsonNode? Body)> GetAsync(string path, HttpClient? client = null)
    {
        using var response = await (client ?? Api).GetAsync(path);
        return ((int)response.StatusCode, Parse(await response.Content.ReadAsStringAsync()));
    }

    /// <summary>After every bad request the node must still answer.</summary>
    public async Task AssertStillServingAsync()
    {
        var (status, body) = await GetAsync("/healthz");
        Assert.Equal(200, status);
        Assert.Equal("ok", (string?)body!["status"]);
        Assert.False(Node.HasExited, Node.Output);
    }

    public async Task DisposeAsync()
    {
        Api?.Dispose();
        if (Node is not null) await Node.DisposeAsync();
        if (Flaky is not null) await Flaky.DisposeAsync();
        Directory.Delete(WorkflowsDirectory, recursive: true);
        Directory.Delete(_data, recursive: true);
    }

    private static JsonNode? Parse(string text) => text.Length == 0 ? null : JsonNode.Parse(text);
}

/// <summary>The workflow files the node loads: one using every step kind, and one per kind of bad file.</summary>
public static class WorkflowFiles
{
    public static void WriteAll(string directory, string flakyUrl)
    {
        File.WriteAllText(Path.Combine(directory, "everything.yaml"), Everything.Replace("%FLAKY_URL%", flakyUrl));
        File.WriteAllText(Path.Combine(directory, "missing-env.yaml"), MissingEnv.Replace("%FLAKY_URL%", flakyUrl));
        File.WriteAllText(Path.Combine(directory, "malformed.yaml"), Malformed);
        File.WriteAllText(Path.Combine(directory, "unknown-kind.yaml"), UnknownKind);
    }

    public const string Everything = """
        name: everything
        description: Every step kind (the llm step on the offline model, which needs no key).
        steps:
          - name: normalize
            set:
              kind: "{{ input.kind }}"
              key: "{{ input.key }}"
          - name: triage
            router:
              by: $.kind
              routes:
                greet:
                  - name: call-flaky-api
                    retry:
                      max_retries: 3
                      backoff_base: 2
                      max_backoff: 0.01
                      jitter: false
                      do:
                        http:
                          url: "%FLAKY_URL%/flaky?key={{ input.key }}"
                          headers:
                            Authorization: "Bearer {{ env.FLAKY_API_TOKEN }}"
                          expect: 200
                  - set:
                      attempts: "{{ input.attempts }}"
                bye:
                  template: "bye"
          - name: fan-out
            parallel:
              - template: "attempts={{ input.attempts }}"
              - fallback:
                  do:
                    http: {method: POST, url: "%FLAKY_URL%/broken", body: {attempts: "{{ input.attempts }}"}}
                  otherwise:
                    template: "fallback used"
              - timeout:
                  seconds: 0.5
                  do:
                    http: {url: "%FLAKY_URL%/slow"}
                  otherwise:
                    template: "timed out"
              - set:
                  persona: "{{ context.persona }}"
                  session: "{{ context.session_id }}"
              - name: summarise
                llm:
                  provider: offline
                  system: "You answer for {{ context.persona }}."
                  prompt: "Summarise in one line: the API answered after {{ input.attempts }} attempts."
                  max_tokens: 32
        """;

    public const string MissingEnv = """
        - http:
            url: "%FLAKY_URL%/flaky?key=missing-env"
            headers:
              X-Api-Key: "{{ env.E2E_UNSET_VARIABLE_FOR_HEADER }}"
        """;

    /// <summary>Line 3 opens a flow sequence that is never closed.</summary>
    public const string Malformed = """
        - template: "fine"
        - set:
            items: [1, 2
        - template: "after"
        """;

    /// <summary>Line 2 uses a step kind that does not exist.</summary>
    public const string UnknownKind = """
        - template: "fine"
        - shout: "HELLO"
        """;
}
