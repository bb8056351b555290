using System.Text;
using System.Text.Json.Nodes;
using TtaActors.Tests.Support;

namespace TtaActors.Tests.NodeHost;

/// <summary>
/// One node whose workflows directory holds hostile files beside good ones, and an upstream that records what it
/// receives: the node starts, lists every bad file with where and why, never sends an injected header or path, and
/// answers every run; <c>tta validate</c> and <c>tta run</c> agree with it.
/// </summary>
public sealed class HostileNodeFixture : IAsyncLifetime
{
    public const string UpstreamToken = "upstream-secret-token-7";

    public CapturingHttpServer Upstream { get; } = new();
    public string Directory { get; } = System.IO.Directory.CreateTempSubdirectory("tta-hostile-").FullName;
    private readonly string _data = System.IO.Directory.CreateTempSubdirectory("tta-hostile-data-").FullName;
    public TtaProcess Node { get; private set; } = null!;
    public HttpClient Api { get; private set; } = null!;

    /// <summary>No provider key and no TTA_* settings: the same environment for the node, validate and run.</summary>
    public static readonly IReadOnlyDictionary<string, string?> Environment = new Dictionary<string, string?>
    {
        ["OPENAI_API_KEY"] = "",
        ["OPENAI_BASE_URL"] = "",
        ["ANTHROPIC_API_KEY"] = "",
        ["UPSTREAM_TOKEN"] = UpstreamToken,
    };

    /// <summary>File name, and for a bad file the line and the start of its problem.</summary>
    public static readonly (string File, int Line, string Problem)[] BadFiles =
    [
        ("self-alias.yaml", 1, "Alias '*s' is used inside the anchor '&s'"),
        ("laughs.yaml", 6, "more than 10000 YAML nodes"),
        ("deep.yaml", 1, "nested more than 64 levels deep"),
        ("huge-timeout.yaml", 1, "'seconds' must be a number from 0.001 to 86400; found '1e12'"),
        ("http-timeout.yaml", 3, "'timeout_seconds' must be a number from 0.001 to 86400; found '5000000'"),
        ("openai-no-key.yaml", 1, "LLM provider 'openai' needs OPENAI_API_KEY"),
        ("host-from-input.yaml", 1, "'{{ input.host }}' is in the URL's scheme, host or port"),
        ("dev-copilot-demo.yaml", 1, "Workflow 'dev-copilot-demo' is already registered from code"),
    ];

    public static readonly string[] GoodFiles = ["ticket-header.yaml", "ticket-path.yaml", "wrap.yaml"];

    public async Task InitializeAsync()
    {
        var laughs = new StringBuilder("- set:\n    a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
        foreach (var (name, previous) in "bcdefghi".Select((c, i) => (c.ToString(), i == 0 ? "a" : "bcdefghi"[i - 1].ToString())))
            laughs.Append($"    {name}: &{name} [{string.Join(",", Enumerable.Repeat("*" + previous, 9))}]\n");
        Write("self-alias.yaml", "steps: &s [ {template: x}, {parallel: [*s]} ]\n");
        Write("laughs.yaml", laughs.ToString());
        Write("deep.yaml", "- set: " + new string('[', 10_000) + "1" + new string(']', 10_000) + "\n");
        Write("huge-timeout.yaml", "- timeout: {seconds: 1e12, do: {template: x}}\n");
        Write("http-timeout.yaml", $"- http:\n    url: \"{Upstream.BaseUrl}/slow\"\n    timeout_seconds: 5000000\n");
        Write("openai-no-key.yaml", "- llm: {provider: openai, model: gpt-4o-mini, prompt: \"hi\"}\n");
        Write("host-from-input.yaml", "- http: {url: \"https://{{ input.host }}/x\"}\n");
        Write("dev-copilot-demo.yaml", "- template: x\n");
        Write("ticket-header.yaml", $$$"""
            - name: tag-ticket
              http:
                url: "{{{Upstream.BaseUrl}}}/api/tickets"
                headers:
                  Authorization: "Bearer {{ env.UPSTREAM_TOKEN }}"
                  X-Ticket: "{{ input.text }}"
            """);
        Write("ticket-path.yaml", $$$"""
            - name: get-ticket
              http:
                url: "{{{Upstream.BaseUrl}}}/api/tickets/{{ input.text }}?expand={{ input.expand }}"
                headers: {Authorization: "Bearer {{ env.UPSTREAM_TOKEN }}"}
            """);
        Write("wrap.yaml", """
            - set: {a: {b: {c: {d: {e: {f: {g: {h: {i: {j: "{{ input }}"}}}}}}}}}}
            """);

        var httpPort = FreePort.Next();
        Node = await TtaProcess.StartAsync(
            ["node", "--http", $"127.0.0.1:{httpPort}", "--metrics-port", "0", "--workflows", Directory, "--data", _data,
             "--port", FreePort.Next().ToString()],
            Environment, "tta node ready");
        Api = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}"), Timeout = TimeSpan.FromSeconds(60) };
    }

