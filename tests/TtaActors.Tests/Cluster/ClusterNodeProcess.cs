using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using Xunit.Abstractions;

namespace TtaActors.Tests.Cluster;

/// <summary>
/// One cluster node as a separate process (tests/TtaActors.ClusterNode), driven by one command per line; answers are
/// the lines it prints starting with <c>@@ </c>.
/// </summary>
public sealed class ClusterNodeProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly Channel<string> _answers = Channel.CreateUnbounded<string>();
    private readonly ITestOutputHelper _output;

    private ClusterNodeProcess(string name, int port, Process process, ITestOutputHelper output)
    {
        Name = name;
        Port = port;
        _process = process;
        _output = output;
    }

    public string Name { get; }
    public int Port { get; }
    public string Address => $"akka.tcp://tta@127.0.0.1:{Port}";
    public bool HasExited => _process.HasExited;

    public static async Task<ClusterNodeProcess> StartAsync(string name, string seed, int port, string connectionString, ITestOutputHelper output)
    {
        var start = new ProcessStartInfo("dotnet", $"\"{NodeAssembly()}\"")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["TTA_HOST"] = "127.0.0.1";
        start.Environment["TTA_PORT"] = port.ToString();
        start.Environment["TTA_SEED_NODES"] = seed;
        start.Environment["TTA_DB_PROVIDER"] = "postgres";
        start.Environment["TTA_DB"] = connectionString;
        var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start the cluster node process.");
        var node = new ClusterNodeProcess(name, port, process, output);
        process.OutputDataReceived += (_, line) => node.OnLine(line.Data);
        process.ErrorDataReceived += (_, line) =>
        {
            if (!string.IsNullOrWhiteSpace(line.Data)) node.Log($"stderr: {line.Data}");
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var ready = await node.NextAnswerAsync(TimeSpan.FromSeconds(90));
        if (!ready.StartsWith("ok ready", StringComparison.Ordinal)) throw new InvalidOperationException($"{name} did not start: {ready}");
        return node;
    }

    /// <summary>Sends one command and returns its answer without the <c>@@ </c> prefix.</summary>
    public async Task<string> AskAsync(string command, TimeSpan timeout)
    {
        await _process.StandardInput.WriteLineAsync(command);
        await _process.StandardInput.FlushAsync();
        return await NextAnswerAsync(timeout);
    }

    /// <summary>Like <see cref="AskAsync"/>, failing unless the answer starts with <c>ok</c>; returns what follows it.</summary>
    public async Task<string> OkAsync(string command, TimeSpan timeout)
    {
        var answer = await AskAsync(command, timeout);
        if (!answer.StartsWith("ok", StringComparison.Ordinal))
            throw new Xunit.Sdk.XunitException($"{Name} answered '{Truncate(command)}' with: {answer}");
        return answer.Length > 3 ? answer[3..] : "";
    }

    /// <summary>
    /// The first session of a node: it creates the journal tables and has the first shard allocated, which on a
    /// starved machine can outlast the node's 15 s ask timeout. A timeout there is retried (at most four attempts);
    /// any other answer that is not <c>ok</c> fails at once, as with <see cref="OkAsync"/>.
    /// </summary>
    public async Task WarmUpAsync(TimeSpan timeout)
    {
        for (var attempt = 1; ; attempt++)
        {
            var command = $"switch warm-up-{Name} 1 backend-engineer feature-implementation";
            var answer = await AskAsync(command, timeout);
            if (answer.StartsWith("ok", StringComparison.Ordinal)) return;
            if (attempt == 4 || !answer.Contains("TimeoutException", StringComparison.Ordinal))
                throw new Xunit.Sdk.XunitException($"{Name} answered '{command}' with: {answer} (attempt {attempt})");
            Log($"warm-up attempt {attempt} timed out, retrying: {answer}");
        }
    }

    /// <summary>The equivalent of <c>kill -9</c>: no coordinated shutdown, no leaving the cluster.</summary>
    public void KillHard() => _process.Kill(entireProcessTree: true);

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            try
            {
                await _process.StandardInput.WriteLineAsync("exit");
                await _process.StandardInput.FlushAsync();
                using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(20));
                await _process.WaitForExitAsync(wait.Token);
            }
            catch (Exception error) when (error is OperationCanceledException or IOException)
            {
                _process.Kill(entireProcessTree: true);
            }
        }
        _process.Dispose();
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private async Task<string> NextAnswerAsync(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            return await _answers.Reader.ReadAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"{Name} did not answer within {timeout} (exited: {_process.HasExited}).");
        }
        catch (ChannelClosedException)
        {
            throw new InvalidOperationException($"{Name} exited (code {_process.ExitCode}) before answering.");
        }
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            _answers.Writer.TryComplete();
            return;
        }
        if (line.StartsWith("@@ ", StringComparison.Ordinal)) _answers.Writer.TryWrite(line[3..]);
        else if (!string.IsNullOrWhiteSpace(line)) Log(line);
    }

    private void Log(string line)
    {
        try
        {
            _output.WriteLine($"[{Name}] {line}");
        }
        catch (InvalidOperationException)
        {
            // The test has finished; a late line from a node being stopped has nowhere to go.
        }
    }

    private static string Truncate(string text) => text.Length > 80 ? text[..80] + "..." : text;

    private static string NodeAssembly()
    {
        // tests/TtaActors.Tests/bin/{Configuration}/{Framework}/ -> tests/TtaActors.ClusterNode/bin/{Configuration}/{Framework}/
        var testOutput = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var framework = testOutput.Name;
        var configuration = testOutput.Parent!.Name;
        var tests = testOutput.Parent.Parent!.Parent!.Parent!.FullName;
        var path = Path.Combine(tests, "TtaActors.ClusterNode", "bin", configuration, framework, "TtaActors.ClusterNode.dll");
        return File.Exists(path)
            ? path
            : throw new FileNotFoundException($"The cluster node program is not built at {path}; build the solution first.", path);
    }
}
