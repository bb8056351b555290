using System.Data.Common;
using System.Text.Json;
using Akka.Actor.Setup;
using Akka.Configuration;
using Akka.Persistence.Sql.Config;
using LinqToDB;
using Akka.Event;
using Akka.Hosting;
using Microsoft.Data.Sqlite;
using Npgsql;
using TtaActors.Runtime.Hosting;

namespace TtaActors.Runtime.Cluster;

/// <summary>Cluster membership, persistence and serialization of a node, from the HOCON files in <c>hocon/</c>.</summary>
public static class TtaClusterHostingExtensions
{
    /// <summary>
    /// Makes the actor system a cluster node: explicit serializers, cluster and sharding settings (split brain resolver
    /// keep-majority, ddata coordinator state), the journal and snapshot store (SQLite by default, PostgreSQL for a
    /// cluster), and with no seed node a self-join so a single node needs no configuration.
    /// </summary>
    public static AkkaConfigurationBuilder WithTtaCluster(this AkkaConfigurationBuilder builder, TtaClusterOptions options)
    {
        builder.AddHocon(HoconFiles.Load("cluster.conf"), HoconAddMode.Prepend);
        builder.AddHocon(JournalConfig(options), HoconAddMode.Prepend);
        builder.AddHocon(MembershipConfig(options), HoconAddMode.Prepend);
        if (JournalSetup(options) is { } journalSetup) builder.AddSetup(journalSetup);
        if (!string.IsNullOrWhiteSpace(options.ExtraHocon)) builder.AddHocon(ParseExtra(options.ExtraHocon), HoconAddMode.Prepend);

        builder.AddStartup(async (system, _) =>
        {
            if (options.Journal == JournalProvider.Postgres) await ProbePostgresAsync(system, options.ConnectionString!);
            var cluster = Akka.Cluster.Cluster.Get(system);
            if (options.SeedNodes.Count == 0) cluster.Join(cluster.SelfAddress);
        });
        return builder;
    }

    /// <summary>
    /// The journal, snapshot store and serializers of <paramref name="options"/>, without cluster membership: what an
    /// actor system needs to run <c>PersonaSessionActor</c>s directly (benchmarks of journal throughput and recovery).
    /// Prepares the SQLite data directory like <see cref="WithTtaCluster"/> does.
    /// </summary>
    public static Config JournalConfig(TtaClusterOptions options)
    {
        options.Validate();
        if (options.Journal == JournalProvider.Sqlite) PrepareSqlite(options);
        var connection = Quote(options.Journal == JournalProvider.Sqlite ? options.SqliteConnectionString : options.ConnectionString!);
        return ConfigurationFactory.ParseString($"""
                akka.persistence.journal.sql.connection-string = {connection}
                akka.persistence.snapshot-store.sql.connection-string = {connection}
                akka.persistence.query.journal.sql.connection-string = {connection}
                """)
            .WithFallback(HoconFiles.Load(options.Journal == JournalProvider.Sqlite ? "persistence-sqlite.conf" : "persistence-postgres.conf"))
            .WithFallback(HoconFiles.Load("serialization.conf"));
    }

    /// <summary>
    /// The journal's connections for SQLite: each connection the journal, snapshot store and queries open sets
    /// <c>PRAGMA synchronous</c> from <see cref="TtaClusterOptions.SqliteSynchronous"/>. SQLite's default (FULL) syncs the
    /// write-ahead log to disk on every commit, which made every journal write of a durable run wait for one fsync
    /// (about 7 ms on the development VM's disk, against 0.05 ms for a commit in NORMAL). Null for PostgreSQL. The
    /// connection string stays the one of <see cref="JournalConfig"/> (this setup replaces it where the plugins read it).
    /// </summary>
    public static Setup? JournalSetup(TtaClusterOptions options) =>
        options.Journal == JournalProvider.Sqlite ? new DataOptionsSetup(SqliteDataOptions(options)) : null;

