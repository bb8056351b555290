using TtaActors.Runtime.Cli;
using TtaActors.Runtime.Hosting;
using TtaActors.Runtime.Node;

namespace TtaActors.Tests.NodeHost;

public class HoconLayersSpecs
{
    private static Func<string, string?> Env(params (string Key, string Value)[] values) =>
        key => values.FirstOrDefault(v => v.Key == key).Value;

    [Fact]
    public void Later_layers_win_user_file_over_shipped_files_options_over_the_file_and_tta_hocon_over_everything()
    {
        var file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, "akka.loglevel = DEBUG\nakka.remote.dot-netty.tcp.port = 1\nakka.actor.default-dispatcher.throughput = 7\n");
            var env = Env(("TTA_CONFIG", file), ("TTA_PORT", "8222"), ("TTA_HOCON", "akka.loglevel = ERROR"));
            var layers = HoconLayers.Build(NodeCommand.Resolve(env), env);

            Assert.Equal("hocon/base.conf", layers.Layers[0].Name);
            Assert.Equal("TTA_HOCON", layers.Layers[^1].Name);
            Assert.Equal("ERROR", layers.Effective.GetString("akka.loglevel"));
            Assert.Equal(8222, layers.Effective.GetInt("akka.remote.dot-netty.tcp.port"));
            Assert.Equal(7, layers.Effective.GetInt("akka.actor.default-dispatcher.throughput"));
            Assert.Contains($"akka.actor.default-dispatcher.throughput = 7    # {file}", layers.Render());
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Theory]
    [InlineData("akka.persistence.journal.sql.connection-string", "Host=db;Password=x", HoconLayers.Masked)]
    [InlineData("tta.langfuse.secret-key", "sk-lf-1", HoconLayers.Masked)]
    [InlineData("my.api-token", "abc", HoconLayers.Masked)]
    [InlineData("my.dsn", "Host=db;Password=hunter2;Port=5432", "Host=db;Password=********;Port=5432")]
    [InlineData("akka.loglevel", "INFO", "INFO")]
    public void Print_config_masks_secret_keys_and_passwords_inside_values(string key, string value, string shown) =>
        Assert.Equal(shown, HoconLayers.Mask(key, value));

    [Fact]
    public void An_unresolvable_tta_hocon_stops_start_up_naming_its_source()
    {
        var env = Env(("TTA_HOCON", "akka.loglevel = ${no.such.key}"));
        var error = Assert.Throws<TtaConfigurationException>(() => HoconLayers.Build(NodeCommand.Resolve(env), env));
        Assert.StartsWith("HOCON from TTA_HOCON cannot be parsed", error.Message);
    }

    [Theory]
    [InlineData("TTA_HTTP", "example.com:80", "not an IP address")]
    [InlineData("TTA_HTTP", "127.0.0.1", "not HOST:PORT")]
    [InlineData("TTA_PORT", "70000", "TTA_PORT: '70000' is not a port number")]
    [InlineData("TTA_SEED_NODES", "tcp://x:1", "akka.tcp://tta@HOST:PORT")]
    [InlineData("TTA_DB_PROVIDER", "oracle", "unknown database provider 'oracle'")]
    [InlineData("TTA_MAX_BODY_BYTES", "-5", "TTA_MAX_BODY_BYTES")]
    [InlineData("TTA_API_TOKEN", "short", "shorter than 16 characters")]
    public void Bad_settings_name_the_variable_and_the_problem(string variable, string value, string expected)
    {
        var error = Assert.Throws<TtaConfigurationException>(() => NodeCommand.Resolve(Env((variable, value))));
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void Options_win_over_their_environment_twins()
    {
        var options = NodeCommand.Resolve(Env(("TTA_HTTP", "127.0.0.1:1111"), ("TTA_PORT", "2222")), http: "127.0.0.1:3333");
        Assert.Equal(3333, options.Http.Port);
        Assert.Equal(2222, options.Port);
        Assert.True(options.Http.IsLoopback);
    }
}
