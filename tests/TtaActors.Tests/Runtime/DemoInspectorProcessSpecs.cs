using System.Text.Json.Nodes;
using TtaActors.Tests.NodeHost;
using TtaActors.Tests.Support;

namespace TtaActors.Tests.Runtime;

/// <summary><c>tta demo --hold</c> as a real process: after its runs it serves the node's API and the run inspector.</summary>
[Collection(TtaProcessCollection.Name)]
public sealed class DemoInspectorProcessSpecs : IDisposable
{
    private readonly string _data = Directory.CreateTempSubdirectory("tta-demo-ui-").FullName;

    [Fact]
    public async Task Demo_hold_should_serve_the_inspector_and_list_its_runs_with_their_spans()
    {
        var port = FreePort.Next();
        var environment = new Dictionary<string, string?>
        {
            ["TTA_DATA"] = _data,
            // The demo must run on the offline model and export nowhere, whatever keys the machine has.
            ["OPENAI_API_KEY"] = null, ["ANTHROPIC_API_KEY"] = null, ["LANGFUSE_PUBLIC_KEY"] = null, ["LANGFUSE_SECRET_KEY"] = null,
            ["OTEL_SERVICE_NAME"] = null,
        };
        await using var demo = await TtaProcess.StartAsync(
            ["demo", "--hold", "--http", $"127.0.0.1:{port}", "--metrics-port", "0"], environment, "until Ctrl+C");
        Assert.Contains($"Run inspector: http://127.0.0.1:{port}/ui", demo.Stdout);

        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        using var page = await http.GetAsync("/ui");
        Assert.Equal(System.Net.HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        Assert.Contains("script-src 'self'", string.Join(" ", page.Headers.GetValues("Content-Security-Policy")));

        var runs = JsonNode.Parse(await http.GetStringAsync("/runs"))!["runs"]!.AsArray();
        Assert.Equal(2, runs.Count);
        var session = (string?)runs[0]!["session"];
        Assert.StartsWith("demo-", session);
        Assert.All(runs, run =>
        {
            Assert.Equal("dev-copilot-demo", (string?)run!["workflow"]);
            Assert.Equal("succeeded", (string?)run["status"]);
            Assert.Equal(session, (string?)run["session"]);
        });
        Assert.Equal(["frontend-dev", "backend-engineer"], runs.Select(r => (string?)r!["persona"]));

        // The span store is one more exporter of the run's telemetry pipeline, so the trace arrives after the run,
        // possibly over several batches: the leaves end (and are exported) before the Sequential that holds them.
        var runId = (string)runs[1]!["runId"]!;
        static bool IsSequential(JsonNode? span) => ((string?)span!["name"])?.Contains("SequentialPrimitive") == true;
        JsonArray spans = [];
        for (var attempt = 0; attempt < 100 && !spans.Any(IsSequential); attempt++)
        {
            if (attempt > 0) await Task.Delay(100);
            spans = JsonNode.Parse(await http.GetStringAsync($"/ui/api/trace/{runId}"))!["spans"]!.AsArray();
        }
        Assert.Contains(spans, IsSequential);

        demo.Terminate();
        await demo.WaitForExitAsync();
        Assert.Equal(0, demo.ExitCode);
    }

    public void Dispose() => Directory.Delete(_data, recursive: true);
}
