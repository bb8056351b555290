using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Akka.Event;
using Akka.TestKit.Xunit2;
using TtaActors.Actors.Execution;
using TtaActors.Actors.Integrations.E2B;
using TtaActors.Runtime.Workflows;
using TtaActors.Telemetry.Llm;
using TtaActors.Tests.Support;

namespace TtaActors.Tests.Integrations;

/// <summary>
/// e2b: steps against two loopback servers speaking E2B's wire formats: the API (create and kill sandboxes with
/// X-API-Key) and a sandbox (the code interpreter's line-per-event /execute, envd's Connect-streamed
/// process.Process/Start and /files). The sandbox is killed however the step ends; keys and tokens reach no span,
/// log or error.
/// </summary>
public sealed class E2BStepSpecs : TestKit, IDisposable
{
    private const string ApiKey = "e2b_0123456789abcdef0123456789abcdef";
    private const string AccessToken = "envd-token-5c1f0e9a7b";
    private readonly LoopbackServer _api;
    private readonly LoopbackServer _sandbox;
    private readonly HttpClient _http = new();
    private readonly SpanRecorder _spans = new();

    private Func<LoopbackRequest, HttpListenerResponse, CancellationToken, Task> _create = (_, response, _) =>
        LoopbackServer.Write(response, 201, $$"""{"templateID":"code-interpreter-v1","sandboxID":"sbx1a2b3c","clientID":"6532622b","envdVersion":"0.2.4","envdAccessToken":"{{AccessToken}}","domain":null}""");
    private Func<LoopbackRequest, HttpListenerResponse, CancellationToken, Task> _execute = (_, response, _) => Lines(response,
        """{"type":"stdout","text":"hello\n","timestamp":"2026-01-01T00:00:00Z"}""",
        """{"type":"result","text":"2","is_main_result":true}""",
        """{"type":"number_of_executions","execution_count":1}""",
        """{"type":"end_of_execution"}""");
    private Func<LoopbackRequest, HttpListenerResponse, CancellationToken, Task> _start = (_, response, _) => Envelopes(response,
        (0, """{"event":{"start":{"pid":7}}}"""),
        (0, Data("stdout", "hi\n")),
        (0, """{"event":{"keepalive":{}}}"""),
        (0, Data("stderr", "warn\n")),
        (0, """{"event":{"end":{"exited":true,"status":"exit status 0"}}}"""),
        (2, "{}"));
    private readonly Dictionary<string, string> _files = new() { ["/home/user/out.json"] = """{"ok":true}""" };

    public E2BStepSpecs() : base("akka.loglevel = INFO")
    {
        _api = new LoopbackServer((request, response, stop) => request.Method switch
        {
            "POST" when request.Path == "/sandboxes" => _create(request, response, stop),
            "DELETE" => LoopbackServer.Write(response, 204, ""),
            _ => LoopbackServer.Write(response, 404, """{"code":404,"message":"not found"}"""),
        });
        _sandbox = new LoopbackServer((request, response, stop) => request.Path switch
        {
            "/execute" => _execute(request, response, stop),
            "/process.Process/Start" => _start(request, response, stop),
            "/files" when request.Method == "POST" => LoopbackServer.Write(response, 200, """[{"name":"data.csv","type":"file","path":"/home/user/data.csv"}]"""),
            "/files" => _files.TryGetValue(Uri.UnescapeDataString(request.Query[0].Value), out var content)
                ? LoopbackServer.Write(response, 200, content, "application/octet-stream")
                : LoopbackServer.Write(response, 404, """{"code":404,"message":"file not found"}"""),
            _ => LoopbackServer.Write(response, 404, "{}"),
        });
    }

    private Func<string, string?> Environment => name => name switch
    {
        "E2B_API_KEY" => ApiKey,
        "E2B_API_URL" => _api.BaseUrl,
        "E2B_SANDBOX_URL" => _sandbox.BaseUrl,
        _ => null,
    };

    private Actors.Primitives.Primitive Build(string yaml, CapturePolicy? capture = null)
    {
        var (document, problems) = WorkflowFileParser.Parse(yaml, "sandbox.yaml", "sandbox");
        Assert.Empty(problems);
        var services = new WorkflowStepServices(_http, Environment, (definition, name) => WorkflowGraph.Materialize(Sys, definition, name))
        {
            Capture = capture ?? CapturePolicy.Default,
        };
        return WorkflowFileBuilder.Build(document!, services);
    }

