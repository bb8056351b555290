using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using TtaActors.Runtime.Demo;
using TtaActors.Runtime.Hosting;
using TtaActors.Runtime.Node;
using TtaActors.Telemetry.Export;

namespace TtaActors.Runtime.Cli;

/// <summary><c>tta node</c>: runs a node (HTTP API, Prometheus endpoint, persona sessions) until SIGTERM or Ctrl+C.</summary>
public static class NodeCommand
{
    /// <summary>The <c>tta node</c> command.</summary>
    public static Command Create()
    {
        var host = new Option<string?>("--host") { Description = "Remoting host other nodes reach this one at (TTA_HOST; default 127.0.0.1)." };
        var port = new Option<int?>("--port") { Description = $"Remoting port (TTA_PORT; default {NodeOptions.DefaultRemotingPort})." };
        var http = new Option<string?>("--http") { Description = $"HTTP API address HOST:PORT (TTA_HTTP; default {NodeOptions.DefaultHttp}). A non-loopback address requires TTA_API_TOKEN." };
        var metricsPort = new Option<int?>("--metrics-port") { Description = $"Prometheus endpoint port (TTA_METRICS_PORT; default {TtaRuntimeOptions.DefaultMetricsPort}; 0 = off)." };
        var metricsHost = new Option<string?>("--metrics-host") { Description = $"Address the Prometheus endpoint binds (TTA_METRICS_HOST; default {TtaRuntimeOptions.DefaultMetricsHost}; 0.0.0.0 = every interface)." };
        var seed = new Option<string[]>("--seed") { Description = "Seed node akka.tcp://tta@HOST:PORT, repeatable (TTA_SEED_NODES, comma-separated; none = join itself).", AllowMultipleArgumentsPerToken = false };
        var dbProvider = new Option<string?>("--db-provider") { Description = "Persistence: sqlite or postgres (TTA_DB_PROVIDER; default sqlite)." };
        var db = new Option<string?>("--db") { Description = "Database connection string (TTA_DB; SQLite default: a file in --data)." };
        var data = new Option<string?>("--data") { Description = "Data directory for SQLite and spool files (TTA_DATA; default ./.tta)." };
        var workflows = new Option<string?>("--workflows") { Description = "Directory of workflow files to load (TTA_WORKFLOWS)." };
        var serviceName = new Option<string?>("--service-name") { Description = "Workspace / service.name of the node's telemetry (TTA_SERVICE_NAME, OTEL_SERVICE_NAME)." };
        var config = new Option<string?>("--config") { Description = "HOCON file layered over the shipped configuration (TTA_CONFIG)." };
        var printConfig = new Option<bool>("--print-config") { Description = "Print the effective configuration (secrets masked) and exit." };

        var command = new Command("node", "Run a node: HTTP API, Prometheus metrics, persona sessions and workflow files.")
        {
            host, port, http, metricsPort, metricsHost, seed, dbProvider, db, data, workflows, serviceName, config, printConfig,
        };
        command.SetAction((parse, cancellation) => CommandErrors.Guard(async () =>
        {
            var env = (Func<string, string?>)Environment.GetEnvironmentVariable;
            var options = Resolve(env,
                parse.GetValue(host), parse.GetValue(port), parse.GetValue(http), parse.GetValue(metricsPort), parse.GetValue(seed),
                parse.GetValue(dbProvider), parse.GetValue(db), parse.GetValue(data), parse.GetValue(workflows), parse.GetValue(serviceName),
                parse.GetValue(config), parse.GetValue(metricsHost));
            var hocon = HoconLayers.Build(options, env);
            if (parse.GetValue(printConfig))
            {
                Console.Write(hocon.Render());
                return CommandErrors.Success;
            }
            return await RunAsync(options, hocon, cancellation);
        }));
        return command;
    }

