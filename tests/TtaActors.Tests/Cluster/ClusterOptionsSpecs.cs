using TtaActors.Runtime.Cluster;
using TtaActors.Runtime.Hosting;
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
    public void A_bad_value_should_fail_naming_its_variable(string key, string value, string message)
    {
        var error = Assert.Throws<TtaConfigurationException>(() => Read((key, value)));
        Assert.Contains(message, error.Message);
    }

    [Fact]
    public void A_postgres_journal_without_a_connection_string_should_fail_naming_TTA_DB()
    {
        var error = Assert.Throws<TtaConfigurationException>(() => Read(("TTA_DB_PROVIDER", "postgres")).Validate());
        Assert.StartsWith("TTA_DB:", error.Message);
    }
}