    private Task<WorkflowRunResult> RunAsync(string yaml, JsonNode? input, RunOptions? options = null, CapturePolicy? capture = null) =>
        WorkflowGraph.Materialize(Sys, Build(yaml, capture), "sandbox").RunAsync(input, options: options ?? new RunOptions { Timeout = TimeSpan.FromSeconds(30) });

    private static IReadOnlyList<WorkflowProblem> Problems(string yaml) => WorkflowFileParser.Parse(yaml, "sandbox.yaml", "sandbox").Problems;

    [Fact]
    public async Task Code_runs_in_a_code_interpreter_sandbox_which_is_killed_afterwards()
    {
        var result = await RunAsync("""
            - name: analyse
              e2b:
                code: "{{ input.code }}"
                language: python
            """, JsonNode.Parse("""{"code": "print('hello'); 1 + 1"}"""));
        Assert.True(result.Succeeded, result.Failure?.ToString());

        var create = await _api.WaitFor("POST", "/sandboxes");
        Assert.Equal(ApiKey, create.Headers["X-API-Key"]);
        var body = JsonNode.Parse(create.Text)!;
        Assert.Equal("code-interpreter-v1", (string)body["templateID"]!);
        Assert.Equal(300, (int)body["timeout"]!);
        Assert.True((bool)body["secure"]!);

        var execute = await _sandbox.WaitFor("POST", "/execute");
        Assert.Equal("sbx1a2b3c", execute.Headers["E2b-Sandbox-Id"]);
        Assert.Equal("49999", execute.Headers["E2b-Sandbox-Port"]);
        Assert.Equal(AccessToken, execute.Headers["X-Access-Token"]);
        Assert.False(execute.Headers.ContainsKey("X-API-Key"));
        var code = JsonNode.Parse(execute.Text)!;
        Assert.Equal("print('hello'); 1 + 1", (string)code["code"]!);
        Assert.Equal("python", (string)code["language"]!);

        var kill = await _api.WaitFor("DELETE", "/sandboxes/");
        Assert.Equal("/sandboxes/sbx1a2b3c", kill.Path);
        Assert.Equal(ApiKey, kill.Headers["X-API-Key"]);

        var output = JsonData.ToNode(result.Output)!;
        Assert.Equal("sbx1a2b3c", (string)output["sandbox_id"]!);
        Assert.Equal("hello\n", (string)output["stdout"]!);
        Assert.Equal("2", (string)output["results"]![0]!["text"]!);
        Assert.Null(output["error"]);
    }

    [Fact]
    public async Task Files_are_written_before_the_run_and_read_after_it_through_envd()
    {
        var result = await RunAsync("""
            - e2b:
                code: "import json; json.dump({'ok': True}, open('/home/user/out.json', 'w'))"
                files: [{path: /home/user/data.csv, content: "{{ input.csv }}"}]
                download: [/home/user/out.json]
            """, JsonNode.Parse("""{"csv": "a,b\n1,2"}"""));
        Assert.True(result.Succeeded, result.Failure?.ToString());
        var upload = await _sandbox.WaitFor("POST", "/files");
        Assert.Equal("/files?path=%2Fhome%2Fuser%2Fdata.csv&username=user", upload.Target);
        Assert.StartsWith("multipart/form-data", upload.Headers["Content-Type"]);
        Assert.Contains("name=file", upload.Text);
        Assert.Contains("a,b\n1,2", upload.Text);
        Assert.Equal("49983", upload.Headers["E2b-Sandbox-Port"]);
        Assert.Equal(AccessToken, upload.Headers["X-Access-Token"]);
        var download = await _sandbox.WaitFor("GET", "/files");
        Assert.Equal("/files?path=%2Fhome%2Fuser%2Fout.json&username=user", download.Target);
        Assert.Equal("""{"ok":true}""", (string)JsonData.ToNode(result.Output)!["files"]!["/home/user/out.json"]!);
        await _api.WaitFor("DELETE", "/sandboxes/sbx1a2b3c");
    }

