using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using TtaActors.Tests.Support;
using Xunit;

namespace TtaActors.Tests.NodeHost;

/// <summary>Issue 11 items 3, 8-13 through the real <c>tta node</c> process and its HTTP API.</summary>
[Collection(TtaProcessCollection.Name)]
public sealed class HostileInputSpecs(GuardedNodeFixture node) : IClassFixture<GuardedNodeFixture>
{
    public static TheoryData<string, string, string> BadNames => new()
    {
        // field, value as JSON, what the message says
        { "persona", "\"bad persona!\"", "is malformed" },
        { "persona", "\"a/b\"", "is malformed" },
        { "persona", $"\"{new string('p', 5000)}\"", "5000 characters long" },
        { "persona", "\"caf\u00e9\"", "caf\\u00e9" },
        { "persona", "\"x\\r\\nX-Injected: 1\"", "x\\u000d\\u000aX-Injected: 1" },
        { "chatmode", "\"Bad Mode\"", "The chat mode name 'Bad Mode' is malformed" },
        { "session", "\"a/b\"", "The session id 'a/b' is malformed" },
        { "session", $"\"{new string('s', 5000)}\"", "5000 characters long" },
        { "session", "\"\\u0007bell\"", "\\u0007bell" },
    };

    [Theory]
    [MemberData(nameof(BadNames))]
    public async Task Bad_names_in_a_run_are_422_problem_details_naming_the_field_with_or_without_a_session(string field, string value, string says)
    {
        foreach (var session in new[] { "", """, "session": "hostile-run" """ })
        {
            if (field == "session" && session.Length > 0) continue;
            var (status, problem) = await node.PostAsync("/runs",
                $$"""{"workflow": "echo", "input": {"text": "x"}, "{{field}}": {{value}}{{session}}}""");
            Assert.True(status == 422, problem?.ToJsonString());
            Assert.Equal(field, (string?)problem!["field"]);
            Assert.Equal("https://tta.dev/problems/invalid-field", (string?)problem["type"]);
            Assert.Contains(says, (string?)problem["detail"]);
            Assert.StartsWith(field + ": ", (string?)problem["detail"]);
        }
        await node.AssertStillServingAsync();
    }

    [Fact]
    public async Task Bad_session_ids_and_personas_on_the_session_endpoints_are_refusals_not_faults()
    {
        var (switchStatus, switchProblem) = await node.PostAsync("/sessions/hostile-switch/persona", """{"persona": "frontend-dev", "chatmode": "Bad Mode"}""");
        Assert.Equal(422, switchStatus);
        Assert.Equal("chatmode", (string?)switchProblem!["field"]);
        Assert.Contains("'Bad Mode' is malformed", (string?)switchProblem["detail"]);

        foreach (var id in new[] { Uri.EscapeDataString("a b"), new string('s', 5000), Uri.EscapeDataString("\u00e9t\u00e9"), "a%2Fb", "%07" })
        {
            var (status, problem) = await node.GetAsync($"/sessions/{id}");
            Assert.True(status == 422, $"{id[..Math.Min(20, id.Length)]}: {status} {problem?.ToJsonString()}");
            Assert.Equal("session", (string?)problem!["field"]);
            Assert.Contains("session id", (string?)problem["detail"]);
            var (postStatus, _) = await node.PostAsync($"/sessions/{id}/persona", """{"persona": "frontend-dev"}""");
            Assert.Equal(422, postStatus);
        }
        var (slash, _) = await node.GetAsync("/sessions/a/b");
        Assert.Equal(404, slash);

        var cli = await TtaProcess.RunAsync(["sessions", "Bad Session", "--node", node.ApiUrl],
            new Dictionary<string, string?> { ["TTA_API_TOKEN"] = GuardedNodeFixture.ApiToken });
        Assert.Equal(1, cli.ExitCode);
        Assert.Contains("tta: 422 Invalid field: session: The session id 'Bad Session' is malformed", cli.Stderr);
        await node.AssertStillServingAsync();
    }

