using TtaActors.Runtime.Cli;
using TtaActors.Runtime.Cluster;
using TtaActors.Runtime.Hosting;
using TtaActors.Runtime.Node;
using Xunit;

namespace TtaActors.Tests.Cluster;

public sealed class ClusterOptionsSpecs
{
    private static TtaClusterOptions Read(params (string Key, string Value)[] variables) =>
        TtaClusterOptions.FromEnvironment(key => variables.FirstOrDefault(v => v.Key == key).Value);

    [Fact]
    public void With_nothing_set_a_node_should_join_itself_with_sqlite_in_the_working_directory()
    {
        var options = Read();

        Assert.Empty(options.SeedNodes);
        Assert.Equal(JournalProvider.Sqlite, options.Journal);
        Assert.Equal(Path.Combine(Environment.CurrentDirectory, ".tta"), options.DataDirectory);
        Assert.Equal($"Data Source={Path.Combine(Environment.CurrentDirectory, ".tta", "journal.db")}", options.SqliteConnectionString);
    }

    [Fact]
    public void Seed_nodes_provider_and_data_directory_should_be_read_from_their_variables()
    {
        var options = Read(("TTA_SEED_NODES", "akka.tcp://tta@10.0.0.1:8110, akka.tcp://tta@10.0.0.2:8110"), ("TTA_DB_PROVIDER", "postgres"),
            ("TTA_DB", "Host=db;Database=tta"), ("TTA_DATA_DIR", "/var/lib/tta"), ("TTA_PORT", "8110"));

        Assert.Equal(["akka.tcp://tta@10.0.0.1:8110", "akka.tcp://tta@10.0.0.2:8110"], options.SeedNodes);
        Assert.Equal((JournalProvider.Postgres, "Host=db;Database=tta", "/var/lib/tta", 8110),
            (options.Journal, options.ConnectionString, options.DataDirectory, options.Port));
    }

    [Theory]
    [InlineData("TTA_SEED_NODES", "10.0.0.1:8110", "TTA_SEED_NODES: '10.0.0.1:8110' is not a node address")]
    [InlineData("TTA_SEED_NODES", "akka.tcp://other@10.0.0.1:8110", "names actor system 'other'")]
    [InlineData("TTA_DB_PROVIDER", "mysql", "TTA_DB_PROVIDER: 'mysql' is not a journal provider; use 'sqlite' or 'postgres'")]
    [InlineData("TTA_PORT", "99999", "TTA_PORT: '99999' is not a port number")]
    [InlineData("TTA_SQLITE_SYNCHRONOUS", "off", "TTA_SQLITE_SYNCHRONOUS: 'off' is not a SQLite synchronous mode; use 'normal' (the default) or 'full'")]
    public void A_bad_value_should_fail_naming_its_variable(string key, string value, string message)
    {
        var error = Assert.Throws<TtaConfigurationException>(() => Read((key, value)));
        Assert.Contains(message, error.Message);
    }

    [Theory]
    [InlineData(null, 1L)]
    [InlineData("normal", 1L)]
    [InlineData(" FULL ", 2L)]
    public void Every_journal_connection_to_sqlite_should_open_with_the_configured_synchronous_mode(string? value, long pragma)
    {
        var options = (value is null ? Read() : Read(("TTA_SQLITE_SYNCHRONOUS", value))) with
        {
            DataDirectory = Directory.CreateTempSubdirectory("tta-synchronous-").FullName,
        };
        TtaClusterHostingExtensions.JournalConfig(options);
        Assert.IsType<Akka.Persistence.Sql.Config.DataOptionsSetup>(TtaClusterHostingExtensions.JournalSetup(options));

        using var connection = new LinqToDB.Data.DataConnection(TtaClusterHostingExtensions.SqliteDataOptions(options));
        object? Scalar(string sql)
        {
            using var command = connection.OpenDbConnection().CreateCommand();
            command.CommandText = sql;
            return command.ExecuteScalar();
        }
        Assert.Equal(pragma, Scalar("PRAGMA synchronous"));
        Assert.Equal("wal", Scalar("PRAGMA journal_mode"));
        Assert.Null(TtaClusterHostingExtensions.JournalSetup(options with { Journal = JournalProvider.Postgres, ConnectionString = "Host=x" }));
    }

