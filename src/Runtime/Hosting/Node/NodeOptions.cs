using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using TtaActors.Runtime.Hosting;

namespace TtaActors.Runtime.Node;

/// <summary>Where the node journals persona sessions and durable runs.</summary>
public enum DatabaseProvider
{
    /// <summary>A SQLite file in the node's data directory (the default; one node).</summary>
    Sqlite,
    /// <summary>A PostgreSQL database (clusters).</summary>
    Postgres,
}

/// <summary>An address the node's HTTP API listens on.</summary>
public sealed record HttpBinding(string Host, IPAddress Address, int Port)
{
    /// <summary>True for a loopback address.</summary>
    public bool IsLoopback => IPAddress.IsLoopback(Address);

    /// <summary>The base URL, e.g. <c>http://127.0.0.1:8080</c>.</summary>
    public string Url => $"http://{(Address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{Address}]" : Address.ToString())}:{Port}";

    /// <summary><c>HOST:PORT</c> as given.</summary>
    public override string ToString() => $"{Host}:{Port}";
}

/// <summary>
/// The settings of <c>tta node</c>. Every option has a <c>TTA_*</c> environment twin; a command-line option wins
/// over its environment variable, which wins over the default.
/// </summary>
public sealed partial record NodeOptions
{
    /// <summary>The remoting port when none is given.</summary>
    public const int DefaultRemotingPort = 8110;
    /// <summary>The HTTP binding when none is given: loopback only.</summary>
    public const string DefaultHttp = "127.0.0.1:8080";
    /// <summary>The largest request body when none is set: 1 MiB.</summary>
    public const long DefaultMaxBodyBytes = 1024 * 1024;
    /// <summary>The run deadline when none is set: 300 seconds.</summary>
    public const int DefaultRunTimeoutSeconds = 300;

    /// <summary><c>--host</c> / <c>TTA_HOST</c>: the remoting host other nodes reach this one at.</summary>
    public string Host { get; init; } = "127.0.0.1";

    /// <summary><c>--port</c> / <c>TTA_PORT</c>: the remoting port.</summary>
    public int Port { get; init; } = DefaultRemotingPort;

    /// <summary><c>--http</c> / <c>TTA_HTTP</c>: where the HTTP API listens; loopback unless <c>TTA_API_TOKEN</c> is set.</summary>
    public HttpBinding Http { get; init; } = ParseHttp("--http", DefaultHttp);

    /// <summary><c>--seed</c> / <c>TTA_SEED_NODES</c> (comma-separated): seed nodes; none = the node joins itself.</summary>
    public IReadOnlyList<string> Seeds { get; init; } = [];

    /// <summary><c>--db-provider</c> / <c>TTA_DB_PROVIDER</c>.</summary>
    public DatabaseProvider DbProvider { get; init; } = DatabaseProvider.Sqlite;

    /// <summary><c>--db</c> / <c>TTA_DB</c>: the connection string; SQLite defaults to a file in the data directory.</summary>
    public string? Db { get; init; }

    /// <summary><c>--data</c> / <c>TTA_DATA</c> (or <c>TTA_DATA_DIR</c>): SQLite journal and spool files; default <c>.tta</c> in the working directory.</summary>
    public string DataDirectory { get; init; } = Path.GetFullPath(".tta");

    /// <summary><c>--workflows</c> / <c>TTA_WORKFLOWS</c>: a directory of workflow files loaded at start.</summary>
    public string? WorkflowsDirectory { get; init; }

    /// <summary><c>--config</c> / <c>TTA_CONFIG</c>: a HOCON file layered over the shipped ones.</summary>
    public string? ConfigFile { get; init; }

    /// <summary><c>TTA_API_TOKEN</c> only (never a command-line option, so it stays out of process listings).</summary>
    public string? ApiToken { get; init; }

    /// <summary><c>TTA_MAX_BODY_BYTES</c>: the largest request body the API reads.</summary>
    public long MaxBodyBytes { get; init; } = DefaultMaxBodyBytes;

    /// <summary>
    /// <c>TTA_RUN_STORE_MAX_BYTES</c>, <c>TTA_RUN_STORE_MAX_RUNS</c>, <c>TTA_RUN_OUTPUT_MAX_BYTES</c>: what the node keeps
    /// of recent runs for <c>GET /runs/{id}</c>.
    /// </summary>
    public Runs.RunStoreLimits RunStore { get; init; } = new();

    /// <summary><c>TTA_UI_SPAN_STORE_MAX_BYTES</c>: the spans of recent runs the run inspector (<c>/ui</c>) keeps.</summary>
    public Inspector.SpanStoreLimits SpanStore { get; init; } = new();

    /// <summary><c>TTA_RUN_TIMEOUT</c> (seconds): the deadline of a run started through the API.</summary>
    public int RunTimeoutSeconds { get; init; } = DefaultRunTimeoutSeconds;

    /// <summary>The runtime's own settings (service name, metrics).</summary>
    public TtaRuntimeOptions Runtime { get; init; } = new();

    /// <summary>The connection string the persistence layer uses.</summary>
    public string EffectiveConnectionString => Db ?? (DbProvider == DatabaseProvider.Sqlite
        ? $"Data Source={Path.Combine(DataDirectory, "journal.db")}"
        : throw new TtaConfigurationException("--db-provider postgres needs a connection string: pass --db or set TTA_DB."));