    [Theory]
    [InlineData("""{"workflow": "echo", "input": {}, "surprise": 1}""", "unknown field 'surprise'; its fields are workflow, input, session, persona, chatmode, wait")]
    [InlineData("""{"input": {}}""", "lacks the required field \"workflow\"")]
    [InlineData("""{"workflow": 5}""", "a string")]
    [InlineData("""{"workflow": "echo", "wait": "yes"}""", "true or false")]
    [InlineData("""[1, 2]""", "(at $)")]
    public async Task Malformed_bodies_name_json_fields_never_clr_types(string body, string says)
    {
        var (status, problem) = await node.PostAsync("/runs", body);
        Assert.Equal(400, status);
        var detail = (string?)problem!["detail"];
        Assert.Contains(says, detail);
        Assert.DoesNotContain("TtaActors", detail);
        Assert.DoesNotContain("System.", detail);
        Assert.DoesNotContain("+RunBody", detail);
        await node.AssertStillServingAsync();
    }

    [Fact]
    public async Task A_body_over_the_limit_is_413_problem_details_naming_the_limit()
    {
        var text = new string('b', (int)GuardedNodeFixture.MaxBodyBytes);
        var (status, problem) = await node.PostAsync("/runs", $$$"""{"workflow": "echo", "input": {"text": "{{{text}}}"}}""");
        Assert.Equal(413, status);
        Assert.Contains($"limit of {GuardedNodeFixture.MaxBodyBytes} bytes (TTA_MAX_BODY_BYTES)", (string?)problem!["detail"]);
        await node.AssertStillServingAsync();
    }

    [Theory]
    [InlineData("bearer")]
    [InlineData("BEARER")]
    [InlineData("Bearer")]
    public async Task The_bearer_scheme_is_matched_in_any_case_and_the_token_exactly(string scheme)
    {
        using var client = new HttpClient { BaseAddress = new Uri(node.ApiUrl) };
        client.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", $"{scheme} {GuardedNodeFixture.ApiToken}");
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/workflows")).StatusCode);

        client.DefaultRequestHeaders.Remove("Authorization");
        client.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", $"{scheme} {GuardedNodeFixture.ApiToken.ToUpperInvariant()}");
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/workflows")).StatusCode);
    }

    [Fact]
    public async Task Distinct_personas_beyond_the_label_bound_fold_into_other_and_are_counted()
    {
        const int personas = 3 * GuardedNodeFixture.LabelValues;
        for (var i = 0; i < personas; i++)
        {
            var (status, run) = await node.PostAsync("/runs", $$"""{"workflow": "echo", "input": {"text": "p"}, "persona": "label-persona-{{i}}"}""");
            Assert.True(status == 200, run?.ToJsonString());
        }

        var metrics = await node.ScrapeAsync();
        var personaValues = Regex.Matches(metrics, "^primitive_executions_total\\{[^}]*persona=\"([^\"]*)\"", RegexOptions.Multiline)
            .Select(m => m.Groups[1].Value).ToHashSet();
        // The bound, plus the overflow value, plus "none" for runs without a persona.
        Assert.True(personaValues.Count <= GuardedNodeFixture.LabelValues + 2, string.Join(", ", personaValues));
        Assert.Contains("_other", personaValues);
        var folded = Regex.Match(metrics, "^telemetry_label_values_folded_total\\{[^}]*label=\"persona\"[^}]*\\} (\\d+)", RegexOptions.Multiline);
        Assert.True(folded.Success, metrics);
        Assert.True(long.Parse(folded.Groups[1].Value) >= personas - GuardedNodeFixture.LabelValues);
        await node.AssertStillServingAsync();
    }

