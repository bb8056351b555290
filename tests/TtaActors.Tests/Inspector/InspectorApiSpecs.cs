using System.Text.Json.Nodes;
using TtaActors.Tests.NodeHost;

namespace TtaActors.Tests.Inspector;

/// <summary>The inspector's API on the real end-to-end node (non-loopback, with a token): listing bounds and in-memory events.</summary>
[Collection(TtaProcessCollection.Name)]
public sealed class InspectorApiSpecs(NodeFixture node) : IClassFixture<NodeFixture>
{
    [Theory]
    [InlineData("/runs?limit=0", "limit")]
    [InlineData("/runs?limit=1001", "limit")]
    [InlineData("/runs?status=sleeping", "status")]
    [InlineData("/runs?persona=Not%20A%20Persona", "persona")]
    public async Task Listing_refuses_filters_out_of_bounds_with_the_field(string path, string field)
    {
        var (status, problem) = await node.GetAsync(path);
        Assert.Equal(422, status);
        Assert.Equal(field, (string?)problem!["field"]);
    }

    [Fact]
    public async Task Listing_shows_in_memory_runs_filtered_by_workflow_and_persona_up_to_the_largest_limit()
    {
        var (_, run) = await node.PostAsync("/runs", """{"workflow": "everything", "input": {"kind": "bye", "key": "k"}, "persona": "qa-lead"}""");
        var runId = (string)run!["runId"]!;

        var (status, list) = await node.GetAsync("/runs?workflow=everything&persona=qa-lead&status=succeeded&limit=1000");
        Assert.Equal(200, status);
        var row = list!["runs"]!.AsArray().Single(r => (string?)r!["runId"] == runId)!;
        Assert.False((bool)row["durable"]!);
        Assert.Equal("qa-lead", (string?)row["persona"]);
        Assert.True((double)row["durationMs"]! >= 0);

        var (_, other) = await node.GetAsync("/runs?persona=someone-else");
        Assert.DoesNotContain(other!["runs"]!.AsArray(), r => (string?)r!["runId"] == runId);
    }

    [Fact]
    public async Task An_in_memory_runs_id_is_its_traces_workflow_run_id_and_its_events_end_with_run_finished()
    {
        var (_, run) = await node.PostAsync("/runs", """{"workflow": "everything", "input": {"kind": "bye", "key": "k2"}}""");
        var runId = (string)run!["runId"]!;

        using var response = await node.Api.GetAsync($"/runs/{runId}/events", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var events = (await response.Content.ReadAsStringAsync()).Split('\n')
            .Where(l => l.StartsWith("data: ")).Select(l => JsonNode.Parse(l[6..])!).ToList();
        Assert.Equal("RUN_STARTED", (string?)events[0]["type"]);
        Assert.Equal("RUN_FINISHED", (string?)events[^1]["type"]);
        Assert.Contains(events, e => (string?)e["type"] == "STEP_FINISHED" && (string?)e["stepName"] == "triage");

        var (_, trace) = await node.GetAsync($"/ui/api/trace/{runId}");
        Assert.Equal((string?)run["traceId"], (string?)trace!["traceId"]);
        var root = trace["spans"]!.AsArray().Single(s => ((string)s!["name"]!).StartsWith("workflow."))!;
        Assert.Equal(runId, (string?)root["attributes"]!["workflow.run_id"]);
    }
}