    [Fact]
    public async Task A_command_is_a_Connect_server_stream_of_process_events()
    {
        var result = await RunAsync("""
            - e2b:
                command: "echo {{ input }}"
                cwd: /home/user
                env: {GREETING: "{{ input }}"}
            """, JsonValue.Create("hi"));
        Assert.True(result.Succeeded, result.Failure?.ToString());

        var create = await _api.WaitFor("POST", "/sandboxes");
        Assert.Equal("base", (string)JsonNode.Parse(create.Text)!["templateID"]!);
        var start = await _sandbox.WaitFor("POST", "/process.Process/Start");
        Assert.Equal("application/connect+json", start.Headers["Content-Type"]);
        Assert.Equal("1", start.Headers["Connect-Protocol-Version"]);
        Assert.Equal("Basic dXNlcjo=", start.Headers["Authorization"]);
        Assert.Equal("60000", start.Headers["Connect-Timeout-Ms"]);
        Assert.Equal("49983", start.Headers["E2b-Sandbox-Port"]);
        Assert.Equal(AccessToken, start.Headers["X-Access-Token"]);
        Assert.Equal(0, start.Body[0]);
        Assert.Equal(start.Body.Length - 5, BinaryPrimitives.ReadInt32BigEndian(start.Body.AsSpan(1)));
        var message = JsonNode.Parse(start.Body.AsSpan(5))!;
        Assert.Equal("/bin/bash", (string)message["process"]!["cmd"]!);
        Assert.Equal(["-l", "-c", "echo hi"], message["process"]!["args"]!.AsArray().Select(a => (string)a!));
        Assert.Equal("/home/user", (string)message["process"]!["cwd"]!);
        Assert.Equal("hi", (string)message["process"]!["envs"]!["GREETING"]!);
        Assert.False((bool)message["stdin"]!);

        var output = JsonData.ToNode(result.Output)!;
        Assert.Equal("hi\n", (string)output["stdout"]!);
        Assert.Equal("warn\n", (string)output["stderr"]!);
        Assert.Equal(0, (int)output["exit_code"]!);
        await _api.WaitFor("DELETE", "/sandboxes/sbx1a2b3c");
    }

    [Fact]
    public async Task A_non_zero_exit_fails_the_step_unless_errors_are_allowed_and_the_sandbox_is_killed_either_way()
    {
        _start = (_, response, _) => Envelopes(response,
            (0, """{"event":{"start":{"pid":7}}}"""),
            (0, Data("stderr", "no such file\n")),
            (0, """{"event":{"end":{"exitCode":3,"exited":true,"status":"exit status 3"}}}"""),
            (2, "{}"));
        var failed = await RunAsync("- name: build\n  e2b: {command: make}", null);
        Assert.False(failed.Succeeded);
        Assert.Equal(typeof(E2BRunFailedException).FullName, failed.Failure!.ErrorType);
        Assert.Contains("exited with 3: no such file", failed.Failure.Message);
        Assert.Contains("e2b step 'build' (sandbox.yaml:1:3)", failed.Failure.Message);
        await _api.WaitFor("DELETE", "/sandboxes/sbx1a2b3c");

        var allowed = await RunAsync("- e2b: {command: make, allow_errors: true}", null);
        Assert.True(allowed.Succeeded, allowed.Failure?.ToString());
        Assert.Equal(3, (int)JsonData.ToNode(allowed.Output)!["exit_code"]!);
        await _api.WaitFor("DELETE", "/sandboxes/sbx1a2b3c");
    }

    [Fact]
    public async Task An_exception_in_the_code_fails_the_step_with_its_name_and_value_and_the_sandbox_is_killed()
    {
        _execute = (_, response, _) => Lines(response,
            """{"type":"error","name":"ZeroDivisionError","value":"division by zero","traceback":"Traceback...\nZeroDivisionError: division by zero"}""",
            """{"type":"end_of_execution"}""");
        var result = await RunAsync("- e2b: {code: \"1/0\"}", null);
        Assert.False(result.Succeeded);
        Assert.Contains("raised ZeroDivisionError: division by zero", result.Failure!.Message);
        await _api.WaitFor("DELETE", "/sandboxes/sbx1a2b3c");
    }

    [Fact]
    public async Task An_error_at_the_end_of_the_Connect_stream_fails_the_step_and_the_sandbox_is_killed()
    {
        _start = (_, response, _) => Envelopes(response, (2, """{"error":{"code":"permission_denied","message":"user 'user' may not run this"}}"""));
        var result = await RunAsync("- e2b: {command: whoami}", null);
        Assert.False(result.Succeeded);
        Assert.Contains("failed: permission_denied: user 'user' may not run this", result.Failure!.Message);
        await _api.WaitFor("DELETE", "/sandboxes/sbx1a2b3c");
    }

