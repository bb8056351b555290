using System.Text.Json.Nodes;

namespace TtaActors.Tests.NodeApi;

/// <summary>
/// The node API's answers over HTTP: status codes, the JSON of runs, sessions and workflows, and the Problem Details
/// (RFC 9457) of every refusal, with what it names.
/// </summary>
public sealed class NodeApiSpecs(NodeApiServer server) : IClassFixture<NodeApiServer>
{
    [Fact]
    public async Task A_run_of_a_workflow_that_is_not_registered_is_404_naming_it_and_the_registered_ones()
    {
        var (status, problem, response) = await server.PostAsync("/runs", """{"workflow": "no-such-workflow", "input": 1}""");

        Assert.Equal(404, status);
        AssertProblem(problem, response, 404, "workflow-not-found", "Workflow not found");
        var detail = (string?)problem!["detail"];
        Assert.Contains("'no-such-workflow'", detail);
        Assert.Contains(NodeApiServer.EchoWorkflow, detail);
        Assert.Contains(NodeApiServer.GatedWorkflow, detail);
        Assert.DoesNotContain(NodeApiServer.InvalidWorkflow, detail);
        Assert.Null(problem["problems"]);
    }

    [Fact]
    public async Task A_run_of_an_invalid_workflow_file_is_422_with_each_problem_and_its_location()
    {
        var (status, problem, response) = await server.PostAsync("/runs", $$"""{"workflow": "{{NodeApiServer.InvalidWorkflow}}"}""");

        Assert.Equal(422, status);
        AssertProblem(problem, response, 422, "workflow-invalid", "Workflow file is invalid");
        Assert.Contains("1 problem", (string?)problem!["detail"]);
        var only = Assert.Single(problem["problems"]!.AsArray())!;
        Assert.EndsWith(NodeApiServer.InvalidWorkflow + ".yaml", (string?)only["file"]);
        Assert.Equal(2, (int)only["line"]!);
        Assert.Equal(3, (int)only["column"]!);
        Assert.Contains("Unknown step kind 'shout'", (string?)only["message"]);
    }

    [Fact]
    public async Task An_input_the_workflow_does_not_take_is_422_with_the_workflows_message()
    {
        var (status, problem, response) = await server.PostAsync("/runs", $$$"""{"workflow": "{{{NodeApiServer.StringOnlyWorkflow}}}", "input": {"not": "a string"}}""");

        Assert.Equal(422, status);
        AssertProblem(problem, response, 422, "invalid-field", "Invalid field");
        Assert.Equal("input", (string?)problem!["field"]);
        Assert.Contains(NodeApiServer.StringOnlyMessage, (string?)problem["detail"]);
    }

    [Fact]
    public async Task A_run_answers_with_its_output_trace_and_times_and_is_read_back_by_id()
    {
        var (status, run, response) = await server.PostAsync("/runs",
            $$$"""{"workflow": "{{{NodeApiServer.EchoWorkflow}}}", "input": {"order": 7, "lines": ["a", "b"]}}""");

        Assert.Equal(200, status);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("succeeded", (string?)run!["status"]);
        Assert.Equal(NodeApiServer.EchoWorkflow, (string?)run["workflow"]);
        Assert.Equal("""{"order":7,"lines":["a","b"]}""", run["output"]!.ToJsonString());
        Assert.Matches("^[0-9a-f]{32}$", (string?)run["traceId"]);
        Assert.Matches("^[0-9a-f]{32}$", (string?)run["runId"]);
        Assert.Null(run["error"]);
        Assert.False(run.AsObject().ContainsKey("session"));
        Assert.False(run.AsObject().ContainsKey("persona"));
        Assert.False(run.AsObject().ContainsKey("chatmode"));
        Assert.True((DateTimeOffset)run["finishedAt"]! >= (DateTimeOffset)run["startedAt"]!);

        var (readStatus, read, _) = await server.GetAsync($"/runs/{run["runId"]}");
        Assert.Equal(200, readStatus);
        Assert.Equal(run.ToJsonString(), read!.ToJsonString());
    }

