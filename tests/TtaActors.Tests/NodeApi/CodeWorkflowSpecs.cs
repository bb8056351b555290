using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using TtaActors.Actors.Execution;
using TtaActors.Actors.Typed;
using TtaActors.Runtime.Hosting;
using TtaActors.Runtime.Node;
using TtaActors.Runtime.Runs;
using TtaActors.Runtime.Workflows;

namespace TtaActors.Tests.NodeApi;

/// <summary>
/// Workflows defined in code and registered with <c>AddTtaWorkflow</c>, in an app of one's own that maps the node's API:
/// typed input read from the request's JSON, the refusals of what is not one, a duplicate name, and the host's stop.
/// </summary>
public sealed class CodeWorkflowSpecs
{
    private sealed record Page(string Title, int Words);

    private static readonly Step<Page, string> Describe =
        Step.From<Page, string>(page => $"{page.Title}: {page.Words} words", "describe") >> Step.From<string, string>(text => text + ".", "stop");

    [Fact]
    public async Task A_typed_workflow_reads_its_input_from_the_requests_json_and_answers_with_its_output()
    {
        await using var app = await StartAsync(services => services.AddTtaWorkflow("describe", Describe, "Describes a page."));

        var (status, body) = await PostAsync(app, """{"workflow": "describe", "input": {"title": "Home", "words": 12}}""");

        Assert.Equal(200, status);
        Assert.Equal("succeeded", (string?)body!["status"]);
        Assert.Equal("Home: 12 words.", (string?)body["output"]);
        var listed = (await app.Client.GetFromJsonAsync<JsonObject>("/workflows"))!["workflows"]!.AsArray()
            .Single(w => (string?)w!["name"] == "describe")!;
        Assert.Equal("code", (string?)listed["source"]);
        Assert.Equal("Describes a page.", (string?)listed["description"]);
    }

    [Theory]
    [InlineData("""{"workflow": "describe", "input": "just text"}""", "takes a Page as input")]
    [InlineData("""{"workflow": "describe", "input": {"title": "Home", "words": "many"}}""", "takes a Page as input")]
    [InlineData("""{"workflow": "describe"}""", "the request has none")]
    [InlineData("""{"workflow": "describe", "input": null}""", "the request has none")]
    public async Task Input_that_is_not_the_typed_workflows_input_answers_422_naming_the_workflow_and_type(string request, string expected)
    {
        await using var app = await StartAsync(services => services.AddTtaWorkflow("describe", Describe));

        var (status, body) = await PostAsync(app, request);

        Assert.Equal(422, status);
        Assert.Equal("input", (string?)body!["field"]);
        var detail = (string?)body!["detail"] ?? "";
        Assert.Contains("Workflow 'describe'", detail);
        Assert.Contains(expected, detail);
    }

    [Fact]
    public async Task A_name_registered_twice_stops_the_hosts_start_with_an_error_naming_it()
    {
        var error = await Assert.ThrowsAsync<TtaConfigurationException>(() => StartAsync(services => services
            .AddTtaWorkflow("describe", Describe)
            .AddTtaWorkflow("describe", Step.From<string, string>(text => text, "echo"))));

        Assert.Contains("Code workflow 'describe' (AddTtaWorkflow) cannot be started", error.Message);
        Assert.Contains("already registered", error.Message);
    }

    [Theory]
    [InlineData("")]
    [InlineData("has space")]
    [InlineData("../up")]
    public void A_name_that_is_not_one_runs_can_ask_for_is_refused_where_it_is_registered(string name)
    {
        var error = Assert.Throws<ArgumentException>(() => new ServiceCollection().AddTtaWorkflow(name, Describe));
        Assert.Contains("is not 1 to 128 letters, digits", error.Message);
    }

    /// <summary>
    /// Either way a host is stopped: awaited (<c>StopAsync</c>), or only asked to (a signal or Ctrl+C, while <c>tta run</c>
    /// still waits for its run and nobody awaits the stop yet).
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Stopping_the_host_fails_a_code_workflows_run_in_flight_with_the_graph_stopped_error(bool awaited)
    {
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var wait = Step.FromAsync<string, string>(async (text, cancellation) =>
        {
            entered.TrySetResult();
            // Ignores its token on purpose: the graph's stop must end the run whatever the step does.
            await new TaskCompletionSource().Task.WaitAsync(TimeSpan.FromMinutes(10), CancellationToken.None);
            return text;
        }, "never-answers");
        var app = await StartAsync(services => services.AddTtaWorkflow("hang", wait));
        try
        {
            var runs = app.App.Services.GetRequiredService<RunService>();
            var (_, completion) = await runs.StartAsync(new RunRequest("hang", JsonValue.Create("x")));
            await entered.Task.WaitAsync(TimeSpan.FromSeconds(30));

            if (awaited) await app.App.StopAsync();
            else app.App.Services.GetRequiredService<Microsoft.Extensions.Hosting.IHostApplicationLifetime>().StopApplication();
            var finished = await completion.WaitAsync(TimeSpan.FromSeconds(30));

            Assert.Equal(RunStatus.Failed, finished.Status);
            Assert.Equal(typeof(WorkflowGraphStoppedException).FullName, finished.Error?.ErrorType);
            Assert.Contains("hang", finished.Error?.Message);
        }
        finally
        {
            await app.DisposeAsync();
        }
    }

    private static async Task<(int Status, JsonNode? Body)> PostAsync(Host app, string json)
    {
        using var response = await app.Client.PostAsync("/runs", new StringContent(json, Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text));
    }

    /// <summary>An app of one's own that hosts the node's API (see <see cref="NodeApiServer.Builder"/>) and maps it without a token.</summary>
    private static async Task<Host> StartAsync(Action<IServiceCollection> workflows)
    {
        var builder = NodeApiServer.Builder(new NodeOptions { Runtime = new TtaRuntimeOptions { MetricsPort = 0, ServiceName = "tta-code-workflow-specs" } });
        workflows(builder.Services);

        var app = builder.Build();
        app.UseExceptionHandler();
        app.MapTtaNodeApi();
        try
        {
            await app.StartAsync();
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
        app.Services.GetRequiredService<WorkflowsLoadedReadiness>().MarkLoaded();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        return new Host(app, new HttpClient { BaseAddress = new Uri(address), Timeout = TimeSpan.FromSeconds(60) });
    }

    private sealed record Host(WebApplication App, HttpClient Client) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            Client.Dispose();
            await App.StopAsync();
            await App.DisposeAsync();
        }
    }
}