    private void Write(string name, string text) => File.WriteAllText(Path.Combine(Directory, name), text);

    public async Task<(int Status, JsonNode? Body)> SendAsync(HttpMethod method, string path, string? json = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (json is not null) request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        using var response = await Api.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text, documentOptions: new System.Text.Json.JsonDocumentOptions { MaxDepth = 512 }));
    }

    public async Task AssertStillServingAsync()
    {
        var (status, _) = await SendAsync(HttpMethod.Get, "/healthz");
        Assert.Equal(200, status);
        Assert.False(Node.HasExited, Node.Output);
    }

    public async Task DisposeAsync()
    {
        Api?.Dispose();
        if (Node is not null) await Node.DisposeAsync();
        Upstream.Dispose();
        System.IO.Directory.Delete(Directory, recursive: true);
        System.IO.Directory.Delete(_data, recursive: true);
    }
}

[Collection(TtaProcessCollection.Name)]
public sealed class HostileWorkflowFileSpecs(HostileNodeFixture node) : IClassFixture<HostileNodeFixture>
{
    private static string Nested(int depth) => new string('[', depth) + "1" + new string(']', depth);

    [Fact]
    public async Task The_node_starts_with_hostile_files_and_lists_each_with_its_location_and_problem()
    {
        var (status, list) = await node.SendAsync(HttpMethod.Get, "/workflows");
        Assert.Equal(200, status);
        var bySource = list!["workflows"]!.AsArray().ToDictionary(w => Path.GetFileName((string)w!["source"]!));
        foreach (var (file, line, problem) in HostileNodeFixture.BadFiles)
        {
            var listed = bySource[file]!;
            Assert.False((bool)listed["valid"]!, file);
            var first = listed["problems"]![0]!;
            Assert.Equal(line, (int)first["line"]!);
            Assert.True((int)first["column"]! >= 1);
            Assert.Contains(problem, (string?)first["message"]);
            // The start-up log names the file and the problem with FILE:LINE:COLUMN.
            Assert.Contains($"{Path.Combine(node.Directory, file)}:{line}:", node.Node.Stdout);
        }
        foreach (var file in HostileNodeFixture.GoodFiles) Assert.True((bool)bySource[file]!["valid"]!, file);

        var (runStatus, refused) = await node.SendAsync(HttpMethod.Post, "/runs", """{"workflow": "huge-timeout"}""");
        Assert.Equal(422, runStatus);
        Assert.Contains("'seconds' must be a number", (string?)refused!["problems"]![0]!["message"]);
        await node.AssertStillServingAsync();
    }