    [Fact]
    public async Task A_failed_run_is_200_with_the_failing_step_the_error_type_and_message()
    {
        var (status, run, _) = await server.PostAsync("/runs", $$"""{"workflow": "{{NodeApiServer.FailingWorkflow}}"}""");

        Assert.Equal(200, status);
        Assert.Equal("failed", (string?)run!["status"]);
        var error = run["error"]!;
        Assert.Contains(NodeApiServer.FailingStep, (string?)error["primitivePath"]);
        Assert.Contains(nameof(InvalidOperationException), (string?)error["type"]);
        Assert.Equal(NodeApiServer.FailureMessage, (string?)error["message"]);
        Assert.Null(run["output"]);
        Assert.NotNull(run["finishedAt"]);
    }

    [Fact]
    public async Task A_run_posted_without_waiting_is_202_running_and_reads_back_as_running()
    {
        var (status, run, _) = await server.PostAsync("/runs", $$"""{"workflow": "{{NodeApiServer.GatedWorkflow}}", "input": "x", "wait": false}""");

        Assert.Equal(202, status);
        Assert.Equal("running", (string?)run!["status"]);
        Assert.False(run.AsObject().ContainsKey("finishedAt"));
        Assert.Null(run["output"]);

        var (readStatus, read, _) = await server.GetAsync($"/runs/{run["runId"]}");
        Assert.Equal(200, readStatus);
        Assert.Equal("running", (string?)read!["status"]);
        Assert.Equal((string?)run["runId"], (string?)read["runId"]);
    }

    [Fact]
    public async Task A_run_posted_with_wait_true_waits_for_its_result()
    {
        var (status, run, _) = await server.PostAsync("/runs", $$"""{"workflow": "{{NodeApiServer.EchoWorkflow}}", "input": "x", "wait": true}""");

        Assert.Equal(200, status);
        Assert.Equal("succeeded", (string?)run!["status"]);
        Assert.Equal("x", (string?)run["output"]);
    }

    [Fact]
    public async Task An_unknown_run_id_is_404_naming_it_and_how_many_runs_are_kept()
    {
        var (status, problem, response) = await server.GetAsync("/runs/0123456789abcdef0123456789abcdef");

        Assert.Equal(404, status);
        AssertProblem(problem, response, 404, "run-not-found", "Run not found");
        Assert.Contains("'0123456789abcdef0123456789abcdef'", (string?)problem!["detail"]);
        Assert.Contains("10000", (string?)problem["detail"]);
    }

    [Fact]
    public async Task A_run_in_a_session_switches_its_persona_counts_in_it_and_lists_it()
    {
        var session = $"api-{Guid.NewGuid():N}";
        var (status, run, _) = await server.PostAsync("/runs",
            $$"""{"workflow": "{{NodeApiServer.EchoWorkflow}}", "input": 1, "session": "{{session}}", "persona": "backend-engineer", "chatmode": "review"}""");

        Assert.Equal(200, status);
        Assert.Equal(session, (string?)run!["session"]);
        Assert.Equal("backend-engineer", (string?)run["persona"]);
        Assert.Equal("review", (string?)run["chatmode"]);

        var (readStatus, view, _) = await server.GetAsync($"/sessions/{session}");
        Assert.Equal(200, readStatus);
        Assert.Equal(session, (string?)view!["id"]);
        Assert.Equal("backend-engineer", (string?)view["persona"]);
        Assert.Equal("review", (string?)view["chatmode"]);
        Assert.Equal(1, (int)view["runs"]!);
        Assert.Equal(1, (int)view["runsFinished"]!);
        Assert.Equal(0, (long)view["tokens"]!);
        Assert.Equal(0m, (decimal)view["costUsd"]!);
        var change = Assert.Single(view["switches"]!.AsArray())!;
        Assert.Equal(("none", "backend-engineer", "review"), ((string?)change["from"], (string?)change["to"], (string?)change["chatmode"]));
        Assert.NotNull(change["at"]);

        var (listStatus, list, _) = await server.GetAsync("/sessions");
        Assert.Equal(200, listStatus);
        Assert.Contains(session, list!["sessions"]!.AsArray().Select(s => (string?)s));
    }