    /// <summary>Options win over their <c>TTA_*</c> twins, which win over defaults; errors name the option or variable.</summary>
    public static NodeOptions Resolve(Func<string, string?> env, string? host = null, int? port = null, string? http = null,
        int? metricsPort = null, string[]? seeds = null, string? dbProvider = null, string? db = null, string? data = null,
        string? workflows = null, string? serviceName = null, string? config = null, string? metricsHost = null)
    {
        var runtime = TtaRuntimeOptions.FromEnvironment(env);
        if (metricsPort is { } mp) runtime = runtime with { MetricsPort = TtaRuntimeOptions.ParsePort("--metrics-port", mp.ToString()) };
        if (NonEmpty(metricsHost) is { } mh) runtime = runtime with { MetricsHost = TtaRuntimeOptions.ParseHost("--metrics-host", mh) };
        if (NonEmpty(serviceName) is { } name) runtime = runtime with { ServiceName = name };

        var options = new NodeOptions { Runtime = runtime };
        if (Pick(host, "--host", env, "TTA_HOST") is { } h) options = options with { Host = h.Value };
        if (port is { } p) options = options with { Port = TtaRuntimeOptions.ParsePort("--port", p.ToString()) };
        else if (NonEmpty(env("TTA_PORT")) is { } envPort) options = options with { Port = TtaRuntimeOptions.ParsePort("TTA_PORT", envPort) };
        if (Pick(http, "--http", env, "TTA_HTTP") is { } bind) options = options with { Http = NodeOptions.ParseHttp(bind.Key, bind.Value) };
        if (seeds is { Length: > 0 }) options = options with { Seeds = seeds.Select(s => NodeOptions.ParseSeed("--seed", s)).ToList() };
        else if (NonEmpty(env("TTA_SEED_NODES")) is { } envSeeds)
            options = options with
            {
                Seeds = envSeeds.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                    .Select(s => NodeOptions.ParseSeed("TTA_SEED_NODES", s)).ToList(),
            };
        if (Pick(dbProvider, "--db-provider", env, "TTA_DB_PROVIDER") is { } provider)
            options = options with { DbProvider = NodeOptions.ParseProvider(provider.Key, provider.Value) };
        if (Pick(db, "--db", env, "TTA_DB") is { } connection) options = options with { Db = connection.Value };
        if ((Pick(data, "--data", env, "TTA_DATA") ?? Pick(null, "--data", env, "TTA_DATA_DIR")) is { } dir) options = options with { DataDirectory = Path.GetFullPath(dir.Value) };
        if (Pick(workflows, "--workflows", env, "TTA_WORKFLOWS") is { } flows) options = options with { WorkflowsDirectory = Path.GetFullPath(flows.Value) };
        if (Pick(config, "--config", env, "TTA_CONFIG") is { } file) options = options with { ConfigFile = Path.GetFullPath(file.Value) };
        if (NonEmpty(env("TTA_API_TOKEN")) is { } token) options = options with { ApiToken = token };
        if (NonEmpty(env("TTA_MAX_BODY_BYTES")) is { } max) options = options with { MaxBodyBytes = NodeOptions.ParsePositive("TTA_MAX_BODY_BYTES", max) };
        var store = options.RunStore;
        if (NonEmpty(env("TTA_RUN_STORE_MAX_BYTES")) is { } storeBytes) store = store with { MaxBytes = NodeOptions.ParsePositive("TTA_RUN_STORE_MAX_BYTES", storeBytes) };
        if (NonEmpty(env("TTA_RUN_STORE_MAX_RUNS")) is { } storeRuns) store = store with { MaxRuns = TtaRuntimeOptions.ParseCount("TTA_RUN_STORE_MAX_RUNS", storeRuns) };
        if (NonEmpty(env("TTA_RUN_OUTPUT_MAX_BYTES")) is { } outputBytes) store = store with { MaxOutputBytes = NodeOptions.ParsePositive("TTA_RUN_OUTPUT_MAX_BYTES", outputBytes) };
        options = options with { RunStore = store };
        if (NonEmpty(env("TTA_UI_SPAN_STORE_MAX_BYTES")) is { } spanBytes)
            options = options with { SpanStore = new() { MaxBytes = NodeOptions.ParsePositive("TTA_UI_SPAN_STORE_MAX_BYTES", spanBytes) } };
        if (NonEmpty(env("TTA_RUN_TIMEOUT")) is { } timeout)
            options = options with { RunTimeoutSeconds = (int)Math.Min(int.MaxValue, NodeOptions.ParsePositive("TTA_RUN_TIMEOUT", timeout)) };
        return options.Validate();
    }

    private static async Task<int> RunAsync(NodeOptions options, HoconLayers hocon, CancellationToken cancellation)
    {
        try
        {
            Directory.CreateDirectory(options.DataDirectory);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            throw new TtaConfigurationException($"--data: cannot create data directory '{options.DataDirectory}': {error.Message}", error);
        }

        using var dataLock = NodeStartupGuards.LockDataDirectory(options.DataDirectory);
        NodeStartupGuards.EnsureRemotingPortFree(options);
        await using var app = NodeHost.Build(options, hocon, configure: services => services.AddDemoWorkflow());
        try
        {
            await app.StartAsync(cancellation);
        }
        catch (Exception error) when (NodeHost.Explain(error, options) is TtaConfigurationException explained)
        {
            throw explained;
        }

        var loaded = app.Services.GetRequiredService<NodeWorkflows>().Loaded;
        var journal = options.DbProvider == DatabaseProvider.Sqlite ? $"SQLite in {options.DataDirectory}" : "PostgreSQL";
        var membership = options.Seeds.Count == 0 ? "joins itself" : $"seeds {string.Join(", ", options.Seeds)}";
        Console.WriteLine($"tta node: service {options.Runtime.ServiceName}, cluster member akka.tcp://tta@{options.Host}:{options.Port} ({membership}), " +
                          $"persona sessions sharded, journal {journal}");
        foreach (var workflow in loaded)
        {
            if (workflow.Valid) Console.WriteLine($"tta node: workflow '{workflow.Name}' loaded from {workflow.Source}");
            else
            {
                Console.WriteLine($"tta node: workflow file {workflow.Source} is invalid and was not loaded:");
                foreach (var problem in workflow.Problems) Console.WriteLine($"  {problem}");
            }
        }
        if (options.Runtime.MetricsPort != 0) Console.WriteLine($"tta node: metrics at {MetricsEndpoint.Url(options.Runtime.MetricsHost, options.Runtime.MetricsPort)}");
        Console.WriteLine($"tta node ready: API at {options.Http.Url}{(options.Http.IsLoopback ? "" : " (bearer token required)")}");

        await app.WaitForShutdownAsync(CancellationToken.None);
        var flushed = NodeHost.FlushTelemetry(app.Services);
        // The pipeline's shutdown (in coordinated shutdown) counted what it delivered and what it lost, per exporter.
        var report = app.Services.GetService<TelemetryPipeline>()?.ShutdownReport;
        var summary = report is null || report.Exporters.Count == 0
            ? (flushed ? "telemetry flushed" : "telemetry could not be flushed")
            : "telemetry " + string.Join("; ", report.Exporters.Select(e => $"{e.Name}: {e.Summary()}"));
        Console.WriteLine($"tta node stopped; {summary}.");
        return flushed ? CommandErrors.Success : CommandErrors.Failure;
    }

    private static KeyValuePair<string, string>? Pick(string? option, string optionName, Func<string, string?> env, string variable)
    {
        if (NonEmpty(option) is { } value) return new(optionName, value);
        if (NonEmpty(env(variable)) is { } fromEnv) return new(variable, fromEnv);
        return null;
    }

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}