    /// <summary>
    /// The SQLite connection options of <see cref="JournalSetup"/>. An asynchronous open (every journal, snapshot and
    /// query call opens its connection that way) first moves to a thread-pool thread. Microsoft.Data.Sqlite completes its
    /// asynchronous methods synchronously, so without that move the whole database call ran inside the plugin actor that
    /// made it: the journal's write stream wrote and committed inside its own turn and never saw a second write waiting,
    /// so every event was a transaction of its own (no batching), and the journal and snapshot store actors did every
    /// recovery read one after the other, whatever <c>max-concurrent-recoveries</c> allowed.
    /// </summary>
    public static DataOptions SqliteDataOptions(TtaClusterOptions options)
    {
        var pragma = $"PRAGMA synchronous={(options.SqliteSynchronous == SqliteSynchronous.Full ? "FULL" : "NORMAL")};";
        return new DataOptions()
            .UseConnectionString(ProviderName.SQLiteMS, options.SqliteConnectionString)
            .UseAfterConnectionOpened(
                connection =>
                {
                    using var command = Pragma(connection, pragma);
                    command.ExecuteNonQuery();
                },
                async (connection, cancellation) =>
                {
                    await new ThreadPoolHop();
                    await using var command = Pragma(connection, pragma);
                    await command.ExecuteNonQueryAsync(cancellation);
                });

        static DbCommand Pragma(DbConnection connection, string text)
        {
            var command = connection.CreateCommand();
            command.CommandText = text;
            return command;
        }
    }

    /// <summary>Awaiting it always continues on a thread-pool thread (never inline, whatever scheduler the caller runs on).</summary>
    private readonly struct ThreadPoolHop : System.Runtime.CompilerServices.ICriticalNotifyCompletion
    {
        public ThreadPoolHop GetAwaiter() => this;

        public bool IsCompleted => false;

        public void GetResult() { }

        public void OnCompleted(Action continuation) => ThreadPool.QueueUserWorkItem(static run => run(), continuation, preferLocal: false);

        public void UnsafeOnCompleted(Action continuation) => ThreadPool.UnsafeQueueUserWorkItem(static run => run(), continuation, preferLocal: false);
    }

    private static Config MembershipConfig(TtaClusterOptions options) =>
        ConfigurationFactory.ParseString($"""
            akka.remote.dot-netty.tcp.hostname = {Quote(options.Host)}
            akka.remote.dot-netty.tcp.port = {options.Port}
            akka.cluster.seed-nodes = [{string.Join(", ", options.SeedNodes.Select(Quote))}]
            """);

    private static Config ParseExtra(string hocon)
    {
        try
        {
            return ConfigurationFactory.ParseString(hocon);
        }
        catch (Exception error)
        {
            throw new TtaConfigurationException($"Extra HOCON cannot be parsed: {error.Message}", error);
        }
    }

    /// <summary>A HOCON quoted string (HOCON quoting is JSON's).</summary>
    private static string Quote(string value) => JsonSerializer.Serialize(value);

    /// <summary>
    /// Creates the data directory and switches the database to write-ahead logging, so session reads never wait for the
    /// single journal writer; a directory that cannot be written fails start-up naming it.
    /// </summary>
    private static void PrepareSqlite(TtaClusterOptions options)
    {
        try
        {
            if (options.ConnectionString is null) Directory.CreateDirectory(options.DataDirectory);
            using var connection = new SqliteConnection(options.SqliteConnectionString);
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA journal_mode=WAL;";
            command.ExecuteNonQuery();
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException or SqliteException)
        {
            throw new TtaConfigurationException(
                $"TTA_DATA_DIR: the SQLite journal in '{options.DataDirectory}' cannot be opened ({error.Message}). " +
                "Choose a writable directory with TTA_DATA_DIR (or --data).", error);
        }
    }

    /// <summary>
    /// Says clearly, once, that PostgreSQL is not reachable at start-up. The journal keeps retrying (its
    /// initialization-retry-delay) and sessions answer with a journal error until it is back; nothing is acknowledged
    /// that is not stored.
    /// </summary>
    private static async Task ProbePostgresAsync(Akka.Actor.ActorSystem system, string connectionString)
    {
        NpgsqlConnectionStringBuilder target;
        try
        {
            target = new NpgsqlConnectionStringBuilder(connectionString);
        }
        catch (ArgumentException error)
        {
            throw new TtaConfigurationException($"TTA_DB: the PostgreSQL connection string cannot be parsed ({error.Message}).", error);
        }
        try
        {
            await using var connection = new NpgsqlConnection(connectionString);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await connection.OpenAsync(timeout.Token);
        }
        catch (Exception error) when (error is NpgsqlException or OperationCanceledException or TimeoutException)
        {
            system.Log.Error(
                "PostgreSQL journal at {0}:{1} (database '{2}') is not reachable at start-up: {3}. Sessions cannot change until it " +
                "is; the journal retries in the background. Check TTA_DB and that the server is running.",
                target.Host, target.Port, target.Database, error.Message);
        }
    }
}