    [Fact]
    public async Task A_run_outside_a_session_lists_no_session()
    {
        var (status, _, _) = await server.PostAsync("/runs", $$"""{"workflow": "{{NodeApiServer.EchoWorkflow}}", "persona": "loner"}""");
        Assert.Equal(200, status);

        var (_, list, _) = await server.GetAsync("/sessions");
        Assert.DoesNotContain(list!["sessions"]!.AsArray(), s => ((string?)s)?.Contains("loner") == true);
        Assert.All(list["sessions"]!.AsArray(), s => Assert.StartsWith("api-", (string?)s));
    }

    [Fact]
    public async Task Switching_a_sessions_persona_answers_with_the_session_and_lists_it_in_order()
    {
        var first = $"api-b-{Guid.NewGuid():N}";
        var second = $"api-a-{Guid.NewGuid():N}";

        var (status, view, _) = await server.PostAsync($"/sessions/{first}/persona", """{"persona": "frontend-dev", "chatmode": "review"}""");
        Assert.Equal(200, status);
        Assert.Equal(first, (string?)view!["id"]);
        Assert.Equal("frontend-dev", (string?)view["persona"]);
        Assert.Equal("review", (string?)view["chatmode"]);
        Assert.Equal(0, (int)view["runs"]!);
        Assert.Single(view["switches"]!.AsArray());

        (status, view, _) = await server.PostAsync($"/sessions/{first}/persona", """{"persona": "backend-engineer"}""");
        Assert.Equal(200, status);
        Assert.Null((string?)view!["chatmode"]);
        Assert.Equal(["none", "frontend-dev"], view["switches"]!.AsArray().Select(s => (string?)s!["from"]));

        (status, _, _) = await server.PostAsync($"/sessions/{second}/persona", """{"persona": "frontend-dev"}""");
        Assert.Equal(200, status);
        var (_, list, _) = await server.GetAsync("/sessions");
        var ids = list!["sessions"]!.AsArray().Select(s => (string)s!).ToList();
        Assert.Contains(first, ids);
        Assert.Contains(second, ids);
        Assert.Equal(ids.Order(StringComparer.Ordinal), ids);
    }

    [Fact]
    public async Task A_session_with_a_persona_and_no_runs_yet_is_found()
    {
        var id = $"api-persona-only-{Guid.NewGuid():N}";
        Assert.Equal(200, (await server.PostAsync($"/sessions/{id}/persona", """{"persona": "reviewer"}""")).Status);

        var (status, view, _) = await server.GetAsync($"/sessions/{id}");

        Assert.Equal(200, status);
        Assert.Equal("reviewer", (string?)view!["persona"]);
        Assert.Equal(0, (int)view["runs"]!);
    }

    [Fact]
    public async Task A_session_with_runs_and_no_persona_is_found()
    {
        var id = $"api-runs-only-{Guid.NewGuid():N}";
        Assert.Equal(200, (await server.PostAsync("/runs", $$"""{"workflow": "{{NodeApiServer.EchoWorkflow}}", "session": "{{id}}"}""")).Status);

        var (status, view, _) = await server.GetAsync($"/sessions/{id}");

        Assert.Equal(200, status);
        Assert.Null((string?)view!["persona"]);
        Assert.Empty(view["switches"]!.AsArray());
        Assert.Equal(1, (int)view["runs"]!);
    }