    [Fact]
    public async Task Injected_headers_and_paths_never_reach_the_upstream_and_encoded_values_do()
    {
        var (status, run) = await node.SendAsync(HttpMethod.Post, "/runs",
            """{"workflow": "ticket-header", "input": {"text": "x\r\n\r\nGET /smuggled HTTP/1.1\r\nX-Injected: 1"}}""");
        Assert.Equal(200, status);
        Assert.Equal("failed", (string?)run!["status"]);
        Assert.Contains("Header 'X-Ticket' of the http step 'tag-ticket'", (string?)run["error"]!["message"]);
        Assert.Contains("CR at position 2", (string?)run["error"]!["message"]);

        (status, run) = await node.SendAsync(HttpMethod.Post, "/runs",
            """{"workflow": "ticket-path", "input": {"text": "../../admin/delete-all?confirm=yes#", "expand": "all"}}""");
        Assert.Equal(200, status);
        Assert.Equal("failed", (string?)run!["status"]);
        Assert.Contains("holds a '.' or '..' segment", (string?)run["error"]!["message"]);
        Assert.Empty(node.Upstream.Requests);

        (status, run) = await node.SendAsync(HttpMethod.Post, "/runs",
            """{"workflow": "ticket-path", "input": {"text": "7/comments?all=1", "expand": "a&admin=true"}}""");
        Assert.Equal(200, status);
        Assert.True("succeeded" == (string?)run!["status"], run.ToJsonString());
        var request = Assert.Single(node.Upstream.Requests);
        Assert.Equal("/api/tickets/7%2Fcomments%3Fall%3D1?expand=a%26admin%3Dtrue", request.Target);
        Assert.Equal($"Bearer {HostileNodeFixture.UpstreamToken}", request.Headers["Authorization"]);
        Assert.False(request.Headers.ContainsKey("X-Injected"));
        await node.AssertStillServingAsync();
    }

    [Fact]
    public async Task Output_nested_deeper_than_64_levels_is_answered_by_post_and_get()
    {
        var (status, run) = await node.SendAsync(HttpMethod.Post, "/runs", $$"""{"workflow": "wrap", "input": {{Nested(60)}}}""");
        Assert.True(status == 200, run?.ToJsonString());
        Assert.Equal("succeeded", (string?)run!["status"]);
        var expected = run["output"]!.ToJsonString();
        Assert.Contains(Nested(60), expected);

        var (readStatus, read) = await node.SendAsync(HttpMethod.Get, $"/runs/{run["runId"]}");
        Assert.Equal(200, readStatus);
        Assert.Equal(expected, read!["output"]!.ToJsonString());
        await node.AssertStillServingAsync();
    }

    [Fact]
    public async Task Validate_accepts_and_refuses_exactly_the_files_the_node_does_and_run_prints_deep_output()
    {
        var files = HostileNodeFixture.BadFiles.Select(b => b.File).Concat(HostileNodeFixture.GoodFiles)
            .Select(f => Path.Combine(node.Directory, f)).ToList();
        var validate = await TtaProcess.RunAsync(["validate", .. files], HostileNodeFixture.Environment);
        Assert.True(validate.ExitCode == 1, validate.Output);
        foreach (var (file, line, problem) in HostileNodeFixture.BadFiles)
            Assert.Contains($"{Path.Combine(node.Directory, file)}:{line}:", validate.Stdout);
        Assert.Contains("LLM provider 'openai' needs OPENAI_API_KEY", validate.Stdout);

        var (_, list) = await node.SendAsync(HttpMethod.Get, "/workflows");
        var validOnNode = list!["workflows"]!.AsArray().Where(w => (string)w!["source"]! != "code" && (bool)w["valid"]!)
            .Select(w => Path.GetFileName((string)w!["source"]!)!).Order().ToList();
        var validByValidate = files.Where(f => validate.Stdout.Contains($"{f}: ok")).Select(f => Path.GetFileName(f)!).Order().ToList();
        Assert.Equal(validOnNode, validByValidate);

        var run = await TtaProcess.RunAsync(["run", Path.Combine(node.Directory, "wrap.yaml"), "--input", Nested(60)], HostileNodeFixture.Environment);
        Assert.True(run.ExitCode == 0, run.Output);
        Assert.Contains("\"j\": [", run.Stdout);
    }
}
