using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Xunit;

namespace TtaActors.Tests.NodeHost;

/// <summary>End-to-end through the real binary: <c>tta node</c> as a process, driven over HTTP.</summary>
[Collection(TtaProcessCollection.Name)]
public sealed class NodeEndToEndSpecs(NodeFixture node) : IClassFixture<NodeFixture>
{
    [Fact]
    public async Task Node_runs_a_workflow_file_with_every_step_kind_and_retries_the_flaky_http_call()
    {
        var key = Guid.NewGuid().ToString("N");
        var (status, run) = await node.PostAsync("/runs",
            $$"""{"workflow": "everything", "input": {"kind": "greet", "key": "{{key}}"}, "session": "e2e-every", "persona": "backend-engineer", "chatmode": "feature-implementation"}""");

        Assert.True(status == 200, run?.ToJsonString());
        Assert.Equal("succeeded", (string?)run!["status"]);
        Assert.Matches("^[0-9a-f]{32}$", (string?)run["traceId"]);
        var output = run["output"]!.AsArray();
        // retry: the service failed twice, so the third call answered.
        Assert.Equal($"attempts={FlakyServer.FailuresPerKey + 1}", (string?)output[0]);
        Assert.Equal(FlakyServer.FailuresPerKey + 1, node.Flaky.CallsFor(key));
        Assert.Equal("fallback used", (string?)output[1]);
        Assert.Equal("timed out", (string?)output[2]);
        Assert.Equal("backend-engineer", (string?)output[3]!["persona"]);
        Assert.Equal("e2e-every", (string?)output[3]!["session"]);
        Assert.False(string.IsNullOrWhiteSpace((string?)output[4]), "the llm step answers with the completion text");

        var (readStatus, read) = await node.GetAsync($"/runs/{run["runId"]}");
        Assert.Equal(200, readStatus);
        Assert.Equal("succeeded", (string?)read!["status"]);
        Assert.Equal(output.ToJsonString(), read["output"]!.ToJsonString());
    }

    [Fact]
    public async Task Switching_a_sessions_persona_over_http_is_read_back_and_applies_to_later_runs()
    {
        var (status, switched) = await node.PostAsync("/sessions/e2e-switch/persona", """{"persona": "frontend-dev", "chatmode": "review"}""");
        Assert.Equal(200, status);
        Assert.Equal("frontend-dev", (string?)switched!["persona"]);

        var (runStatus, run) = await node.PostAsync("/runs",
            """{"workflow": "everything", "input": {"kind": "bye", "key": "k"}, "session": "e2e-switch"}""");
        Assert.Equal(200, runStatus);
        Assert.Equal("frontend-dev", (string?)run!["persona"]);
        Assert.Equal("frontend-dev", (string?)run["output"]![3]!["persona"]);

        var (readStatus, session) = await node.GetAsync("/sessions/e2e-switch");
        Assert.Equal(200, readStatus);
        Assert.Equal("frontend-dev", (string?)session!["persona"]);
        Assert.Equal("review", (string?)session["chatmode"]);
        var change = Assert.Single(session["switches"]!.AsArray());
        Assert.Equal("none", (string?)change!["from"]);
        Assert.Equal("frontend-dev", (string?)change["to"]);
        Assert.Equal(1, (int)session["runs"]!);
        Assert.True((long)session["tokens"]! > 0, "the run's llm step used tokens, and the session counts them");

        var (listStatus, list) = await node.GetAsync("/sessions");
        Assert.Equal(200, listStatus);
        Assert.Contains("e2e-switch", list!["sessions"]!.AsArray().Select(s => (string?)s));

        var cli = await TtaProcess.RunAsync(["sessions", "e2e-switch", "--node", node.ApiUrl],
            new Dictionary<string, string?> { ["TTA_API_TOKEN"] = NodeFixture.ApiToken });
        Assert.True(cli.ExitCode == 0, cli.Output);
        Assert.Contains("frontend-dev", cli.Stdout);
        Assert.Contains("review", cli.Stdout);
    }

    [Fact]
    public async Task A_run_posted_without_waiting_is_accepted_and_can_be_read_back_by_id()
    {
        var (status, run) = await node.PostAsync("/runs", """{"workflow": "everything", "input": {"kind": "bye", "key": "w"}, "wait": false}""");
        Assert.Equal(202, status);
        Assert.Equal("running", (string?)run!["status"]);

        var (readStatus, read) = await node.GetAsync($"/runs/{run["runId"]}");
        Assert.Equal(200, readStatus);
        Assert.Equal((string?)run["runId"], (string?)read!["runId"]);
        Assert.Contains((string?)read["status"], new[] { "running", "succeeded" });

        var (missing, problem) = await node.GetAsync("/runs/0123456789abcdef0123456789abcdef");
        Assert.Equal(404, missing);
        Assert.Equal("Run not found", (string?)problem!["title"]);
    }