    [Fact]
    public async Task A_refused_creation_says_what_E2B_answered_without_the_key_and_kills_nothing()
    {
        _create = (_, response, _) => LoopbackServer.Write(response, 401, $$"""{"code":401,"message":"Invalid API key, it must start with 'e2b_' ({{ApiKey}})"}""");
        var logs = CreateTestProbe();
        Sys.EventStream.Subscribe(logs.Ref, typeof(LogEvent));
        var result = await RunAsync("- e2b: {code: \"1\"}", null);
        Assert.False(result.Succeeded);
        Assert.Contains("Creating an E2B sandbox from template 'code-interpreter-v1' failed with 401: Invalid API key", result.Failure!.Message);
        Assert.DoesNotContain(ApiKey, result.Failure.ToString());
        SupabaseStepSpecs.AssertNowhere(_spans.ForTrace(result.TraceId), ApiKey);
        foreach (var log in logs.ReceiveWhile(TimeSpan.FromMilliseconds(200), _ => true)) Assert.DoesNotContain(ApiKey, log.ToString());
        Assert.DoesNotContain(_api.Requests, r => r.Method == "DELETE");
        Assert.Empty(_sandbox.Requests);
    }

    [Fact]
    public async Task At_the_runs_deadline_the_sandbox_is_killed()
    {
        _execute = (_, _, stop) => Task.Delay(Timeout.Infinite, stop);
        var result = await RunAsync("- e2b: {code: \"while True: pass\"}", null, new RunOptions { Timeout = TimeSpan.FromSeconds(1) });
        Assert.False(result.Succeeded);
        Assert.Equal(typeof(WorkflowDeadlineExceededException).FullName, result.Failure!.ErrorType);
        Assert.Equal("/sandboxes/sbx1a2b3c", (await _api.WaitFor("DELETE", "/sandboxes/")).Path);
    }

    [Fact]
    public async Task When_the_run_is_cancelled_the_sandbox_is_killed()
    {
        _execute = (_, _, stop) => Task.Delay(Timeout.Infinite, stop);
        using var cancel = new CancellationTokenSource();
        var run = RunAsync("- e2b: {code: \"while True: pass\"}", null, new RunOptions { Timeout = TimeSpan.FromSeconds(30), Cancellation = cancel.Token });
        await _sandbox.WaitFor("POST", "/execute");
        await cancel.CancelAsync();
        var result = await run;
        Assert.False(result.Succeeded);
        Assert.Equal("/sandboxes/sbx1a2b3c", (await _api.WaitFor("DELETE", "/sandboxes/")).Path);
    }

    [Fact]
    public async Task At_the_steps_own_timeout_the_step_fails_and_the_sandbox_is_killed()
    {
        _execute = (_, _, stop) => Task.Delay(Timeout.Infinite, stop);
        var result = await RunAsync("- e2b: {code: \"while True: pass\", timeout_seconds: 0.3}", null);
        Assert.False(result.Succeeded);
        Assert.Equal(typeof(TimeoutException).FullName, result.Failure!.ErrorType);
        Assert.Contains("did not finish within 0.3 s", result.Failure.Message);
        Assert.Equal("/sandboxes/sbx1a2b3c", (await _api.WaitFor("DELETE", "/sandboxes/")).Path);
    }

