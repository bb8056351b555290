using TtaActors.Runtime.Hosting;

namespace TtaActors.Runtime.Cli;

/// <summary>Turns a configuration error into one line on stderr and exit code 1, instead of a stack trace.</summary>
public static class CommandErrors
{
    public static async Task<int> Guard(Func<Task<int>> command)
    {
        try
        {
            return await command();
        }
        catch (TtaConfigurationException error)
        {
            await Console.Error.WriteLineAsync($"tta: {error.Message}");
            return 1;
        }
    }
}
