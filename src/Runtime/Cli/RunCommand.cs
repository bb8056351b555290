using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using TtaActors.Runtime.Cluster;
using TtaActors.Runtime.Demo;
using TtaActors.Runtime.Hosting;
using TtaActors.Runtime.Node;
using TtaActors.Runtime.Runs;
using TtaActors.Runtime.Sessions;
using TtaActors.Runtime.Workflows;

namespace TtaActors.Runtime.Cli;

/// <summary>
/// <c>tta run FILE|NAME --input JSON</c>: runs one workflow in this process (or, with <c>--node</c>, on a running node) and
/// prints its output as JSON; <c>--follow</c> prints the run's events first, one line each, as they happen.
/// </summary>
public static class RunCommand
{
    /// <summary>The <c>tta run</c> command.</summary>
    public static Command Create()
    {
        var workflow = new Argument<string>("workflow") { Description = "A workflow file (.yaml, .yml, .json) or the name of a registered workflow." };
        var input = new Option<string?>("--input") { Description = "The input as JSON (a JSON string needs its quotes: '\"text\"'); default null." };
        var persona = new Option<string?>("--persona") { Description = "Persona of the run, e.g. backend-engineer." };
        var chatMode = new Option<string?>("--chatmode") { Description = "Chat mode of the run, e.g. feature-implementation." };
        var session = new Option<string?>("--session")
        {
            Description = "Run inside this persona session, kept in the SQLite journal of the data directory (--data), like a node's sessions.",
        };
        var data = new Option<string?>("--data")
        {
            Description = "Data directory of the run's persona sessions (TTA_DATA; default .tta in the working directory). A run in a session takes its lock, as a node does.",
        };
        var workflows = new Option<string?>("--workflows") { Description = "Directory of workflow files to look NAME up in (TTA_WORKFLOWS)." };
        var metricsPort = new Option<int?>("--metrics-port") { Description = "Serve Prometheus metrics on this port while the run lasts (default off)." };
        var follow = new Option<bool>("--follow", "-f")
        {
            Description = "Print the run's events as they happen (AG-UI types: RUN_STARTED, STEP_STARTED, STEP_FINISHED, RUN_FINISHED, RUN_ERROR, ...), then the output.",
        };
        var node = new Option<string?>("--node")
        {
            Description = "Run NAME on this running node (e.g. http://127.0.0.1:8080) instead of in this process; needed for durable workflows. TTA_API_TOKEN is sent as bearer token.",
        };
        var command = new Command("run", "Run one workflow and print its output as JSON; a failure exits 1 with the primitive path and the error.")
        {
            workflow, input, persona, chatMode, session, data, workflows, metricsPort, follow, node,
        };
        command.SetAction((parse, cancellation) => CommandErrors.Guard(() => parse.GetValue(node) is { } nodeUrl
            ? RunOnNodeAsync(nodeUrl, parse.GetValue(workflow)!, parse.GetValue(input), parse.GetValue(persona), parse.GetValue(chatMode),
                parse.GetValue(session), parse.GetValue(follow), cancellation)
            : RunAsync(parse.GetValue(workflow)!, parse.GetValue(input), parse.GetValue(persona), parse.GetValue(chatMode), parse.GetValue(session),
                parse.GetValue(data), parse.GetValue(workflows) ?? Environment.GetEnvironmentVariable("TTA_WORKFLOWS"), parse.GetValue(metricsPort),
                parse.GetValue(follow), cancellation)));
        return command;
    }

    private static JsonNode? ParseInput(string? inputJson)
    {
        try
        {
            return inputJson is null ? null : JsonNode.Parse(inputJson);
        }
        catch (JsonException error)
        {
            throw new CommandUsageException($"--input is not valid JSON: {error.Message} (a JSON string needs quotes: --input '\"text\"').");
        }
    }