    /// <summary>
    /// Microsoft.Data.Sqlite completes async calls synchronously; a journal call that opens its connection
    /// asynchronously must still hand its work to the thread pool and return to its caller unfinished, not run to the end
    /// inside the plugin actor that made it (else the journal's write stream never batches and recovery reads run one at
    /// a time).
    /// </summary>
    /// <remarks>
    /// Without the hop every call returns finished, always. With it, a call returns finished only when the pool happens to
    /// complete the work before the caller looks, so the spec asks that at least one of 20 calls returns unfinished
    /// (checking the continuation's thread of one call instead failed on a loaded machine for exactly that reason).
    /// </remarks>
    [Fact]
    public async Task An_asynchronous_sqlite_journal_call_should_continue_off_the_calling_thread()
    {
        var options = Read() with { DataDirectory = Directory.CreateTempSubdirectory("tta-hop-").FullName };
        TtaClusterHostingExtensions.JournalConfig(options);
        const int calls = 20;
        var unfinished = 0;
        for (var i = 0; i < calls; i++)
        {
            await using var connection = new LinqToDB.Data.DataConnection(TtaClusterHostingExtensions.SqliteDataOptions(options));
            var begin = connection.BeginTransactionAsync();
            if (!begin.IsCompleted) unfinished++;
            await using var transaction = await begin;
        }

        Assert.True(unfinished > 0, $"{unfinished} of {calls} asynchronous opens returned to their caller unfinished");
    }

    [Fact]
    public void A_postgres_journal_without_a_connection_string_should_fail_naming_TTA_DB()
    {
        var error = Assert.Throws<TtaConfigurationException>(() => Read(("TTA_DB_PROVIDER", "postgres")).Validate());
        Assert.StartsWith("TTA_DB:", error.Message);
    }

    /// <summary>
    /// The timers between a crash and the sessions moving, as a user's <c>tta node</c> gets them (shipped files over
    /// Akka's own defaults): detection, stable-after, the removal margin and one allocation retry must leave at least
    /// 5 s of the 30 s target for recovery and the client (README, Performance, Failover; the benchmark measures it).
    /// </summary>
    [Fact]
    public void The_shipped_defaults_should_leave_failover_of_a_crashed_node_within_30_seconds_without_shortening_the_removal_margin()
    {
        var env = (Func<string, string?>)(_ => null);
        var config = HoconLayers.Build(NodeCommand.Resolve(env), env).Effective
            .WithFallback(Akka.Cluster.Sharding.ClusterSharding.DefaultConfig())
            .WithFallback(Akka.Configuration.ConfigurationFactory.FromResource<Akka.Cluster.Cluster>("Akka.Cluster.Configuration.Cluster.conf"));

        var detection = config.GetTimeSpan("akka.cluster.failure-detector.heartbeat-interval")
                        + config.GetTimeSpan("akka.cluster.failure-detector.acceptable-heartbeat-pause");
        var stableAfter = config.GetTimeSpan("akka.cluster.split-brain-resolver.stable-after");
        var margin = config.GetString("akka.cluster.down-removal-margin") is "off" or "" ? stableAfter : config.GetTimeSpan("akka.cluster.down-removal-margin");
        var allocation = config.GetTimeSpan("akka.cluster.sharding.retry-interval");

        Assert.Equal("Akka.Cluster.SBR.SplitBrainResolverProvider, Akka.Cluster", config.GetString("akka.cluster.downing-provider-class"));
        Assert.True(margin >= stableAfter, $"down-removal-margin {margin} is shorter than stable-after {stableAfter}: a partition could run a session twice");
        var bound = detection + stableAfter + margin + allocation;
        Assert.True(bound <= TimeSpan.FromSeconds(25),
            $"detection {detection} + stable-after {stableAfter} + removal margin {margin} + retry-interval {allocation} = {bound.TotalSeconds} s leaves less than 5 s of 30 s");
    }
}
