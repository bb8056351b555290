using System.Net.Http.Json;
using System.Text.Json.Nodes;
using TtaActors.Tests.Support;
using Xunit;

namespace TtaActors.Tests.NodeHost;

/// <summary>Start-up, configuration and shutdown of the real binary.</summary>
[Collection(TtaProcessCollection.Name)]
public sealed class NodeLifecycleSpecs
{
    [Fact]
    public async Task Node_stops_cleanly_on_sigterm_after_flushing_telemetry()
    {
        var port = FreePort.Next();
        await using var node = await TtaProcess.StartAsync(
            ["node", "--http", $"127.0.0.1:{port}", "--port", FreePort.Next().ToString(), "--metrics-port", "0",
             "--data", Directory.CreateTempSubdirectory("tta-sigterm-").FullName],
            new Dictionary<string, string?>(), "tta node ready");
        using (var api = new HttpClient())
        {
            using var response = await api.PostAsJsonAsync($"http://127.0.0.1:{port}/runs", new { workflow = "dev-copilot-demo" });
            var run = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
            Assert.Equal("succeeded", (string?)run["status"]);
        }

        node.Terminate();
        await node.WaitForExitAsync();

        Assert.True(node.ExitCode == 0, node.Output);
        // The run inspector's span store is an exporter of every node: the stop line reports what it was handed.
        var stopped = node.Stdout.Split('\n').Single(line => line.StartsWith("tta node stopped; ", StringComparison.Ordinal));
        Assert.Matches(@"^tta node stopped; telemetry ui: delivered [1-9]\d* spans, lost 0\.$", stopped.TrimEnd());
    }

    [Fact]
    public async Task Node_refuses_a_non_loopback_bind_without_an_api_token()
    {
        var cli = await TtaProcess.RunAsync(["node", "--http", $"0.0.0.0:{FreePort.Next()}", "--metrics-port", "0"]);
        Assert.Equal(1, cli.ExitCode);
        Assert.Contains("TTA_API_TOKEN", cli.Stderr);
    }

    [Fact]
    public async Task Print_config_shows_the_layers_and_masks_secrets()
    {
        var cli = await TtaProcess.RunAsync(["node", "--print-config", "--db-provider", "postgres", "--port", "8111"],
            new Dictionary<string, string?>
            {
                ["TTA_DB"] = "Host=db.internal;Username=tta;Password=hunter2",
                ["TTA_HOCON"] = "akka.loglevel = INFO",
            });
        Assert.True(cli.ExitCode == 0, cli.Output);
        Assert.DoesNotContain("hunter2", cli.Output);
        Assert.Contains("akka.persistence.journal.sql.connection-string = ********", cli.Stdout);
        Assert.Contains("akka.persistence.journal.sql.provider-name = PostgreSQL.15", cli.Stdout);
        Assert.Contains("akka.remote.dot-netty.tcp.port = 8111", cli.Stdout);
        Assert.Contains("akka.loglevel = INFO    # TTA_HOCON", cli.Stdout);
    }

    [Fact]
    public async Task Usage_errors_exit_with_2_and_failures_with_1()
    {
        var unknown = await TtaProcess.RunAsync(["frobnicate"]);
        Assert.Equal(2, unknown.ExitCode);

        var badInput = await TtaProcess.RunAsync(["run", "dev-copilot-demo", "--input", "{not json"]);
        Assert.Equal(2, badInput.ExitCode);
        Assert.Contains("--input is not valid JSON", badInput.Stderr);

        var version = await TtaProcess.RunAsync(["version"]);
        Assert.Equal(0, version.ExitCode);
        Assert.Contains("Akka.NET 1.5", version.Stdout);
    }