    [Fact]
    public async Task A_session_with_no_persona_and_no_runs_is_404_saying_how_to_start_it()
    {
        var id = $"api-unseen-{Guid.NewGuid():N}";

        var (status, problem, response) = await server.GetAsync($"/sessions/{id}");

        Assert.Equal(404, status);
        AssertProblem(problem, response, 404, "session-not-found", "Session not found");
        Assert.Contains($"POST /sessions/{id}/persona", (string?)problem!["detail"]);
    }

    [Fact]
    public async Task A_malformed_session_id_is_422()
    {
        var (status, problem, response) = await server.GetAsync("/sessions/bad%20id");

        Assert.Equal(422, status);
        AssertProblem(problem, response, 422, "invalid-field", "Invalid field");
        Assert.Contains("'bad id'", (string?)problem!["detail"]);
    }

    [Fact]
    public async Task A_malformed_persona_is_422_and_the_session_stays_unlisted()
    {
        var id = $"api-refused-{Guid.NewGuid():N}";

        var (status, problem, response) = await server.PostAsync($"/sessions/{id}/persona", """{"persona": "Back End!"}""");

        Assert.Equal(422, status);
        AssertProblem(problem, response, 422, "invalid-field", "Invalid field");
        Assert.Contains("'Back End!'", (string?)problem!["detail"]);
        var (_, list, _) = await server.GetAsync("/sessions");
        Assert.DoesNotContain(id, list!["sessions"]!.AsArray().Select(s => (string?)s));
    }

    [Fact]
    public async Task A_persona_switch_without_a_persona_is_400_naming_the_field()
    {
        var (status, problem, response) = await server.PostAsync("/sessions/api-x/persona", """{"chatmode": "review"}""");

        Assert.Equal(400, status);
        AssertProblem(problem, response, 400, "malformed-body", "Malformed request body");
        Assert.Contains("persona", (string?)problem!["detail"]);
    }

    [Fact]
    public async Task Workflows_are_listed_with_their_source_description_and_problems()
    {
        var (status, list, _) = await server.GetAsync("/workflows");

        Assert.Equal(200, status);
        var workflows = list!["workflows"]!.AsArray().ToDictionary(w => (string)w!["name"]!);
        Assert.Equal(workflows.Keys.Order(StringComparer.Ordinal), workflows.Keys);
        var gated = workflows[NodeApiServer.GatedWorkflow]!;
        Assert.True((bool)gated["valid"]!);
        Assert.Equal("code", (string?)gated["source"]);
        Assert.Equal(NodeApiServer.GatedDescription, (string?)gated["description"]);
        Assert.Empty(gated["problems"]!.AsArray());

        var broken = workflows[NodeApiServer.InvalidWorkflow]!;
        Assert.False((bool)broken["valid"]!);
        Assert.EndsWith(".yaml", (string?)broken["source"]);
        var problem = Assert.Single(broken["problems"]!.AsArray())!;
        Assert.Equal(2, (int)problem["line"]!);
        Assert.Equal(3, (int)problem["column"]!);
        Assert.Equal((string?)broken["source"], (string?)problem["file"]);
        Assert.Contains("Unknown step kind 'shout'", (string?)problem["message"]);
    }

    [Theory]
    [InlineData("""{"workflow": "echo", "wait": "soon"}""", "$.wait", "true or false")]
    [InlineData("""{"workflow": "echo", "session": 12}""", "$.session", "a string")]
    [InlineData("""{"workflow": "echo", "inptu": 1}""", "$.inptu", "inptu")]
    [InlineData("""{"input": 1}""", "$", "workflow")]
    public async Task A_body_with_a_wrong_field_is_400_with_the_json_path(string body, string path, string detail)
    {
        var (status, problem, response) = await server.PostAsync("/runs", body);

        Assert.Equal(400, status);
        AssertProblem(problem, response, 400, "malformed-body", "Malformed request body");
        Assert.Equal(path, (string?)problem!["path"]);
        Assert.Contains(detail, (string?)problem["detail"]);
        Assert.DoesNotContain("System.", (string?)problem["detail"]);
        Assert.DoesNotContain("LineNumber", (string?)problem["detail"]);
    }

