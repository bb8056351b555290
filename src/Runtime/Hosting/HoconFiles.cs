using Akka.Configuration;

namespace TtaActors.Runtime.Hosting;

/// <summary>
/// The HOCON files of the repository's <c>hocon/</c> folder (base, serialization, cluster, persistence per database),
/// embedded in this assembly: the <c>tta</c> tool and an app that references the TtaActors.Hosting package read the same
/// files, whatever its output folder holds. Override a value with the node's <c>--config</c> file or <c>TTA_HOCON</c>.
/// </summary>
public static class HoconFiles
{
    private const string ResourcePrefix = "TtaActors.Hocon.";

    /// <summary>Whether <paramref name="fileName"/> (e.g. <c>cluster.conf</c>) is one of the shipped files.</summary>
    public static bool Exists(string fileName) =>
        typeof(HoconFiles).Assembly.GetManifestResourceInfo(ResourcePrefix + fileName) is not null;

    /// <summary>The text of one shipped file; a name that is not shipped throws <see cref="TtaConfigurationException"/>.</summary>
    public static string Text(string fileName)
    {
        using var stream = typeof(HoconFiles).Assembly.GetManifestResourceStream(ResourcePrefix + fileName)
            ?? throw new TtaConfigurationException(
                $"HOCON file 'hocon/{fileName}' is not shipped in {typeof(HoconFiles).Assembly.GetName().Name}; the shipped files are " +
                $"{string.Join(", ", typeof(HoconFiles).Assembly.GetManifestResourceNames().Where(n => n.StartsWith(ResourcePrefix, StringComparison.Ordinal)).Select(n => n[ResourcePrefix.Length..]).Order(StringComparer.Ordinal))}.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    /// <summary>Parses one shipped file; a syntax error names the file and the parser's location.</summary>
    public static Config Load(string fileName)
    {
        var text = Text(fileName);
        try
        {
            return ConfigurationFactory.ParseString(text);
        }
        catch (Exception error)
        {
            throw new TtaConfigurationException($"HOCON file 'hocon/{fileName}' cannot be parsed: {error.Message}", error);
        }
    }
}