    [Fact]
    public async Task The_run_is_an_execute_tool_span_with_the_sandboxs_create_and_kill_under_it_and_no_span_holds_a_key_or_token()
    {
        // The code prints the sandbox's token: the captured result must not carry it.
        _execute = (_, response, _) => Lines(response,
            $$"""{"type":"stdout","text":"sandbox says {{AccessToken}}\n","timestamp":"2026-01-01T00:00:00Z"}""",
            """{"type":"end_of_execution"}""");
        var result = await RunAsync("- name: analyse\n  e2b: {code: \"import os; print(os.environ)\"}", null);
        Assert.True(result.Succeeded, result.Failure?.ToString());
        await _api.WaitFor("DELETE", "/sandboxes/");

        var trace = _spans.ForTrace(result.TraceId);
        var step = SpanTree.Single(trace, "primitive.analyse");
        Assert.Equal("E2BPrimitive", step.GetTagItem("primitive.type"));
        var tool = SpanTree.Single(trace, "execute_tool e2b.run_code");
        Assert.Equal(step.SpanId, tool.ParentSpanId);
        Assert.Equal("execute_tool", tool.GetTagItem("gen_ai.operation.name"));
        Assert.Equal("e2b.run_code", tool.GetTagItem("gen_ai.tool.name"));
        Assert.Equal("extension", tool.GetTagItem("gen_ai.tool.type"));
        Assert.Equal("sbx1a2b3c", tool.GetTagItem("e2b.sandbox.id"));
        Assert.Equal(true, tool.GetTagItem("e2b.sandbox.killed"));
        Assert.Contains("import os; print(os.environ)", (string)tool.GetTagItem("gen_ai.tool.call.arguments")!);
        Assert.Contains("sandbox says [REDACTED]", (string)tool.GetTagItem("gen_ai.tool.call.result")!);
        var received = LangfuseView.Attributes(tool);
        Assert.Equal("tool", received["langfuse.observation.type"]);
        Assert.Equal(tool.GetTagItem("gen_ai.tool.call.arguments"), received["langfuse.observation.input"]);
        Assert.Equal(tool.GetTagItem("gen_ai.tool.call.result"), received["langfuse.observation.output"]);
        var create = SpanTree.Single(trace, "e2b.sandbox.create");
        var kill = SpanTree.Single(trace, "e2b.sandbox.kill");
        Assert.Equal(tool.SpanId, create.ParentSpanId);
        Assert.Equal(tool.SpanId, kill.ParentSpanId);
        Assert.Equal(ActivityKind.Client, kill.Kind);
        Assert.Equal("sbx1a2b3c", kill.GetTagItem("e2b.sandbox.id"));
        SupabaseStepSpecs.AssertNowhere(trace, ApiKey);
        SupabaseStepSpecs.AssertNowhere(trace, AccessToken);
        LangfuseView.AssertNoLangfuseNames(trace);
    }

    [Fact]
    public async Task With_capture_off_neither_the_code_nor_the_output_is_recorded()
    {
        var result = await RunAsync("- e2b: {code: \"print('secret plan')\"}", null, capture: CapturePolicy.Default with { Enabled = false });
        Assert.True(result.Succeeded, result.Failure?.ToString());
        var tool = SpanTree.Single(_spans.ForTrace(result.TraceId), "execute_tool e2b.run_code");
        Assert.Null(tool.GetTagItem("gen_ai.tool.call.arguments"));
        Assert.Null(tool.GetTagItem("gen_ai.tool.call.result"));
        Assert.DoesNotContain(LangfuseView.Attributes(tool).Keys, k => k is "langfuse.observation.input" or "langfuse.observation.output");
        SupabaseStepSpecs.AssertNowhere(_spans.ForTrace(result.TraceId), "secret plan");
    }

    [Theory]
    [InlineData("evil.example.com/x")]
    [InlineData("a@b")]
    [InlineData("")]
    public async Task A_sandbox_id_that_is_not_plain_is_never_put_into_a_URL(string hostile)
    {
        _create = (_, response, _) => LoopbackServer.Write(response, 201, $$"""{"sandboxID":"{{hostile}}","envdVersion":"0.2.4","envdAccessToken":"t"}""");
        var result = await RunAsync("- e2b: {code: \"1\"}", null);
        Assert.False(result.Succeeded);
        Assert.Contains("without a usable sandboxID", result.Failure!.Message);
        Assert.Empty(_sandbox.Requests);
    }

    [Theory]
    [InlineData("code: \"1\"\n    command: ls", "exactly one of 'code:'")]
    [InlineData("language: python", "exactly one of 'code:'")]
    [InlineData("code: \"1\"\n    language: cobol", "Unknown language 'cobol'")]
    [InlineData("command: ls\n    language: python", "only applies to 'code:'")]
    [InlineData("code: \"1\"\n    cwd: /tmp", "only applies to 'command:'")]
    [InlineData("code: \"1\"\n    files: [{path: \"{{ input.path }}\", content: x}]", "written literally")]
    [InlineData("code: \"1\"\n    download: [relative.txt]", "must be an absolute path")]
    [InlineData("code: \"1\"\n    env: {\"1BAD\": x}", "not an environment variable name")]
    [InlineData("code: \"1\"\n    env: {KEY: \"{{ env.E2B_API_KEY }}\"}", "environment variables can only be read in http headers")]
    [InlineData("code: \"1\"\n    timeout_seconds: 120\n    sandbox_timeout_seconds: 60", "shorter than 'timeout_seconds'")]
    [InlineData("code: \"1\"\n    timeout_seconds: 7200", "'timeout_seconds' must be a number from 0.001 to 3600")]
    [InlineData("code: \"1\"\n    template: \"../x y\"", "is not an E2B template id")]
    public void The_file_is_checked_where_it_writes_each_part(string body, string expected)
    {
        var problems = Problems($"- e2b:\n    {body}\n");
        Assert.Contains(problems, p => p.Message.Contains(expected));
    }