    [Fact]
    public async Task Node_serves_prometheus_metrics_of_its_runs()
    {
        var (status, _) = await node.PostAsync("/runs",
            """{"workflow": "everything", "input": {"kind": "bye", "key": "m"}, "persona": "metrics-persona"}""");
        Assert.Equal(200, status);

        using var scraper = new HttpClient();
        var metrics = await scraper.GetStringAsync($"http://localhost:{node.MetricsPort}/metrics");
        var line = metrics.Split('\n').FirstOrDefault(l =>
            l.StartsWith("primitive_executions_total{", StringComparison.Ordinal) && l.Contains("persona=\"metrics-persona\"") &&
            l.Contains("primitive_name=\"fan-out\""));
        Assert.True(line is not null, metrics);
        Assert.Contains($"service_name=\"{NodeFixture.ServiceName}\"", line);
        Assert.Contains("status=\"success\"", line);
        Assert.Contains("primitive_execution_duration_seconds_bucket{", metrics);
    }

    [Fact]
    public async Task Invalid_workflow_files_are_listed_with_line_and_column_and_their_runs_are_refused()
    {
        var (status, list) = await node.GetAsync("/workflows");
        Assert.Equal(200, status);
        var workflows = list!["workflows"]!.AsArray().ToDictionary(w => (string)w!["name"]!);
        Assert.True((bool)workflows["everything"]!["valid"]!);
        Assert.True((bool)workflows["dev-copilot-demo"]!["valid"]!);

        var malformed = Assert.Single(workflows["malformed"]!["problems"]!.AsArray());
        Assert.False((bool)workflows["malformed"]!["valid"]!);
        Assert.Contains("Not valid YAML", (string?)malformed!["message"]);
        Assert.InRange((int)malformed["line"]!, 3, 4);

        var unknown = Assert.Single(workflows["unknown-kind"]!["problems"]!.AsArray());
        Assert.Equal(2, (int)unknown!["line"]!);
        Assert.Equal(3, (int)unknown["column"]!);
        Assert.Contains("Unknown step kind 'shout'", (string?)unknown["message"]);

        var (runStatus, problem) = await node.PostAsync("/runs", """{"workflow": "unknown-kind", "input": null}""");
        Assert.Equal(422, runStatus);
        Assert.Equal("Workflow file is invalid", (string?)problem!["title"]);
        Assert.Equal(2, (int)problem["problems"]![0]!["line"]!);
        await node.AssertStillServingAsync();
    }

    [Fact]
    public async Task A_router_key_without_a_route_fails_the_run_naming_the_key_and_the_routes()
    {
        var (status, run) = await node.PostAsync("/runs", """{"workflow": "everything", "input": {"kind": "dance", "key": "r"}}""");
        Assert.Equal(200, status);
        Assert.Equal("failed", (string?)run!["status"]);
        var message = (string?)run["error"]!["message"];
        Assert.Contains("'dance'", message);
        Assert.Contains("greet, bye", message);
        Assert.Contains("triage", (string?)run["error"]!["primitivePath"]);
        await node.AssertStillServingAsync();
    }

    [Fact]
    public async Task A_header_from_a_missing_environment_variable_fails_the_run_naming_the_variable()
    {
        var (status, run) = await node.PostAsync("/runs", """{"workflow": "missing-env"}""");
        Assert.Equal(200, status);
        Assert.Equal("failed", (string?)run!["status"]);
        var message = (string?)run["error"]!["message"];
        Assert.Contains($"'{NodeFixture.UnsetVariable}' is not set", message);
        Assert.Contains("X-Api-Key", message);
        await node.AssertStillServingAsync();
    }

    [Fact]
    public async Task Malformed_and_oversized_bodies_get_problem_details_with_the_json_path()
    {
        var (status, problem) = await node.PostAsync("/runs", """{"workflow": "everything", "wait": "soon"}""");
        Assert.Equal(400, status);
        Assert.Equal("$.wait", (string?)problem!["path"]);
        Assert.Contains("true or false", (string?)problem["detail"]);

        (status, problem) = await node.PostAsync("/runs", """{"workflow": "everything", "inptu": 1}""");
        Assert.Equal(400, status);
        Assert.Equal("$.inptu", (string?)problem!["path"]);

        (status, problem) = await node.PostAsync("/runs", """{"input": 1}""");
        Assert.Equal(400, status);
        Assert.Contains("workflow", (string?)problem!["detail"]);

        var huge = $$"""{"workflow": "everything", "input": "{{new string('x', (int)NodeFixture.MaxBodyBytes)}}"}""";
        (status, problem) = await node.PostAsync("/runs", huge);
        Assert.Equal(413, status);
        Assert.Contains("TTA_MAX_BODY_BYTES", (string?)problem!["detail"]);
        await node.AssertStillServingAsync();
    }

    [Fact]
    public async Task A_non_loopback_node_refuses_requests_without_the_right_bearer_token()
    {
        using var anonymous = new HttpClient { BaseAddress = new Uri(node.ApiUrl) };
        var (status, problem) = await node.GetAsync("/workflows", anonymous);
        Assert.Equal(401, status);
        Assert.Contains("Authorization: Bearer", (string?)problem!["detail"]);

        using var wrong = new HttpClient { BaseAddress = new Uri(node.ApiUrl) };
        wrong.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "not-the-token-at-all");
        (status, problem) = await node.PostAsync("/runs", """{"workflow": "everything"}""", wrong);
        Assert.Equal(401, status);
        Assert.Equal("Unauthorized", (string?)problem!["title"]);

        // Health probes stay open so a load balancer can check the node without the secret.
        var (health, _) = await node.GetAsync("/readyz", anonymous);
        Assert.Equal(200, health);
        await node.AssertStillServingAsync();
    }
}
