using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace TtaActors.Tests.NodeHost;

/// <summary>The built <c>tta</c> binary run as a real process: <c>dotnet tta.dll ...</c>, output captured.</summary>
public sealed class TtaProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly string? _readyLine;

    private TtaProcess(IEnumerable<string> args, IReadOnlyDictionary<string, string?> environment, string? readyLine)
    {
        _readyLine = readyLine;
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetTempPath(),
        };
        start.ArgumentList.Add(TtaDll);
        foreach (var arg in args) start.ArgumentList.Add(arg);
        // The node must not pick up the developer's settings (a token, a port) from this process.
        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("TTA_", StringComparison.Ordinal)).ToList()) start.Environment.Remove(key);
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        foreach (var (key, value) in environment) start.Environment[key] = value;
        _process = new Process { StartInfo = start, EnableRaisingEvents = true };
        _process.OutputDataReceived += (_, e) => OnLine(_stdout, e.Data);
        _process.ErrorDataReceived += (_, e) => OnLine(_stderr, e.Data);
        _process.Exited += (_, _) =>
        {
            // Waiting again after exit drains the redirected output, so the message shows what the process printed.
            _process.WaitForExit();
            _ready.TrySetException(new InvalidOperationException($"tta exited with {_process.ExitCode} before it was ready.\n{Output}"));
        };
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>The tta.dll built next to this test assembly's configuration (the test project references the runtime, so it is built first).</summary>
    public static string TtaDll
    {
        get
        {
            var configuration = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;
            var directory = new DirectoryInfo(AppContext.BaseDirectory);
            while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "TtaActors.sln"))) directory = directory.Parent;
            if (directory is null) throw new InvalidOperationException("Cannot find the repository root (TtaActors.sln) above the test binaries.");
            var dll = Path.Combine(directory.FullName, "src", "Runtime", "bin", configuration, "net10.0", "tta.dll");
            return File.Exists(dll) ? dll : throw new FileNotFoundException($"Build the runtime first: {dll} is missing.");
        }
    }

    public int Id => _process.Id;
    public bool HasExited => _process.HasExited;
    public int ExitCode => _process.ExitCode;

    public string Stdout
    {
        get { lock (_stdout) return _stdout.ToString(); }
    }

    public string Stderr
    {
        get { lock (_stderr) return _stderr.ToString(); }
    }

    public string Output => $"--- stdout\n{Stdout}--- stderr\n{Stderr}";

    /// <summary>Starts a long-running command and waits until it prints <paramref name="readyLine"/>.</summary>
    public static async Task<TtaProcess> StartAsync(IEnumerable<string> args, IReadOnlyDictionary<string, string?> environment, string readyLine)
    {
        var process = new TtaProcess(args, environment, readyLine);
        try
        {
            await process._ready.Task.WaitAsync(TimeSpan.FromSeconds(90));
        }
        catch
        {
            await process.DisposeAsync();
            throw;
        }
        return process;
    }

    /// <summary>Runs a command to its end.</summary>
    public static async Task<TtaProcess> RunAsync(IEnumerable<string> args, IReadOnlyDictionary<string, string?>? environment = null)
    {
        var process = new TtaProcess(args, environment ?? new Dictionary<string, string?>(), null);
        await process.WaitForExitAsync();
        return process;
    }

    public async Task WaitForExitAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        await _process.WaitForExitAsync(timeout.Token);
    }

    /// <summary>Asks the process to stop the way systemd and docker do.</summary>
    public void Terminate()
    {
        if (Kill(_process.Id, SigTerm) != 0) throw new InvalidOperationException($"kill -TERM {_process.Id} failed: errno {Marshal.GetLastPInvokeError()}.");
    }


    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }

    private void OnLine(StringBuilder into, string? line)
    {
        if (line is null) return;
        lock (into) into.AppendLine(line);
        if (_readyLine is not null && line.Contains(_readyLine, StringComparison.Ordinal)) _ready.TrySetResult();
    }

    private const int SigTerm = 15;

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}