    /// <summary>Checks what only makes sense together; throws with the option and variable to fix.</summary>
    public NodeOptions Validate()
    {
        if (!Http.IsLoopback && string.IsNullOrEmpty(ApiToken))
            throw new TtaConfigurationException(
                $"--http {Http} is not a loopback address, so the API would be reachable by others: set TTA_API_TOKEN to a secret " +
                "bearer token (clients send 'Authorization: Bearer <token>'), or bind to 127.0.0.1.");
        if (ApiToken is { Length: < 16 })
            throw new TtaConfigurationException("TTA_API_TOKEN is shorter than 16 characters; use a long random token (e.g. openssl rand -hex 32).");
        if (DbProvider == DatabaseProvider.Postgres && string.IsNullOrWhiteSpace(Db))
            throw new TtaConfigurationException("--db-provider postgres needs a connection string: pass --db or set TTA_DB.");
        if (Runtime.MetricsPort != 0 && Runtime.MetricsPort == Http.Port)
            throw new TtaConfigurationException($"--metrics-port {Runtime.MetricsPort} is the same port as --http {Http}; choose two different ports.");
        if (RunStore.MaxOutputBytes > RunStore.MaxBytes)
            throw new TtaConfigurationException(
                $"TTA_RUN_OUTPUT_MAX_BYTES ({RunStore.MaxOutputBytes}) is larger than TTA_RUN_STORE_MAX_BYTES ({RunStore.MaxBytes}): " +
                "a run's output must fit in the run store; lower the first or raise the second.");
        if (WorkflowsDirectory is not null && !Directory.Exists(WorkflowsDirectory))
            throw new TtaConfigurationException($"--workflows: directory '{WorkflowsDirectory}' does not exist.");
        if (ConfigFile is not null && !File.Exists(ConfigFile))
            throw new TtaConfigurationException($"--config: file '{ConfigFile}' does not exist.");
        return this;
    }

    /// <summary>The cluster bootstrap's view of these options.</summary>
    public Cluster.TtaClusterOptions ToClusterOptions() => new()
    {
        Host = Host,
        Port = Port,
        SeedNodes = Seeds,
        Journal = DbProvider == DatabaseProvider.Sqlite ? Cluster.JournalProvider.Sqlite : Cluster.JournalProvider.Postgres,
        ConnectionString = Db,
        DataDirectory = DataDirectory,
        SqliteSynchronous = Environment.GetEnvironmentVariable("TTA_SQLITE_SYNCHRONOUS") is { Length: > 0 } synchronous
            ? Cluster.TtaClusterOptions.ParseSynchronous("TTA_SQLITE_SYNCHRONOUS", synchronous)
            : Cluster.SqliteSynchronous.Normal,
    };

    /// <summary>A <c>HOST:PORT</c> binding from the setting <paramref name="key"/>.</summary>
    /// <exception cref="TtaConfigurationException">The value is not HOST:PORT or the host is not an IP address or localhost.</exception>
    public static HttpBinding ParseHttp(string key, string value)
    {
        var text = value.Trim();
        var colon = text.LastIndexOf(':');
        if (colon <= 0 || colon == text.Length - 1)
            throw new TtaConfigurationException($"{key}: '{value}' is not HOST:PORT (for example 127.0.0.1:8080).");
        var host = text[..colon].Trim('[', ']');
        var port = TtaRuntimeOptions.ParsePort(key, text[(colon + 1)..]);
        IPAddress address;
        if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase)) address = IPAddress.Loopback;
        else if (!IPAddress.TryParse(host, out address!))
            throw new TtaConfigurationException($"{key}: '{host}' is not an IP address; use 127.0.0.1, 0.0.0.0, an interface address or localhost.");
        return new HttpBinding(host, address, port);
    }

    /// <summary>A seed node address (<c>akka.tcp://tta@HOST:PORT</c>) from the setting <paramref name="key"/>.</summary>
    /// <exception cref="TtaConfigurationException">The value is not such an address.</exception>
    public static string ParseSeed(string key, string value)
    {
        var seed = value.Trim();
        if (SeedPattern().IsMatch(seed)) return seed;
        throw new TtaConfigurationException($"{key}: '{value}' is not a seed node address; write akka.tcp://tta@HOST:PORT.");
    }

    /// <summary>A database provider (<c>sqlite</c> or <c>postgres</c>) from the setting <paramref name="key"/>.</summary>
    /// <exception cref="TtaConfigurationException">The provider is unknown.</exception>
    public static DatabaseProvider ParseProvider(string key, string value) => value.Trim().ToLowerInvariant() switch
    {
        "sqlite" => DatabaseProvider.Sqlite,
        "postgres" or "postgresql" => DatabaseProvider.Postgres,
        _ => throw new TtaConfigurationException($"{key}: unknown database provider '{value}'; use sqlite or postgres."),
    };

    /// <summary>A positive whole number from the setting <paramref name="key"/>.</summary>
    /// <exception cref="TtaConfigurationException">The value is not one.</exception>
    public static long ParsePositive(string key, string value)
    {
        if (long.TryParse(value.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var number) && number > 0) return number;
        throw new TtaConfigurationException($"{key}: '{value}' is not a positive whole number.");
    }

    [GeneratedRegex(@"^akka\.tcp://tta@[A-Za-z0-9.\-\[\]:]+:\d{1,5}$")]
    private static partial Regex SeedPattern();
}