    /// <summary>
    /// The run's own single-node cluster: the persona sessions of every node (sharded, persistent), journaled in SQLite in
    /// the data directory. It never joins another cluster (no seeds, a free remoting port) and never writes to a cluster's
    /// shared PostgreSQL journal: a session held there belongs to the nodes, and a run in it goes through <c>--node</c>.
    /// </summary>
    internal static TtaClusterOptions RunCluster(string? dataDirectory, Func<string, string?> read)
    {
        var fromEnvironment = TtaClusterOptions.FromEnvironment(read);
        return new TtaClusterOptions
        {
            DataDirectory = dataDirectory is { Length: > 0 } ? Path.GetFullPath(dataDirectory) : fromEnvironment.DataDirectory,
            SqliteSynchronous = fromEnvironment.SqliteSynchronous,
        };
    }

    private static async Task<int> RunAsync(string workflow, string? inputJson, string? persona, string? chatMode, string? session,
        string? dataDirectory, string? workflowsDirectory, int? metricsPort, bool follow, CancellationToken cancellation)
    {
        var input = ParseInput(inputJson);
        if (workflowsDirectory is not null && !Directory.Exists(workflowsDirectory))
            throw new CommandUsageException($"--workflows: directory '{workflowsDirectory}' does not exist.");

        var options = TtaRuntimeOptions.FromEnvironment() with { MetricsPort = 0 };
        if (metricsPort is { } port) options = options with { MetricsPort = TtaRuntimeOptions.ParsePort("--metrics-port", port.ToString()) };
        var cluster = RunCluster(dataDirectory, Environment.GetEnvironmentVariable);
        // A session is a persistent entity with one writer: a run in one holds the data directory as a node does, so it
        // never writes a session that a node (or another run) on the same directory holds.
        using var dataLock = session is null ? null : LockData(cluster.DataDirectory);
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        if (session is null) builder.Services.AddTtaActors(options);
        else
        {
            // Only a run in a session starts the cluster node and its journal (about a second and a half); others need neither.
            builder.Services.AddTtaActors(options, akka: akka => akka.WithTtaCluster(cluster).WithPersonaSessions(cluster));
            builder.Services.AddPersonaSessions();
        }
        builder.Services.AddTtaWorkflows();
        builder.Services.AddDemoWorkflow();
        using var host = builder.Build();
        await host.StartAsync(cancellation);
        try
        {
            var registry = host.Services.GetRequiredService<WorkflowRegistry>();
            string name;
            if (WorkflowRegistry.IsWorkflowFile(workflow) || File.Exists(workflow))
            {
                try
                {
                    name = registry.LoadFile(workflow).Name;
                }
                catch (WorkflowFileException invalid)
                {
                    await Console.Error.WriteLineAsync($"tta: {invalid.Message}");
                    return CommandErrors.Failure;
                }
            }
            else
            {
                if (workflowsDirectory is not null) registry.LoadDirectory(workflowsDirectory);
                name = workflow;
            }

            if (registry.TryGet(name, out var registered) && registered.Durable is not null)
            {
                await Console.Error.WriteLineAsync($"tta: workflow '{name}' is durable (durability: steps): its steps are journaled by a node. Start " +
                    $"'tta node --workflows DIR' with it and run it there: tta run {name} --node {SessionsCommand.DefaultNodeUrl}{(follow ? " --follow" : "")}");
                return CommandErrors.Failure;
            }
            await Console.Error.WriteLineAsync($"Running '{name}'...");
            var stopwatch = Stopwatch.StartNew();
            RunRecord finished;
            using var events = follow ? new SpanEventFollower() : null;
            Task printing = Task.CompletedTask;
            try
            {
                var (started, completion) = await host.Services.GetRequiredService<RunService>()
                    .StartAsync(new RunRequest(name, input, session, persona, chatMode), cancellation);
                if (events is not null) printing = events.PrintAsync(started.RunId, session ?? started.RunId, Console.Out);
                finished = await completion;
            }
            catch (Exception error) when (error is WorkflowNotFoundException or ArgumentException)
            {
                await Console.Error.WriteLineAsync($"tta: {error.Message}");
                return CommandErrors.Failure;
            }
            finally
            {
                events?.Complete();
                await printing;
            }

            if (finished.Error is { } failure)
            {
                await Console.Error.WriteLineAsync($"tta: run {finished.RunId} failed at {failure.PrimitivePath}: {failure.ErrorType}: {failure.Message}");
                return CommandErrors.Failure;
            }
            Console.WriteLine(JsonData.Serialize(finished.Output, indented: true));
            await Console.Error.WriteLineAsync($"Succeeded in {stopwatch.ElapsedMilliseconds} ms (run {finished.RunId}, trace {finished.TraceId ?? "not traced"}).");
            return CommandErrors.Success;
        }
        finally
        {
            await host.StopAsync(CancellationToken.None);
        }
    }

