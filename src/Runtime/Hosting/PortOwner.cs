using System.Globalization;

namespace TtaActors.Runtime.Hosting;

/// <summary>
/// Finds which process listens on a TCP port, from <c>/proc/net/tcp*</c> (the socket's inode) and <c>/proc/*/fd</c>
/// (who holds that inode), and which process has a file open. Linux only; elsewhere, or without permission to look, the owner is unknown.
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
            return inodes.Count == 0 ? null : FindHolder(target => target.StartsWith("socket:[") && inodes.Contains(target[8..^1]));
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>
    /// True when a socket listens on <paramref name="port"/> (any address), from the kernel's socket tables; null where
    /// they cannot be read (not Linux). Unlike a trial bind, connections in TIME_WAIT do not count.
    /// </summary>
    public static bool? IsListening(int port)
    {
        try
        {
            if (!File.Exists("/proc/net/tcp")) return null;
            return ListeningInodes(port).Count > 0;
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>"process 1234 (command line)" of a process that has <paramref name="path"/> open, or null.</summary>
    public static string? DescribeFileHolder(string path)
    {
        try
        {
            var full = Path.GetFullPath(path);
            return FindHolder(target => target == full, skipSelf: true);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static string? FindHolder(Func<string, bool> holds, bool skipSelf = false)
    {
        if (!Directory.Exists("/proc")) return null;
        foreach (var process in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(process), out var pid)) continue;
            if (skipSelf && pid == Environment.ProcessId) continue;
            if (!HoldsAny(process, holds)) continue;
            return $"process {pid} ({CommandLine(process)})";
        }
        return null;
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

    private static bool HoldsAny(string process, Func<string, bool> holds)
    {
        try
        {
            foreach (var fd in Directory.EnumerateFiles(Path.Combine(process, "fd")))
            {
                var target = new FileInfo(fd).LinkTarget;
                if (target is not null && holds(target)) return true;
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
