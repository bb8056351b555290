using System.Globalization;
using TtaActors.Runtime.Hosting;

namespace TtaActors.Runtime.Cluster;

/// <summary>Where the journal lives.</summary>
public enum JournalProvider
{
    /// <summary>SQLite in the data directory: the embedded default, one node.</summary>
    Sqlite,

    /// <summary>PostgreSQL by connection string: shared by the nodes of a cluster.</summary>
    Postgres,
}

/// <summary>
/// When a SQLite commit is on disk (<c>PRAGMA synchronous</c>; the journal is always in write-ahead-log mode).
/// </summary>
public enum SqliteSynchronous
{
    /// <summary>
    /// The default: a commit is in the write-ahead log when the journal confirms it, and the log is synced to disk at each
    /// checkpoint. A killed or crashed process loses nothing; a power cut or an operating system crash can lose the last
    /// commits (never corrupt the database).
    /// </summary>
    Normal,

    /// <summary>Every commit is synced to disk before the journal confirms it: survives a power cut, costs one fsync per write.</summary>
    Full,
}

/// <summary>How a node joins a cluster and where it keeps its journal; each setting has its <c>TTA_*</c> variable.</summary>
public sealed record TtaClusterOptions
{
    /// <summary><c>TTA_HOST</c>: the address other nodes reach this one at.</summary>
    public string Host { get; init; } = "127.0.0.1";

    /// <summary><c>TTA_PORT</c>: the remoting port; 0 picks a free one (fine for a node that is alone).</summary>
    public int Port { get; init; }

    /// <summary><c>TTA_SEED_NODES</c> (comma separated <c>akka.tcp://tta@HOST:PORT</c>); none = the node joins itself.</summary>
    public IReadOnlyList<string> SeedNodes { get; init; } = [];

    /// <summary><c>TTA_DB_PROVIDER</c>: <c>sqlite</c> (default) or <c>postgres</c>.</summary>
    public JournalProvider Journal { get; init; } = JournalProvider.Sqlite;

    /// <summary><c>TTA_DB</c>: the connection string; required for PostgreSQL, optional for SQLite.</summary>
    public string? ConnectionString { get; init; }

    /// <summary><c>TTA_DATA_DIR</c> (or <c>TTA_DATA</c>): the SQLite journal and other local files; default <c>.tta</c> in the working directory.</summary>
    public string DataDirectory { get; init; } = Path.Combine(Environment.CurrentDirectory, ".tta");

    /// <summary><c>TTA_SQLITE_SYNCHRONOUS</c>: <c>normal</c> (default) or <c>full</c>; see <see cref="Cluster.SqliteSynchronous"/>.</summary>
    public SqliteSynchronous SqliteSynchronous { get; init; } = SqliteSynchronous.Normal;

    /// <summary>Shards of the persona session region: about ten times the largest expected number of nodes.</summary>
    public int NumberOfShards { get; init; } = 100;

    /// <summary>HOCON laid over the shipped files (tests tune failure detection and the split brain resolver with it).</summary>
    public string? ExtraHocon { get; init; }

    /// <summary>The connection string, else a SQLite file <c>journal.db</c> in <see cref="DataDirectory"/>.</summary>
    public string SqliteConnectionString => ConnectionString ?? $"Data Source={Path.Combine(DataDirectory, "journal.db")}";

    /// <summary>Reads the options from environment variables, failing with the variable's name on a bad value.</summary>
    public static TtaClusterOptions FromEnvironment(Func<string, string?>? read = null)
    {
        read ??= Environment.GetEnvironmentVariable;
        var options = new TtaClusterOptions();
        if (NonEmpty(read("TTA_HOST")) is { } host) options = options with { Host = host };
        if (NonEmpty(read("TTA_PORT")) is { } port) options = options with { Port = TtaRuntimeOptions.ParsePort("TTA_PORT", port) };
        if (NonEmpty(read("TTA_SEED_NODES")) is { } seeds) options = options with { SeedNodes = ParseSeedNodes("TTA_SEED_NODES", seeds) };
        if (NonEmpty(read("TTA_DB_PROVIDER")) is { } provider) options = options with { Journal = ParseProvider("TTA_DB_PROVIDER", provider) };
        if (NonEmpty(read("TTA_DB")) is { } connection) options = options with { ConnectionString = connection };
        if ((NonEmpty(read("TTA_DATA_DIR")) ?? NonEmpty(read("TTA_DATA"))) is { } data) options = options with { DataDirectory = Path.GetFullPath(data) };
        if (NonEmpty(read("TTA_SQLITE_SYNCHRONOUS")) is { } synchronous)
            options = options with { SqliteSynchronous = ParseSynchronous("TTA_SQLITE_SYNCHRONOUS", synchronous) };
        return options;
    }

    /// <summary>A SQLite <c>synchronous</c> mode from the setting <paramref name="key"/>.</summary>
    /// <exception cref="Hosting.TtaConfigurationException">The mode is unknown.</exception>
    public static SqliteSynchronous ParseSynchronous(string key, string value) => value.Trim().ToLowerInvariant() switch
    {
        "normal" => SqliteSynchronous.Normal,
        "full" => SqliteSynchronous.Full,
        _ => throw new TtaConfigurationException($"{key}: '{value}' is not a SQLite synchronous mode; use 'normal' (the default) or 'full'."),
    };

    /// <summary>A journal provider from the setting <paramref name="key"/>.</summary>
    /// <exception cref="Hosting.TtaConfigurationException">The provider is unknown.</exception>
    public static JournalProvider ParseProvider(string key, string value) => value.Trim().ToLowerInvariant() switch
    {
        "sqlite" => JournalProvider.Sqlite,
        "postgres" or "postgresql" => JournalProvider.Postgres,
        _ => throw new TtaConfigurationException($"{key}: '{value}' is not a journal provider; use 'sqlite' or 'postgres'."),
    };

    /// <summary>Comma-separated seed node addresses from the setting <paramref name="key"/>.</summary>
    /// <exception cref="Hosting.TtaConfigurationException">An address is malformed.</exception>
    public static IReadOnlyList<string> ParseSeedNodes(string key, string value)
    {
        var seeds = value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        foreach (var seed in seeds)
        {
            if (!Akka.Actor.Address.TryParse(seed, out var address) || address.Host is null || address.Port is null)
                throw new TtaConfigurationException($"{key}: '{seed}' is not a node address; write it as akka.tcp://tta@HOST:PORT.");
            if (address.System != TtaHostingExtensions.ActorSystemName)
                throw new TtaConfigurationException(
                    $"{key}: '{seed}' names actor system '{address.System}', but TtaActors nodes are '{TtaHostingExtensions.ActorSystemName}'.");
        }
        return seeds;
    }

    /// <summary>Fails with the setting's name when the options cannot work.</summary>
    public void Validate()
    {
        if (Journal == JournalProvider.Postgres && string.IsNullOrWhiteSpace(ConnectionString))
            throw new TtaConfigurationException(
                "TTA_DB: the PostgreSQL journal needs a connection string, e.g. 'Host=db;Port=5432;Database=tta;Username=tta;Password=...'.");
        if (NumberOfShards < 1)
            throw new TtaConfigurationException($"Number of shards: {NumberOfShards.ToString(CultureInfo.InvariantCulture)} must be at least 1.");
    }

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}
