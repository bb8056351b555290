using System.CommandLine;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Trace;
using TtaActors.Actors.Execution;
using TtaActors.Actors.Sessions;
using TtaActors.Runtime.Cluster;
using TtaActors.Runtime.Demo;
using TtaActors.Runtime.Hosting;
using TtaActors.Runtime.Sessions;

namespace TtaActors.Runtime.Cli;

/// <summary>
/// <c>tta demo</c>: runs the bundled workflow on the embedded default (a single-node cluster, SQLite in the data
/// directory) inside a persona session that switches persona midway, and prints each run's output and span tree.
/// </summary>
public static class DemoCommand
{
    public static Command Create()
    {
        var hold = new Option<bool>("--hold") { Description = "Keep serving metrics after the run, until Ctrl+C." };
        var metricsPort = new Option<int?>("--metrics-port")
        {
            Description = $"Port of the Prometheus endpoint on loopback (default {TtaRuntimeOptions.DefaultMetricsPort}, or TTA_METRICS_PORT; 0 = off).",
        };
        var input = new Option<string>("--input")
        {
            Description = "The request to run, as \"kind: area: summary\" (kind feature or bugfix).",
            DefaultValueFactory = _ => DemoWorkflow.DefaultInput,
        };
        var command = new Command("demo",
            "Run the bundled workflow (Sequential, Router, Retry, Parallel) in a persona session that switches persona midway, and print its span trees.")
        {
            hold, metricsPort, input,
        };
        command.SetAction((parse, cancellation) =>
            CommandErrors.Guard(() => ReportSessionErrors(() => RunAsync(parse.GetValue(input)!, parse.GetValue(hold), parse.GetValue(metricsPort), cancellation))));
        return command;
    }

    private static async Task<int> RunAsync(string input, bool hold, int? metricsPort, CancellationToken cancellation)
    {
        var options = TtaRuntimeOptions.FromEnvironment();
        if (metricsPort is { } port) options = options with { MetricsPort = TtaRuntimeOptions.ParsePort("--metrics-port", port.ToString()) };
        var cluster = TtaClusterOptions.FromEnvironment();

        var spans = new SpanCollector();
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddTtaActors(options, tracing => tracing.AddProcessor(spans),
            akka => akka.WithTtaCluster(cluster).WithPersonaSessions(cluster));
        builder.Services.AddPersonaSessions();
        using var host = builder.Build();
        await host.StartAsync(cancellation);

        // Ctrl+C and SIGTERM stop the host; the run and --hold end with it.
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(
            cancellation, host.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping);
        cancellation = stopping.Token;

        var runtime = host.Services.GetRequiredService<TtaRuntime>();
        var sessions = host.Services.GetRequiredService<IPersonaSessions>();
        var graph = runtime.Materialize(DemoWorkflow.Build(), DemoWorkflow.Name);
        var sessionId = $"demo-{DateTime.UtcNow:yyyyMMdd-HHmmss}-{Guid.NewGuid().ToString("N")[..6]}";
        Console.WriteLine($"Persona session {sessionId} in workspace {options.ServiceName} (journal: {JournalDescription(cluster)})");
        Console.WriteLine($"Input: {input}");

        var succeeded = true;
        foreach (var (persona, chatMode) in DemoPersonas)
        {
            await sessions.SwitchPersonaAsync(sessionId, persona, chatMode, cancellation);
            var result = await RunInSessionAsync(sessions, graph, sessionId, input, spans, cancellation);
            succeeded &= result.Succeeded;
        }

        var session = await sessions.GetAsync(sessionId, cancellation);
        Console.WriteLine();
        Console.WriteLine($"Session {session.Id}: persona {session.Persona} ({session.ChatMode}), runs {session.RunsFinished}/{session.RunsStarted}, " +
                          $"tokens {session.Tokens}, cost ${session.CostUsd:0.######}");
        foreach (var change in session.Switches) Console.WriteLine($"  switch {change.From} -> {change.To} ({change.ChatMode}) at {change.At:O}");

        if (options.MetricsPort != 0)
        {
            Console.WriteLine($"Metrics: {MetricsEndpoint.Url(options.MetricsPort)}");
            if (hold)
            {
                Console.WriteLine("Serving metrics until Ctrl+C.");
                try
                {
                    await Task.Delay(Timeout.Infinite, cancellation);
                }
                catch (OperationCanceledException)
                {
                }
            }
        }

        await host.StopAsync(CancellationToken.None);
        return succeeded ? 0 : 1;
    }

    /// <summary>A session that refuses or does not answer (journal down) ends the demo with its message, not a stack trace.</summary>
    private static async Task<int> ReportSessionErrors(Func<Task<int>> demo)
    {
        try
        {
            return await demo();
        }
        catch (Exception error) when (error is PersonaSessionRefusedException or TimeoutException)
        {
            await Console.Error.WriteLineAsync($"tta demo: {error.Message}");
            return 1;
        }
    }

    /// <summary>The session's personas, in order: the demo switches from the first to the second midway.</summary>
    private static readonly (string Persona, string ChatMode)[] DemoPersonas =
    [
        ("backend-engineer", "feature-implementation"),
        ("frontend-dev", "review"),
    ];

    /// <summary>
    /// One run recorded in the session: the session stamps its persona, chat mode and id into the run's context, and
    /// is told the outcome and the tokens the run's LLM spans report.
    /// </summary>
    private static async Task<WorkflowRunResult> RunInSessionAsync(IPersonaSessions sessions, WorkflowGraph graph, string sessionId,
        string input, SpanCollector spans, CancellationToken cancellation)
    {
        var runId = RunId.New();
        var context = await sessions.BeginRunAsync(sessionId, graph.Name, runId, DemoWorkflow.Context(), cancellation);
        Console.WriteLine();
        Console.WriteLine($"Running '{graph.Name}' as {context.Persona} ({context.ChatMode})");
        var result = await graph.RunAsync(input, context, new() { Cancellation = cancellation, RunId = runId });
        var traceSpans = result.TraceId is null ? [] : spans.ForTrace(result.TraceId);
        await sessions.CompleteRunAsync(sessionId, new SessionRunOutcome(runId, result.Succeeded,
            (long)SumTag(traceSpans, "gen_ai.usage.input_tokens"), (long)SumTag(traceSpans, "gen_ai.usage.output_tokens"),
            (decimal)SumTag(traceSpans, "gen_ai.usage.cost")), cancellation);

        if (result.Failure is { } failure) Console.WriteLine($"Failed at {failure.PrimitivePath}: {failure.ErrorType}: {failure.Message}");
        else Console.WriteLine($"Output: {JsonSerializer.Serialize(result.Output)}");
        Console.WriteLine($"Span tree (trace {result.TraceId}):");
        Console.Write(SpanTreePrinter.Render(traceSpans));
        Console.WriteLine($"Routing history: {string.Join(", ", result.Context.RoutingHistory.Select(r => $"{r.Route} (default: {r.UsedDefault})"))}");
        return result;
    }

    private static double SumTag(IReadOnlyList<System.Diagnostics.Activity> spans, string tag) =>
        spans.Sum(span => span.GetTagItem(tag) switch
        {
            long value => value,
            int value => value,
            double value => value,
            decimal value => (double)value,
            _ => 0d,
        });

    private static string JournalDescription(TtaClusterOptions cluster) => cluster.Journal == JournalProvider.Sqlite
        ? $"SQLite in {cluster.DataDirectory}"
        : "PostgreSQL";
}