    [Fact]
    public async Task The_metrics_endpoint_answers_on_every_address_whatever_the_host_header()
    {
        foreach (var host in new[] { "127.0.0.1", "localhost", "metrics.example.com", "10.1.2.3:9464" })
        {
            using var scraper = new HttpClient();
            using var request = new HttpRequestMessage(HttpMethod.Get, $"http://127.0.0.1:{node.MetricsPort}/metrics");
            request.Headers.Host = host;
            using var response = await scraper.SendAsync(request);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"Host: {host} answered {(int)response.StatusCode}");
            Assert.Contains("# TYPE", await response.Content.ReadAsStringAsync());
        }
    }

    [Fact]
    public async Task The_run_store_stays_within_its_byte_bound_evicts_the_oldest_and_marks_outputs_too_large()
    {
        var big = new string('r', (int)(GuardedNodeFixture.RunOutputMaxBytes * 9 / 10));
        var ids = new List<string>();
        var runs = (int)(2 * GuardedNodeFixture.RunStoreMaxBytes / big.Length);
        for (var i = 0; i < runs; i++)
        {
            var (status, run) = await node.PostAsync("/runs", $$$"""{"workflow": "echo", "input": {"text": "{{{big}}}"}}""");
            Assert.Equal(200, status);
            Assert.Equal(big, (string?)run!["output"]);
            ids.Add((string)run["runId"]!);
        }
        var (oldest, evicted) = await node.GetAsync($"/runs/{ids[0]}");
        Assert.Equal(404, oldest);
        Assert.Contains("TTA_RUN_STORE_MAX_BYTES", (string?)evicted!["detail"]);
        var (latest, kept) = await node.GetAsync($"/runs/{ids[^1]}");
        Assert.Equal(200, latest);
        Assert.Equal(big, (string?)kept!["output"]);
        Assert.Matches("^run_store_evicted_total\\{[^}]*reason=\"bytes\"", (await node.ScrapeAsync()).Split('\n').First(l => l.StartsWith("run_store_evicted_total{")));

        var tooLarge = new string('o', (int)GuardedNodeFixture.RunOutputMaxBytes + 1);
        var (answered, full) = await node.PostAsync("/runs", $$$"""{"workflow": "echo", "input": {"text": "{{{tooLarge}}}"}}""");
        Assert.Equal(200, answered);
        Assert.Equal(tooLarge.Length, ((string?)full!["output"])!.Length);
        var (read, marked) = await node.GetAsync($"/runs/{full["runId"]}");
        Assert.Equal(200, read);
        Assert.True((bool)marked!["output"]!["truncated"]!);
        Assert.Contains("TTA_RUN_OUTPUT_MAX_BYTES", (string?)marked["output"]!["message"]);
        await node.AssertStillServingAsync();
    }

    [Fact]
    public async Task Every_run_a_session_admitted_finishes_in_it_when_its_clients_disconnect()
    {
        const string session = "hostile-disconnect";
        // A client that leaves while its run is running (the run holds at the upstream).
        using (var leaving = new CancellationTokenSource())
        {
            var posted = node.Api.PostAsync("/runs", Json("""{"workflow": "held", "session": "hostile-disconnect"}"""), leaving.Token);
            await node.Upstream.ArrivedAsync();
            await leaving.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => posted);
            node.Upstream.Release();
        }
        // Clients that leave as soon as their request is sent, whatever the node is doing then.
        var burst = Enumerable.Range(0, 40).Select(async _ =>
        {
            using var leaving = new CancellationTokenSource();
            var content = new SignallingContent("""{"workflow": "echo", "input": {"text": "gone"}, "session": "hostile-disconnect"}""", leaving).Typed();
            try
            {
                using var response = await node.Api.PostAsync("/runs", content, leaving.Token);
            }
            catch (OperationCanceledException)
            {
            }
        });
        await Task.WhenAll(burst);

        var (status, view) = await node.GetAsync($"/sessions/{session}");
        Assert.Equal(200, status);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while ((int)view!["runsFinished"]! != (int)view["runs"]! && DateTime.UtcNow < deadline)
            (_, view) = await node.GetAsync($"/sessions/{session}");
        Assert.True((int)view["runs"]! >= 1, view.ToJsonString());
        Assert.Equal((int)view["runs"]!, (int)view["runsFinished"]!);
        await node.AssertStillServingAsync();
    }

    [Fact]
    public async Task A_second_node_on_the_same_data_directory_or_remoting_port_is_refused_naming_it_and_its_holder()
    {
        var sameData = await TtaProcess.RunAsync(
            ["node", "--http", $"127.0.0.1:{FreePort.Next()}", "--metrics-port", "0", "--port", FreePort.Next().ToString(), "--data", node.DataDirectory]);
        Assert.Equal(1, sameData.ExitCode);
        Assert.Contains($"--data {node.DataDirectory}: the data directory is in use by process {node.Node.Id} (", sameData.Stderr);

        var otherData = Directory.CreateTempSubdirectory("tta-guarded-second-").FullName;
        try
        {
            var samePort = await TtaProcess.RunAsync(
                ["node", "--http", $"127.0.0.1:{FreePort.Next()}", "--metrics-port", "0", "--port", node.RemotingPort.ToString(), "--data", otherData]);
            Assert.Equal(1, samePort.ExitCode);
            Assert.Contains($"--port {node.RemotingPort}: the remoting port is already in use by process {node.Node.Id} (", samePort.Stderr);
        }
        finally
        {
            Directory.Delete(otherData, recursive: true);
        }
        await node.AssertStillServingAsync();
    }

    [Fact]
    public async Task Malformed_hocon_stops_start_up_naming_the_layer_the_line_and_the_problem()
    {
        var file = Path.Combine(Path.GetTempPath(), $"tta-bad-{Guid.NewGuid():N}.conf");
        File.WriteAllText(file, "akka.loglevel = INFO\nbad = [1, 2\n");
        try
        {
            var fromFile = await TtaProcess.RunAsync(["node", "--metrics-port", "0", "--config", file]);
            Assert.Equal(1, fromFile.ExitCode);
            Assert.Contains($"HOCON from {file} is malformed at line 2, column 7: the '[' opened here is never closed", fromFile.Stderr);
        }
        finally
        {
            File.Delete(file);
        }
        var fromEnv = await TtaProcess.RunAsync(["node", "--metrics-port", "0"], new Dictionary<string, string?> { ["TTA_HOCON"] = "akka.loglevel = {" });
        Assert.Equal(1, fromEnv.ExitCode);
        Assert.Contains("HOCON from TTA_HOCON is malformed at line 1, column 17: the '{' opened here is never closed", fromEnv.Stderr);
    }

    [Fact]
    public async Task Tta_run_refuses_a_malformed_persona_or_chat_mode_naming_the_field()
    {
        var file = Path.Combine(Path.GetTempPath(), $"tta-echo-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(file, "- template: \"{{ input.text }}\"\n");
        try
        {
            var persona = await TtaProcess.RunAsync(["run", file, "--input", """{"text": "x"}""", "--persona", "bad persona!"]);
            Assert.Equal(1, persona.ExitCode);
            Assert.Contains("tta: persona: The persona name 'bad persona!' is malformed", persona.Stderr);

            var chatMode = await TtaProcess.RunAsync(["run", file, "--input", """{"text": "x"}""", "--persona", "backend-engineer", "--chatmode", "Bad Mode"]);
            Assert.Equal(1, chatMode.ExitCode);
            Assert.Contains("tta: chatmode: The chat mode name 'Bad Mode' is malformed", chatMode.Stderr);

            var good = await TtaProcess.RunAsync(["run", file, "--input", """{"text": "fine"}""", "--persona", "backend-engineer"]);
            Assert.True(good.ExitCode == 0, good.Output);
            Assert.Contains("\"fine\"", good.Stdout);
        }
        finally
        {
            File.Delete(file);
        }
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    /// <summary>A body that cancels its request once it has been written to the connection.</summary>
    private sealed class SignallingContent(string json, CancellationTokenSource sent) : HttpContent
    {
        private readonly byte[] _bytes = Encoding.UTF8.GetBytes(json);

        public SignallingContent Typed()
        {
            Headers.ContentType = new MediaTypeHeaderValue("application/json");
            return this;
        }

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            await stream.WriteAsync(_bytes);
            await stream.FlushAsync();
            await sent.CancelAsync();
        }

        protected override bool TryComputeLength(out long length)
        {
            length = _bytes.Length;
            return true;
        }
    }
}