    [Fact]
    public async Task Malformed_json_is_400_with_its_line_and_position()
    {
        var (status, problem, response) = await server.PostAsync("/runs", "{\n  \"workflow\": \"echo\",\n  oops\n}");

        Assert.Equal(400, status);
        AssertProblem(problem, response, 400, "malformed-body", "Malformed request body");
        Assert.Equal(3, (int)problem!["line"]!);
        Assert.Equal(3, (int)problem["position"]!);
    }

    [Fact]
    public async Task A_json_null_body_is_400_asking_for_an_object()
    {
        var (status, problem, response) = await server.PostAsync("/runs", "null");

        Assert.Equal(400, status);
        AssertProblem(problem, response, 400, "malformed-body", "Malformed request body");
        Assert.Equal("$", (string?)problem!["path"]);
        Assert.Contains("JSON null", (string?)problem["detail"]);
    }

    [Fact]
    public async Task A_body_over_the_limit_is_413_naming_the_limit_and_its_setting()
    {
        var huge = $$"""{"workflow": "echo", "input": "{{new string('x', (int)NodeApiServer.MaxBodyBytes)}}"}""";

        var (status, problem, response) = await server.PostAsync("/runs", huge);

        Assert.Equal(413, status);
        AssertProblem(problem, response, 413, "body-too-large", "Request body too large");
        Assert.Contains(NodeApiServer.MaxBodyBytes.ToString(), (string?)problem!["detail"]);
        Assert.Contains("TTA_MAX_BODY_BYTES", (string?)problem["detail"]);
        Assert.Equal(200, (await server.GetAsync("/healthz")).Status);
    }

    [Fact]
    public async Task Healthz_is_ok()
    {
        var (status, body, _) = await server.GetAsync("/healthz");

        Assert.Equal(200, status);
        Assert.Equal("""{"status":"ok"}""", body!.ToJsonString());
    }

    [Fact]
    public async Task Readyz_is_ready_with_every_check_ok_and_503_naming_a_failing_check()
    {
        var (status, ready, _) = await server.GetAsync("/readyz");
        Assert.Equal(200, status);
        Assert.Equal("ready", (string?)ready!["status"]);
        Assert.Equal("ok", (string?)ready["checks"]!["workflows"]);
        Assert.Equal("ok", (string?)ready["checks"]!["actor-system"]);
        Assert.Equal("ok", (string?)ready["checks"]!["switchable"]);

        server.Switchable.Fail("the probe is switched off");
        try
        {
            var (notReadyStatus, problem, response) = await server.GetAsync("/readyz");
            Assert.Equal(503, notReadyStatus);
            AssertProblem(problem, response, 503, "not-ready", "Node not ready");
            Assert.Equal("the probe is switched off", (string?)problem!["checks"]!["switchable"]);
            Assert.Equal("ok", (string?)problem["checks"]!["workflows"]);
            Assert.Equal("ok", (string?)problem["checks"]!["actor-system"]);
        }
        finally
        {
            server.Switchable.Recover();
        }
    }

    [Fact]
    public async Task An_unmapped_path_is_404()
    {
        Assert.Equal(404, (await server.GetAsync("/no-such-route")).Status);
    }

    private static void AssertProblem(JsonNode? problem, HttpResponseMessage response, int status, string type, string title)
    {
        Assert.NotNull(problem);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(status, (int?)problem["status"]);
        Assert.Equal("https://tta.dev/problems/" + type, (string?)problem["type"]);
        Assert.Equal(title, (string?)problem["title"]);
        Assert.False(string.IsNullOrWhiteSpace((string?)problem["detail"]), "a refusal says what and where");
    }
}
