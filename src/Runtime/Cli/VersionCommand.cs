using System.CommandLine;
using System.Reflection;
using System.Runtime.InteropServices;

namespace TtaActors.Runtime.Cli;

/// <summary><c>tta version</c>: the versions of tta, Akka.NET and .NET.</summary>
public static class VersionCommand
{
    /// <summary>The <c>tta version</c> command.</summary>
    public static Command Create()
    {
        var command = new Command("version", "Print the versions of tta, Akka.NET and .NET.");
        command.SetAction(_ =>
        {
            Console.WriteLine($"tta {Informational(typeof(VersionCommand).Assembly)}");
            Console.WriteLine($"Akka.NET {Informational(typeof(Akka.Actor.ActorSystem).Assembly)}");
            Console.WriteLine($"{RuntimeInformation.FrameworkDescription} on {RuntimeInformation.OSDescription} ({RuntimeInformation.OSArchitecture})");
            return CommandErrors.Success;
        });
        return command;
    }

    private static string Informational(Assembly assembly)
    {
        var version = assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
                      ?? assembly.GetName().Version?.ToString() ?? "unknown";
        // The SDK appends "+<commit>"; keep it short but present.
        var plus = version.IndexOf('+');
        return plus < 0 ? version : $"{version[..plus]} ({version[(plus + 1)..Math.Min(version.Length, plus + 13)]})";
    }
}
