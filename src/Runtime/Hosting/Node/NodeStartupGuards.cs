using System.Net;
using TtaActors.Runtime.Hosting;

namespace TtaActors.Runtime.Node;

/// <summary>
/// What a node must hold alone, checked before anything starts: its remoting port (.NET sets SO_REUSEPORT with
/// SO_REUSEADDR on Linux, so a second node would bind the same port and both would look ready) and its data
/// directory (two nodes on one SQLite journal write conflicting events).
/// </summary>
public static class NodeStartupGuards
{
    /// <summary>The lock file in the data directory that keeps a second node off it.</summary>
    public const string LockFileName = "node.lock";

    /// <summary>Refuses a remoting port another process listens on, naming the port and that process.</summary>
    public static void EnsureRemotingPortFree(NodeOptions options)
    {
        if (options.Port == 0) return;
        var taken = PortOwner.IsListening(options.Port)
                    ?? PortProbe.Taken(IPAddress.TryParse(options.Host, out var address) ? address : IPAddress.Any, options.Port) is not null;
        if (!taken) return;
        throw new TtaConfigurationException(
            $"--port {options.Port}: the remoting port is already in use by {PortOwner.Describe(options.Port) ?? "another process"}. " +
            "Stop that node or give this one another port with --port or TTA_PORT (each node on a host needs its own).");
    }

    /// <summary>
    /// Takes the data directory's lock file for the life of the node (an exclusive lock the system drops when the
    /// process ends, however it ends); refuses, naming the directory and the holder, when another node has it.
    /// </summary>
    public static IDisposable LockDataDirectory(string directory)
    {
        var path = Path.Combine(directory, LockFileName);
        try
        {
            var file = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            file.SetLength(0);
            var pid = System.Text.Encoding.UTF8.GetBytes($"{Environment.ProcessId}\n");
            file.Write(pid);
            file.Flush();
            return file;
        }
        catch (IOException error) when (error is not FileNotFoundException and not DirectoryNotFoundException)
        {
            throw new TtaConfigurationException(
                $"--data {directory}: the data directory is in use by {PortOwner.DescribeFileHolder(path) ?? "another node"} (it holds {path}). " +
                "Two nodes cannot share one data directory: stop that node or give this one its own directory with --data or TTA_DATA.",
                error);
        }
    }
}
