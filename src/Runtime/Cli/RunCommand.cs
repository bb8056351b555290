using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using TtaActors.Runtime.Hosting;
using TtaActors.Runtime.Node;
using TtaActors.Runtime.Runs;
using TtaActors.Runtime.Workflows;

namespace TtaActors.Runtime.Cli;

/// <summary><c>tta run FILE|NAME --input JSON</c>: runs one workflow in this process and prints its output as JSON.</summary>
public static class RunCommand
{
    public static Command Create()
    {
        var workflow = new Argument<string>("workflow") { Description = "A workflow file (.yaml, .yml, .json) or the name of a registered workflow." };
        var input = new Option<string?>("--input") { Description = "The input as JSON (a JSON string needs its quotes: '\"text\"'); default null." };
        var persona = new Option<string?>("--persona") { Description = "Persona of the run, e.g. backend-engineer." };
        var chatMode = new Option<string?>("--chatmode") { Description = "Chat mode of the run, e.g. feature-implementation." };
        var session = new Option<string?>("--session") { Description = "Run inside this persona session (in-memory in a one-off run)." };
        var workflows = new Option<string?>("--workflows") { Description = "Directory of workflow files to look NAME up in (TTA_WORKFLOWS)." };
        var metricsPort = new Option<int?>("--metrics-port") { Description = "Serve Prometheus metrics on this port while the run lasts (default off)." };
        var command = new Command("run", "Run one workflow and print its output as JSON; a failure exits 1 with the primitive path and the error.")
        {
            workflow, input, persona, chatMode, session, workflows, metricsPort,
        };
        command.SetAction((parse, cancellation) => CommandErrors.Guard(() => RunAsync(
            parse.GetValue(workflow)!, parse.GetValue(input), parse.GetValue(persona), parse.GetValue(chatMode), parse.GetValue(session),
            parse.GetValue(workflows) ?? Environment.GetEnvironmentVariable("TTA_WORKFLOWS"), parse.GetValue(metricsPort), cancellation)));
        return command;
    }

    private static async Task<int> RunAsync(string workflow, string? inputJson, string? persona, string? chatMode, string? session,
        string? workflowsDirectory, int? metricsPort, CancellationToken cancellation)
    {
        JsonNode? input;
        try
        {
            input = inputJson is null ? null : JsonNode.Parse(inputJson);
        }
        catch (JsonException error)
        {
            throw new CommandUsageException($"--input is not valid JSON: {error.Message} (a JSON string needs quotes: --input '\"text\"').");
        }
        if (workflowsDirectory is not null && !Directory.Exists(workflowsDirectory))
            throw new CommandUsageException($"--workflows: directory '{workflowsDirectory}' does not exist.");

        var options = TtaRuntimeOptions.FromEnvironment() with { MetricsPort = 0 };
        if (metricsPort is { } port) options = options with { MetricsPort = TtaRuntimeOptions.ParsePort("--metrics-port", port.ToString()) };
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddTtaActors(options);
        builder.Services.AddTtaWorkflows();
        using var host = builder.Build();
        await host.StartAsync(cancellation);
        try
        {
            var registry = host.Services.GetRequiredService<WorkflowRegistry>();
            NodeHost.RegisterCodeWorkflows(registry);
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

            await Console.Error.WriteLineAsync($"Running '{name}'...");
            var stopwatch = Stopwatch.StartNew();
            RunRecord finished;
            try
            {
                var (_, completion) = await host.Services.GetRequiredService<RunService>()
                    .StartAsync(new RunRequest(name, input, session, persona, chatMode), cancellation);
                finished = await completion;
            }
            catch (Exception error) when (error is WorkflowNotFoundException or ArgumentException)
            {
                await Console.Error.WriteLineAsync($"tta: {error.Message}");
                return CommandErrors.Failure;
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
}
