using TtaActors.Runtime.Hosting;

namespace TtaActors.Runtime.Cli;

/// <summary>The command was called wrongly (a bad argument value); exits with code 2 like a parse error.</summary>
public sealed class CommandUsageException(string message) : Exception(message);

/// <summary>
/// Turns a configuration error into one line on stderr and exit code 1, and a usage error into one line and exit
/// code 2, instead of a stack trace.
/// </summary>
public static class CommandErrors
{
    /// <summary>Exit code of a command that did what it was asked.</summary>
    public const int Success = 0;
    /// <summary>Exit code of a failure (a configuration error, a failed run).</summary>
    public const int Failure = 1;
    /// <summary>Exit code of a usage error.</summary>
    public const int Usage = 2;

    /// <summary>Runs <paramref name="command"/> and turns the errors a user can meet into one line on stderr and an exit code.</summary>
    public static async Task<int> Guard(Func<Task<int>> command)
    {
        try
        {
            return await command();
        }
        catch (TtaConfigurationException error)
        {
            await Console.Error.WriteLineAsync($"tta: {error.Message}");
            return Failure;
        }
        catch (CommandUsageException error)
        {
            await Console.Error.WriteLineAsync($"tta: {error.Message}");
            return Usage;
        }
    }
}
