using Akka.Configuration;

namespace TtaActors.Runtime.Hosting;

/// <summary>The HOCON files shipped in <c>hocon/</c> next to the binary.</summary>
public static class HoconFiles
{
    /// <summary>The <c>hocon/</c> directory next to the binary.</summary>
    public static string Directory => Path.Combine(AppContext.BaseDirectory, "hocon");

    /// <summary>Parses one shipped file; a syntax error names the file and the parser's location.</summary>
    public static Config Load(string fileName)
    {
        var path = Path.Combine(Directory, fileName);
        if (!File.Exists(path)) throw new TtaConfigurationException($"HOCON file '{path}' is missing from the installation.");
        try
        {
            return ConfigurationFactory.ParseString(File.ReadAllText(path));
        }
        catch (Exception error)
        {
            throw new TtaConfigurationException($"HOCON file '{path}' cannot be parsed: {error.Message}", error);
        }
    }
}