    private static IDisposable LockData(string directory)
    {
        try
        {
            Directory.CreateDirectory(directory);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            throw new TtaConfigurationException($"--data: cannot create data directory '{directory}': {error.Message}", error);
        }
        return NodeStartupGuards.LockDataDirectory(directory);
    }

    /// <summary>
    /// Starts the run on a node (<c>POST /runs</c>); with <paramref name="follow"/> prints the node's event stream of the run
    /// (for a durable run, its journaled events), then its output from <c>GET /runs/{id}</c>.
    /// </summary>
    private static async Task<int> RunOnNodeAsync(string nodeUrl, string workflow, string? inputJson, string? persona, string? chatMode,
        string? session, bool follow, CancellationToken cancellation)
    {
        var input = ParseInput(inputJson);
        using var http = RunsCommand.NodeClient(nodeUrl);
        var body = new JsonObject
        {
            ["workflow"] = workflow, ["input"] = input, ["persona"] = persona, ["chatmode"] = chatMode, ["session"] = session, ["wait"] = !follow,
        };
        HttpResponseMessage response;
        try
        {
            response = await http.PostAsync("/runs", new StringContent(body.ToJsonString(), System.Text.Encoding.UTF8, "application/json"), cancellation);
        }
        catch (HttpRequestException error)
        {
            await Console.Error.WriteLineAsync($"tta: cannot reach the node at {http.BaseAddress}: {error.Message}. Is 'tta node' running there? (--node)");
            return CommandErrors.Failure;
        }
        JsonNode? run;
        using (response)
        {
            if (!response.IsSuccessStatusCode)
            {
                await Console.Error.WriteLineAsync($"tta: {(int)response.StatusCode} {await RunsCommand.ProblemDetailAsync(response, cancellation)}");
                return CommandErrors.Failure;
            }
            run = JsonNode.Parse(await response.Content.ReadAsStringAsync(cancellation));
        }
        var runId = (string?)run?["runId"] ?? throw new InvalidOperationException("The node's answer to POST /runs has no runId.");
        await Console.Error.WriteLineAsync($"Started '{workflow}' on {http.BaseAddress} (run {runId}).");
        if (follow)
        {
            if (await RunsCommand.FollowAsync(http, runId, 0, cancellation) is null) return CommandErrors.Failure;
            using var finished = await http.GetAsync($"/runs/{runId}", cancellation);
            if (!finished.IsSuccessStatusCode)
            {
                await Console.Error.WriteLineAsync($"tta: {(int)finished.StatusCode} {await RunsCommand.ProblemDetailAsync(finished, cancellation)}");
                return CommandErrors.Failure;
            }
            run = JsonNode.Parse(await finished.Content.ReadAsStringAsync(cancellation));
        }
        if ((string?)run?["status"] != "succeeded")
        {
            var error = run?["error"];
            await Console.Error.WriteLineAsync(error is null
                ? $"tta: run {runId} is {run?["status"]}."
                : $"tta: run {runId} failed at {error["primitivePath"]}: {error["type"]}: {error["message"]}");
            return CommandErrors.Failure;
        }
        Console.WriteLine(JsonData.Serialize(run!["output"], indented: true));
        await Console.Error.WriteLineAsync($"Succeeded (run {runId}, trace {(string?)run["traceId"] ?? "not traced"}).");
        return CommandErrors.Success;
    }
}
