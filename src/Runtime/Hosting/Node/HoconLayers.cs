using System.Text;
using System.Text.RegularExpressions;
using Akka.Configuration;
using Akka.Configuration.Hocon;
using TtaActors.Runtime.Hosting;

namespace TtaActors.Runtime.Node;

/// <summary>One source of configuration and what it contributes.</summary>
public sealed record HoconLayer(string Name, Config Config);

/// <summary>
/// The node's effective HOCON, built from layers; a later layer wins over an earlier one:
/// <list type="number">
/// <item><c>hocon/base.conf</c></item>
/// <item><c>hocon/serialization.conf</c> and <c>hocon/cluster.conf</c> (when the installation ships them)</item>
/// <item><c>hocon/persistence-{sqlite|postgres}.conf</c> for the chosen <c>--db-provider</c> (when shipped)</item>
/// <item>the user's file: <c>--config FILE</c> / <c>TTA_CONFIG</c></item>
/// <item>the node's options (<c>--host</c>, <c>--port</c>, <c>--seed</c>, <c>--db</c> ... and their <c>TTA_*</c> twins)</item>
/// <item><c>TTA_HOCON</c>: raw HOCON from the environment, for a one-off override of any key</item>
/// </list>
/// Akka.NET's built-in defaults sit below all of them.
/// </summary>
public sealed partial class HoconLayers
{
    /// <summary>What secret values (passwords, keys, connection strings) show as when the layers are printed.</summary>
    public const string Masked = "********";

    private HoconLayers(IReadOnlyList<HoconLayer> layers)
    {
        Layers = layers;
        Effective = layers.Aggregate(Config.Empty, (lower, layer) => layer.Config.WithFallback(lower));
    }

    /// <summary>The layers, lowest first.</summary>
    public IReadOnlyList<HoconLayer> Layers { get; }
    /// <summary>The merged configuration the node runs with.</summary>
    public Config Effective { get; }

    /// <summary>The layers of <paramref name="options"/> and the environment.</summary>
    /// <param name="options">The node's options.</param>
    /// <param name="environment">Reads environment variables; the process environment when null.</param>
    public static HoconLayers Build(NodeOptions options, Func<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        var layers = new List<HoconLayer> { new("hocon/base.conf", HoconFiles.Load("base.conf")) };
        AddShipped(layers, "serialization.conf");
        AddShipped(layers, "cluster.conf");
        AddShipped(layers, $"persistence-{options.DbProvider.ToString().ToLowerInvariant()}.conf");
        if (options.ConfigFile is { } file) layers.Add(new HoconLayer(file, ParseFile(file)));
        layers.Add(new HoconLayer("node options (--host, --port, --seed, --db ... / TTA_*)", Parse("node options", NodeOptionsHocon(options))));
        if (environment("TTA_HOCON") is { Length: > 0 } raw) layers.Add(new HoconLayer("TTA_HOCON", Parse("TTA_HOCON", raw)));
        return new HoconLayers(layers);
    }

    /// <summary>The effective configuration as <c>key = value</c> lines with the layer each value comes from, secrets masked.</summary>
    public string Render()
    {
        var text = new StringBuilder();
        text.AppendLine("# Effective TtaActors node configuration. Layers, later wins:");
        for (var i = 0; i < Layers.Count; i++) text.AppendLine($"#   {i + 1}. {Layers[i].Name}");
        text.AppendLine("# Akka.NET's built-in defaults apply to every key not listed here.");
        var values = new SortedDictionary<string, string>(StringComparer.Ordinal);
        Flatten(Effective.Root, "", values);
        var origins = Layers.Select(layer =>
        {
            var keys = new SortedDictionary<string, string>(StringComparer.Ordinal);
            Flatten(layer.Config.Root, "", keys);
            return (layer.Name, Keys: keys);
        }).ToList();
        foreach (var (key, value) in values)
        {
            var origin = origins.LastOrDefault(o => o.Keys.ContainsKey(key)).Name;
            text.AppendLine($"{key} = {Mask(key, value)}    # {origin}");
        }
        return text.ToString();
    }

