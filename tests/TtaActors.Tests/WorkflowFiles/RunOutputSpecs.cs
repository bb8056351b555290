using System.Text.Json.Nodes;
using Akka.TestKit.Xunit2;
using TtaActors.Actors.Execution;
using TtaActors.Actors.Primitives;
using TtaActors.Runtime.Hosting;
using TtaActors.Runtime.Runs;
using TtaActors.Runtime.Workflows;

namespace TtaActors.Tests.WorkflowFiles;

/// <summary>A run's output is written as JSON once, for the command line and the node alike, up to a documented depth.</summary>
public sealed class RunOutputSpecs() : TestKit("akka.loglevel = WARNING")
{
    [Fact]
    public void The_options_of_the_node_run_documents_should_be_complete_and_frozen_before_the_first_request()
    {
        // ASP.NET's Results.Json sets a missing resolver on the options it is given; two first POST /runs at once then
        // raced and one answered 500 ("read-only") in the cluster benchmark.
        Assert.NotNull(JsonData.OutputDocument.TypeInfoResolver);
        Assert.True(JsonData.OutputDocument.IsReadOnly);
        var result = Microsoft.AspNetCore.Http.Results.Json(new JsonObject { ["status"] = "succeeded" }, JsonData.OutputDocument);
        Assert.NotNull(result);
    }

    /// <summary>Built without recursion, so a value far deeper than any stack allows can be made.</summary>
    private static JsonNode Nested(int depth)
    {
        JsonNode node = JsonValue.Create(1);
        for (var i = 0; i < depth; i++) node = new JsonArray(node);
        return node;
    }

    private sealed class Cycle
    {
        public Cycle? Self { get; set; }
    }

    [Fact]
    public void Output_up_to_the_bound_is_written_and_deeper_output_is_a_clear_error()
    {
        var written = JsonData.Serialize(Nested(JsonData.MaxOutputDepth - 1));
        Assert.StartsWith(new string('[', JsonData.MaxOutputDepth - 1) + "1", written);

        foreach (var hostile in new object?[] { Nested(JsonData.MaxOutputDepth + 1), Nested(100_000), new object?[] { Nested(100_000) } })
        {
            var error = Assert.Throws<RunOutputException>(() => JsonData.ToOutput(hostile));
            Assert.Contains($"at most {JsonData.MaxOutputDepth} levels", error.Message);
        }
        var cycle = new Cycle();
        cycle.Self = cycle;
        Assert.Throws<RunOutputException>(() => JsonData.ToOutput(cycle));
    }

    [Fact]
    public async Task A_run_whose_output_is_too_deep_fails_with_the_reason_and_a_deep_enough_one_is_kept()
    {
        var registry = new WorkflowRegistry(new WorkflowStepServices(new HttpClient(), _ => null,
            (definition, name) => WorkflowGraph.Materialize(Sys, definition, name)));
        registry.Register("deep", Lambda.From<JsonNode?, JsonNode>(input => Nested((int)input!), "deepen"));
        var runs = new RunService(registry, sessions: null, new TtaRuntimeOptions());

        var (_, tooDeep) = await runs.StartAsync(new RunRequest("deep", JsonValue.Create(10_000)));
        var failed = await tooDeep;
        Assert.Equal(RunStatus.Failed, failed.Status);
        Assert.Equal(typeof(RunOutputException).FullName, failed.Error!.ErrorType);
        Assert.Contains($"at most {JsonData.MaxOutputDepth} levels", failed.Error.Message);

        var (_, deep) = await runs.StartAsync(new RunRequest("deep", JsonValue.Create(200)));
        var succeeded = await deep;
        Assert.Equal(RunStatus.Succeeded, succeeded.Status);
        Assert.Contains(new string('[', 200) + "1", JsonData.Serialize(succeeded.Output));
    }

    [Fact]
    public async Task A_run_service_without_persona_sessions_refuses_a_run_in_a_session_and_runs_others()
    {
        var registry = new WorkflowRegistry(new WorkflowStepServices(new HttpClient(), _ => null,
            (definition, name) => WorkflowGraph.Materialize(Sys, definition, name)));
        registry.Register("echo", Lambda.From<JsonNode?, JsonNode?>(input => input, "echo"));
        var runs = new RunService(registry, sessions: null, new TtaRuntimeOptions());

        var refused = await Assert.ThrowsAsync<InvalidFieldException>(() => runs.StartAsync(new RunRequest("echo", JsonValue.Create(1), Session: "s-1")));
        Assert.Equal("session", refused.Field);
        Assert.Contains("no persona sessions", refused.Message);

        var (_, completion) = await runs.StartAsync(new RunRequest("echo", JsonValue.Create(1)));
        Assert.Equal(RunStatus.Succeeded, (await completion).Status);
    }
}