    [Fact]
    public void Without_E2B_API_KEY_the_file_is_valid_but_cannot_be_built()
    {
        var (document, _) = WorkflowFileParser.Parse("- e2b: {code: \"1\"}", "sandbox.yaml", "sandbox");
        var services = new WorkflowStepServices(_http, _ => null, (_, _) => throw new InvalidOperationException());
        var error = Assert.Throws<WorkflowFileException>(() => WorkflowFileBuilder.Build(document!, services));
        Assert.Contains("E2B_API_KEY is not set", Assert.Single(error.Problems).Message);
        var options = E2BOptions.FromEnvironment(n => n == "E2B_API_KEY" ? ApiKey : null)!;
        Assert.Equal(new Uri("https://api.e2b.app"), options.EffectiveApiUrl);
        Assert.DoesNotContain(ApiKey, options.ToString());
    }

    [Fact]
    public async Task The_client_is_usable_on_its_own_output_is_cut_at_MaxOutputBytes_and_a_sandbox_is_killed_once()
    {
        _execute = (_, response, _) => Lines(response,
            """{"type":"stdout","text":"hello","timestamp":"t"}""",
            """{"type":"stderr","text":"oops!!","timestamp":"t"}""",
            """{"type":"end_of_execution"}""");
        var options = E2BOptions.FromEnvironment(Environment)! with { MaxOutputBytes = 5 };
        var client = new E2BClient(_http, options);
        await using (var sandbox = await client.CreateSandboxAsync("code-interpreter-v1", TimeSpan.FromMinutes(1)))
        {
            var code = await sandbox.RunCodeAsync("print('hello')");
            Assert.Equal("hello", code.Stdout);
            Assert.Equal("oops!\n[truncated: 1 more bytes (MaxOutputBytes)]", code.Stderr);
            await sandbox.DisposeAsync();
            Assert.True(sandbox.Killed);
        }
        Assert.Single(_api.Requests, r => r.Method == "DELETE");
    }

    /// <summary>A process data event: proto3 JSON writes the bytes as base64.</summary>
    private static string Data(string stream, string text) =>
        new JsonObject { ["event"] = new JsonObject { ["data"] = new JsonObject { [stream] = Convert.ToBase64String(Encoding.UTF8.GetBytes(text)) } } }.ToJsonString();

    /// <summary>The code interpreter's answer: one JSON object per line, each flushed as it comes.</summary>
    private static async Task Lines(HttpListenerResponse response, params string[] lines)
    {
        response.StatusCode = 200;
        response.ContentType = "application/json";
        response.SendChunked = true;
        foreach (var line in lines)
        {
            await response.OutputStream.WriteAsync(Encoding.UTF8.GetBytes(line + "\n"));
            await response.OutputStream.FlushAsync();
        }
        response.Close();
    }

    /// <summary>A Connect server stream: each message a flag byte, a big-endian length and the JSON; flag 2 ends the stream.</summary>
    private static async Task Envelopes(HttpListenerResponse response, params (byte Flags, string Json)[] messages)
    {
        response.StatusCode = 200;
        response.ContentType = "application/connect+json";
        response.SendChunked = true;
        foreach (var (flags, json) in messages)
        {
            var payload = Encoding.UTF8.GetBytes(json);
            var envelope = new byte[5 + payload.Length];
            envelope[0] = flags;
            BinaryPrimitives.WriteInt32BigEndian(envelope.AsSpan(1), payload.Length);
            payload.CopyTo(envelope, 5);
            await response.OutputStream.WriteAsync(envelope);
            await response.OutputStream.FlushAsync();
        }
        response.Close();
    }

    public new void Dispose()
    {
        _api.Dispose();
        _sandbox.Dispose();
        _spans.Dispose();
        _http.Dispose();
        base.Dispose();
    }
}