    /// <summary>Hides values of secret-looking keys and passwords inside connection strings.</summary>
    public static string Mask(string key, string value)
    {
        var last = key[(key.LastIndexOf('.') + 1)..];
        if (SecretKey().IsMatch(last)) return value.Length == 0 ? value : Masked;
        return PasswordInValue().Replace(value, m => m.Groups[1].Value + "=" + Masked);
    }

    private static void Flatten(HoconValue? value, string prefix, IDictionary<string, string> into)
    {
        if (value is null) return;
        if (value.IsObject())
        {
            foreach (var (key, child) in value.GetObject().Items)
                Flatten(child, prefix.Length == 0 ? key : $"{prefix}.{key}", into);
            return;
        }
        if (prefix.Length == 0) return;
        into[prefix] = value.IsArray()
            ? "[" + string.Join(", ", value.GetArray().Select(Scalar)) + "]"
            : Scalar(value);
    }

    private static string Scalar(HoconValue value) =>
        value.IsObject() ? "{...}" : Quote(value.GetString() ?? "");

    private static string Quote(string value) => value.Length > 0 && PlainValue().IsMatch(value) ? value : $"\"{Escape(value)}\"";

    private static string Escape(string value) => value.Replace("\\", "\\\\").Replace("\"", "\\\"");

    private static string NodeOptionsHocon(NodeOptions options)
    {
        var provider = options.DbProvider == DatabaseProvider.Sqlite ? "SQLite.MS" : "PostgreSQL.15";
        var connection = options.DbProvider == DatabaseProvider.Postgres && options.Db is null ? "" : options.EffectiveConnectionString;
        var seeds = options.Seeds.Count == 0
            ? ""
            : $"akka.cluster.seed-nodes = [{string.Join(", ", options.Seeds.Select(s => $"\"{Escape(s)}\""))}]";
        return $$"""
            akka.remote.dot-netty.tcp.hostname = "{{Escape(options.Host)}}"
            akka.remote.dot-netty.tcp.port = {{options.Port}}
            {{seeds}}
            akka.persistence.journal.sql.provider-name = "{{provider}}"
            akka.persistence.journal.sql.connection-string = "{{Escape(connection)}}"
            akka.persistence.snapshot-store.sql.provider-name = "{{provider}}"
            akka.persistence.snapshot-store.sql.connection-string = "{{Escape(connection)}}"
            tta.node.service-name = "{{Escape(options.Runtime.ServiceName)}}"
            tta.node.http = "{{options.Http}}"
            tta.node.metrics-port = {{options.Runtime.MetricsPort}}
            tta.node.metrics-host = "{{Escape(options.Runtime.MetricsHost)}}"
            tta.node.data = "{{Escape(options.DataDirectory)}}"
            tta.node.workflows = "{{Escape(options.WorkflowsDirectory ?? "")}}"
            """;
    }

    private static void AddShipped(List<HoconLayer> layers, string fileName)
    {
        if (HoconFiles.Exists(fileName)) layers.Add(new HoconLayer($"hocon/{fileName}", HoconFiles.Load(fileName)));
    }

    private static Config ParseFile(string path)
    {
        try
        {
            return Parse(path, File.ReadAllText(path));
        }
        catch (IOException error)
        {
            throw new TtaConfigurationException($"HOCON file '{path}' cannot be read: {error.Message}", error);
        }
    }

    /// <summary>Parses one layer; a malformed layer stops start-up naming the layer, the line and the problem.</summary>
    public static Config Parse(string source, string text)
    {
        if (HoconSyntax.Problem(text) is { } problem)
            throw new TtaConfigurationException($"HOCON from {source} is malformed at {problem} Fix it; nothing was started.");
        try
        {
            return ConfigurationFactory.ParseString(text);
        }
        catch (Exception error) when (error is not TtaConfigurationException)
        {
            throw new TtaConfigurationException($"HOCON from {source} cannot be parsed: {error.Message}", error);
        }
    }

    [GeneratedRegex("(password|secret|token|connection-string|api-key|apikey|private-key)", RegexOptions.IgnoreCase)]
    private static partial Regex SecretKey();

    [GeneratedRegex("(password|pwd)=[^;\"]*", RegexOptions.IgnoreCase)]
    private static partial Regex PasswordInValue();

    [GeneratedRegex(@"^[A-Za-z0-9._:/\-]+$")]
    private static partial Regex PlainValue();
}
