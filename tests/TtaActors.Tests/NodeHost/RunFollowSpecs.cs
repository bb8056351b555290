using System.Text.Json.Nodes;
using TtaActors.Tests.Support;
using Xunit;

namespace TtaActors.Tests.NodeHost;

/// <summary><c>tta run --follow</c> as a real process: the run's events, one line each, in order, then its output.</summary>
[Collection(TtaProcessCollection.Name)]
public sealed class RunFollowSpecs
{
    private static string WriteWorkflow(string name, string yaml)
    {
        var directory = Directory.CreateTempSubdirectory("tta-follow-").FullName;
        File.WriteAllText(Path.Combine(directory, name + ".yaml"), $"name: {name}\n{yaml}");
        return directory;
    }

    /// <summary>The event lines of the output: "ID TYPE JSON", parsed.</summary>
    private static List<(long Id, JsonObject Event)> Events(string stdout) =>
        stdout.Split('\n')
            .Select(line => line.Trim())
            .Where(line => line.Length > 0 && char.IsAsciiDigit(line[0]) && line.Contains(" {\"type\":", StringComparison.Ordinal))
            .Select(line => (long.Parse(line[..line.IndexOf(' ')]), JsonNode.Parse(line[line.IndexOf('{')..])!.AsObject()))
            .ToList();

    private static string Kind(JsonObject e) => (string)e["type"]!;

    [Fact]
    public async Task Run_follow_should_print_the_run_start_each_step_start_and_finish_with_its_type_and_duration_then_the_output()
    {
        var directory = WriteWorkflow("follow-ok", """
            steps:
              - name: shout
                template: "{{ input }}!"
              - name: wrap
                set: { said: "{{ input }}" }
            """);

        var run = await TtaProcess.RunAsync(["run", Path.Combine(directory, "follow-ok.yaml"), "--follow", "--input", "\"hey\""]);

        Assert.True(run.ExitCode == 0, run.Output);
        var events = Events(run.Stdout);
        Assert.Equal(Enumerable.Range(1, events.Count).Select(i => (long)i), events.Select(e => e.Id));
        Assert.Equal("RUN_STARTED", Kind(events[0].Event));
        Assert.Equal("RUN_FINISHED", Kind(events[^1].Event));
        var runId = (string)events[0].Event["runId"]!;
        Assert.Contains($"run {runId}", run.Stderr);
        Assert.Equal(runId, (string)events[^1].Event["runId"]!);

        var steps = events.Where(e => Kind(e.Event).StartsWith("STEP_", StringComparison.Ordinal)).Select(e => e.Event).ToList();
        foreach (var step in new[] { "shout", "wrap" })
        {
            var path = $"follow-ok/SequentialPrimitive/{step}";
            var started = steps.FindIndex(e => Kind(e) == "STEP_STARTED" && (string)e["stepName"]! == path);
            var finished = steps.FindIndex(e => Kind(e) == "STEP_FINISHED" && (string)e["stepName"]! == path);
            Assert.True(started >= 0 && finished > started, $"{path}: started at {started}, finished at {finished}\n{run.Output}");
            Assert.Equal("LambdaPrimitive", (string)steps[finished]["primitiveType"]!);
            Assert.Equal("success", (string)steps[finished]["status"]!);
            Assert.True((double)steps[finished]["durationMs"]! >= 0);
        }
        // The steps run in order: the second starts after the first has finished.
        Assert.True(steps.FindIndex(e => Kind(e) == "STEP_FINISHED" && ((string)e["stepName"]!).EndsWith("/shout", StringComparison.Ordinal))
                    < steps.FindIndex(e => Kind(e) == "STEP_STARTED" && ((string)e["stepName"]!).EndsWith("/wrap", StringComparison.Ordinal)));

        // The output comes after the last event, as without --follow.
        var output = run.Stdout[(run.Stdout.LastIndexOf("RUN_FINISHED", StringComparison.Ordinal))..];
        Assert.Equal("hey!", (string)JsonNode.Parse(output[output.IndexOf('\n')..])!["said"]!);
    }

    [Fact]
    public async Task Run_follow_of_a_failing_run_should_end_with_run_error_and_exit_1()
    {
        var directory = WriteWorkflow("follow-fail", """
            steps:
              - name: call
                http: { url: "http://127.0.0.1:1/nothing-listens" }
            """);

        var run = await TtaProcess.RunAsync(["run", Path.Combine(directory, "follow-fail.yaml"), "--follow"]);

        Assert.Equal(1, run.ExitCode);
        var events = Events(run.Stdout);
        Assert.Equal("RUN_ERROR", Kind(events[^1].Event));
        Assert.Contains("call", (string)events[^1].Event["message"]!);
        var failed = events.Single(e => Kind(e.Event) == "STEP_FINISHED" && ((string)e.Event["stepName"]!).EndsWith("/call", StringComparison.Ordinal));
        Assert.Equal("error", (string)failed.Event["status"]!);
    }

    [Fact]
    public async Task Run_follow_on_a_node_should_print_a_durable_runs_journaled_events_then_its_output()
    {
        var directory = WriteWorkflow("follow-durable", """
            durability: steps
            steps:
              - name: first
                template: "{{ input }}-1"
              - name: second
                template: "{{ input }}-2"
            """);
        var http = FreePort.Next();
        await using var node = await TtaProcess.StartAsync(
            ["node", "--http", $"127.0.0.1:{http}", "--port", FreePort.Next().ToString(), "--metrics-port", "0", "--workflows", directory,
             "--data", Directory.CreateTempSubdirectory("tta-follow-node-").FullName],
            new Dictionary<string, string?>(), "tta node ready");

        var inProcess = await TtaProcess.RunAsync(["run", Path.Combine(directory, "follow-durable.yaml"), "--follow"]);
        Assert.Equal(1, inProcess.ExitCode);
        Assert.Contains("--node", inProcess.Stderr);

        var run = await TtaProcess.RunAsync(["run", "follow-durable", "--node", $"http://127.0.0.1:{http}", "--follow", "--input", "\"x\""]);

        Assert.True(run.ExitCode == 0, run.Output + node.Output);
        var events = Events(run.Stdout);
        Assert.Equal(["RUN_STARTED", "STEP_STARTED", "STEP_FINISHED", "STEP_STARTED", "STEP_FINISHED", "RUN_FINISHED"], events.Select(e => Kind(e.Event)));
        // The ids are the journal's sequence numbers, the ones Last-Event-ID takes.
        Assert.Equal(events.Select(e => e.Id).Order(), events.Select(e => e.Id));
        Assert.Equal("\"x-1\"", events[2].Event["output"]!.ToJsonString());
        var output = run.Stdout[(run.Stdout.LastIndexOf("RUN_FINISHED", StringComparison.Ordinal))..];
        Assert.Equal("x-1-2", (string)JsonNode.Parse(output[output.IndexOf('\n')..])!);
    }
}
