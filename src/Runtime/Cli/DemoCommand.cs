using System.CommandLine;
using System.Text;
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
using TtaActors.Runtime.Node;
using TtaActors.Runtime.Runs;
using TtaActors.Runtime.Sessions;

namespace TtaActors.Runtime.Cli;

/// <summary>
/// <c>tta demo</c>: runs the bundled workflow on the embedded default (a single-node cluster, SQLite in the data
/// directory) inside a persona session that switches persona midway, and prints each run's output and span tree.
/// </summary>
public static class DemoCommand
{
    /// <summary>The <c>tta demo</c> command.</summary>
    public static Command Create()
    {
        var hold = new Option<bool>("--hold") { Description = "Keep serving metrics, the HTTP API and the run inspector (/ui) after the run, until Ctrl+C." };
        var http = new Option<string?>("--http")
        {
            Description = $"With --hold: address HOST:PORT of the HTTP API and the run inspector (TTA_HTTP; default {NodeOptions.DefaultHttp}; 0 = off). A non-loopback address requires TTA_API_TOKEN.",
        };
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
            hold, http, metricsPort, input,
        };
        command.SetAction((parse, cancellation) =>
            CommandErrors.Guard(() => ReportSessionErrors(() =>
                RunAsync(parse.GetValue(input)!, parse.GetValue(hold), parse.GetValue(metricsPort), parse.GetValue(http), cancellation))));
        return command;
    }

    private static async Task<int> RunAsync(string input, bool hold, int? metricsPort, string? http, CancellationToken cancellation)
    {
        var options = TtaRuntimeOptions.FromEnvironment();
        if (metricsPort is { } port) options = options with { MetricsPort = TtaRuntimeOptions.ParsePort("--metrics-port", port.ToString()) };
        var cluster = TtaClusterOptions.FromEnvironment();
        var node = hold ? InspectorNode(http, metricsPort, cluster) : null;

        var spans = new SpanCollector();
        using var host = node is null ? DemoHost(options, cluster, spans) : NodeHost.Build(node, HoconLayers.Build(node, Environment.GetEnvironmentVariable),
            tracing => tracing.AddProcessor(spans), services => services.AddDemoWorkflow());
        try
        {
            await host.StartAsync(cancellation);
        }
        catch (Exception error) when (node is not null && NodeHost.Explain(error, node) is TtaConfigurationException explained)
        {
            throw explained;
        }
        // Only the node's host has a run service: there the demo's runs are kept for GET /runs and the inspector.
        var runs = host.Services.GetService<RunService>();

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
            var result = await RunInSessionAsync(sessions, runs, graph, sessionId, input, spans, cancellation);
            succeeded &= result.Succeeded;
        }

        var session = await sessions.GetAsync(sessionId, cancellation);
        Console.WriteLine();
        Console.WriteLine($"Session {session.Id}: persona {session.Persona} ({session.ChatMode}), runs {session.RunsFinished}/{session.RunsStarted}, " +
                          $"tokens {session.Tokens}, cost ${session.CostUsd:0.######}");
        foreach (var change in session.Switches) Console.WriteLine($"  switch {change.From} -> {change.To} ({change.ChatMode}) at {change.At:O}");

        if (options.MetricsPort != 0) Console.WriteLine($"Metrics: {MetricsEndpoint.Url(options.MetricsPort)}");
        if (node is not null) Console.WriteLine($"Run inspector: {node.Http.Url}/ui (API at {node.Http.Url}{(node.Http.IsLoopback ? "" : ", bearer token required")})");
        if (hold && (options.MetricsPort != 0 || node is not null))
        {
            Console.WriteLine(node is null ? "Serving metrics until Ctrl+C."
                : options.MetricsPort == 0 ? "Serving the run inspector until Ctrl+C."
                : "Serving metrics and the run inspector until Ctrl+C.");
            try
            {
                await Task.Delay(Timeout.Infinite, cancellation);
            }
            catch (OperationCanceledException)
            {
            }
        }

        await host.StopAsync(CancellationToken.None);
        return succeeded ? 0 : 1;
    }

    /// <summary>The demo's own host: the actor system and persona sessions, with metrics, and no HTTP listener.</summary>
    private static IHost DemoHost(TtaRuntimeOptions options, TtaClusterOptions cluster, SpanCollector spans)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddTtaActors(options, tracing => tracing.AddProcessor(spans),
            akka => akka.WithTtaCluster(cluster).WithPersonaSessions(cluster));
        builder.Services.AddPersonaSessions();
        return builder.Build();
    }

    /// <summary>
    /// The node options of <c>--hold</c>'s HTTP API and inspector (the node's own resolution of <c>--http</c> /
    /// <c>TTA_HTTP</c> and the other <c>TTA_*</c> settings), or null when <c>--http 0</c> / <c>TTA_HTTP=0</c> turns it off.
    /// The remoting port stays the demo's (TTA_PORT, or any free one), so a held demo does not take a node's default port.
    /// </summary>
    private static NodeOptions? InspectorNode(string? http, int? metricsPort, TtaClusterOptions cluster)
    {
        var bind = http is { Length: > 0 } ? http : Environment.GetEnvironmentVariable("TTA_HTTP");
        if (bind?.Trim() == "0") return null;
        var key = http is { Length: > 0 } ? "--http" : "TTA_HTTP";
        var env = (Func<string, string?>)(name => name == "TTA_HTTP" ? null : Environment.GetEnvironmentVariable(name));
        var node = NodeCommand.Resolve(env, metricsPort: metricsPort);
        if (bind is { Length: > 0 }) node = node with { Http = NodeOptions.ParseHttp(key, bind) };
        return (node with { Port = cluster.Port }).Validate();
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
    private static async Task<WorkflowRunResult> RunInSessionAsync(IPersonaSessions sessions, RunService? runs, WorkflowGraph graph,
        string sessionId, string input, SpanCollector spans, CancellationToken cancellation)
    {
        var runId = RunId.New();
        var context = await sessions.BeginRunAsync(sessionId, graph.Name, runId, DemoWorkflow.Context(), cancellation);
        Console.WriteLine();
        Console.WriteLine($"Running '{graph.Name}' as {context.Persona} ({context.ChatMode})");
        var started = new RunRecord(runId.ToString(), graph.Name, RunStatus.Running, null, null, null, sessionId, context.Persona,
            context.ChatMode, DateTimeOffset.UtcNow, null);
        runs?.Started(started, Encoding.UTF8.GetByteCount(input));
        var result = await graph.RunAsync(input, context, new() { Cancellation = cancellation, RunId = runId });
        runs?.Finished(started, result);
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
