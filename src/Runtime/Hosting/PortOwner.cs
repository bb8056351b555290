using System.Globalization;

namespace TtaActors.Runtime.Hosting;

/// <summary>
/// Finds which process listens on a TCP port, from <c>/proc/net/tcp*</c> (the socket's inode) and <c>/proc/*/fd</c>
/// (who holds that inode). Linux only; elsewhere, or without permission to look, the owner is unknown.
/// </summary>
public static class PortOwner
{
    private const string Listen = "0A";

    /// <summary>"process 1234 (command line)", or null when it cannot be found.</summary>
    public static string? Describe(int port)
    {
        try
        {
            var inodes = ListeningInodes(port);
            if (inodes.Count == 0) return null;
            foreach (var process in Directory.EnumerateDirectories("/proc"))
            {
                if (!int.TryParse(Path.GetFileName(process), out var pid)) continue;
                if (!HoldsAny(process, inodes)) continue;
                return $"process {pid} ({CommandLine(process)})";
            }
            return null;
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static HashSet<string> ListeningInodes(int port)
    {
        var inodes = new HashSet<string>();
        foreach (var table in new[] { "/proc/net/tcp", "/proc/net/tcp6" })
        {
            if (!File.Exists(table)) continue;
            foreach (var line in File.ReadLines(table).Skip(1))
            {
                var columns = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (columns.Length < 10 || columns[3] != Listen) continue;
                var local = columns[1];
                var portHex = local[(local.LastIndexOf(':') + 1)..];
                if (int.Parse(portHex, NumberStyles.HexNumber, CultureInfo.InvariantCulture) == port) inodes.Add(columns[9]);
            }
        }
        return inodes;
    }

    private static bool HoldsAny(string process, HashSet<string> inodes)
    {
        try
        {
            foreach (var fd in Directory.EnumerateFiles(Path.Combine(process, "fd")))
            {
                var target = new FileInfo(fd).LinkTarget;
                if (target is not null && target.StartsWith("socket:[") && inodes.Contains(target[8..^1])) return true;
            }
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            // A process that exited or that we may not inspect.
        }
        return false;
    }

    private static string CommandLine(string process)
    {
        try
        {
            var raw = File.ReadAllText(Path.Combine(process, "cmdline")).Replace('\0', ' ').Trim();
            if (raw.Length > 0) return raw.Length > 120 ? raw[..120] + "..." : raw;
            return File.ReadAllText(Path.Combine(process, "comm")).Trim();
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            return "unknown command";
        }
    }
}