    [Fact]
    public async Task Validate_reports_every_problem_with_file_line_and_column()
    {
        var directory = Directory.CreateTempSubdirectory("tta-validate-").FullName;
        try
        {
            WorkflowFiles.WriteAll(directory, "http://127.0.0.1:9");
            var good = await TtaProcess.RunAsync(["validate", Path.Combine(directory, "everything.yaml")]);
            Assert.True(good.ExitCode == 0, good.Output);

            var bad = Path.Combine(directory, "unknown-kind.yaml");
            var cli = await TtaProcess.RunAsync(["validate", bad, Path.Combine(directory, "malformed.yaml")]);
            Assert.Equal(1, cli.ExitCode);
            Assert.Contains($"{bad}:2:3: error: Unknown step kind 'shout'", cli.Stdout);
            Assert.Contains("malformed.yaml:", cli.Stdout);
            Assert.Contains("2 problem(s) in 2 file(s).", cli.Stdout);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task Run_prints_the_output_of_a_workflow_file_and_fails_with_the_primitive_path()
    {
        var directory = Directory.CreateTempSubdirectory("tta-run-").FullName;
        try
        {
            var file = Path.Combine(directory, "hello.json");
            await File.WriteAllTextAsync(file, """{"name": "hello", "steps": [{"set": {"greeting": "Hello {{ input.who }}", "persona": "{{ context.persona }}"}}]}""");
            var ok = await TtaProcess.RunAsync(["run", file, "--input", """{"who": "Ada"}""", "--persona", "backend-engineer"]);
            Assert.True(ok.ExitCode == 0, ok.Output);
            var output = JsonNode.Parse(ok.Stdout)!;
            Assert.Equal("Hello Ada", (string?)output["greeting"]);
            Assert.Equal("backend-engineer", (string?)output["persona"]);

            var failing = Path.Combine(directory, "routes.yaml");
            await File.WriteAllTextAsync(failing, """
                - router:
                    by: $.kind
                    routes: {a: {template: "A"}}
                """);
            var failed = await TtaProcess.RunAsync(["run", failing, "--input", """{"kind": "b"}"""]);
            Assert.Equal(1, failed.ExitCode);
            Assert.Contains("failed at routes/", failed.Stderr);
            Assert.Contains("No route for key 'b'", failed.Stderr);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task Run_in_a_session_keeps_the_session_in_the_data_directory_journal_for_the_next_run()
    {
        var directory = Directory.CreateTempSubdirectory("tta-run-session-").FullName;
        try
        {
            var file = Path.Combine(directory, "who.json");
            await File.WriteAllTextAsync(file, """{"name": "who", "steps": [{"set": {"persona": "{{ context.persona }}", "chatmode": "{{ context.chatmode }}"}}]}""");
            var data = Path.Combine(directory, "data");
            var first = await TtaProcess.RunAsync(["run", file, "--session", "s-1", "--persona", "backend-engineer", "--chatmode", "review", "--data", data]);
            Assert.True(first.ExitCode == 0, first.Output);
            Assert.True(File.Exists(Path.Combine(data, "journal.db")), "the session is journaled in the data directory");

            // A second process knows the session's persona only from the journal: the run names none itself.
            var second = await TtaProcess.RunAsync(["run", file, "--session", "s-1", "--data", data]);
            Assert.True(second.ExitCode == 0, second.Output);
            var output = JsonNode.Parse(second.Stdout)!;
            Assert.Equal("backend-engineer", (string?)output["persona"]);
            Assert.Equal("review", (string?)output["chatmode"]);

            // The session is the data directory's: a run elsewhere does not find it.
            var elsewhere = await TtaProcess.RunAsync(["run", file, "--session", "s-1", "--data", Path.Combine(directory, "other")]);
            Assert.True(elsewhere.ExitCode == 0, elsewhere.Output);
            Assert.NotEqual("backend-engineer", (string?)JsonNode.Parse(elsewhere.Stdout)!["persona"]);

            // One writer per session: a directory a node (here, this lock) holds is refused, naming it.
            using (new FileStream(Path.Combine(data, "node.lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None))
            {
                var held = await TtaProcess.RunAsync(["run", file, "--session", "s-1", "--data", data]);
                Assert.Equal(1, held.ExitCode);
                Assert.Contains("the data directory is in use", held.Stderr);
            }
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
