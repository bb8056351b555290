using System.Diagnostics;

namespace TtaActors.Benchmarks.Harness;

/// <summary>
/// One <c>tta node</c> as users run it: its own process, the shipped configuration and nothing else (no extra HOCON),
/// the PostgreSQL journal, the HTTP API on a loopback port. The benchmark talks to it over HTTP only.
/// </summary>
public sealed class TtaNodeProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _dataDirectory;
    private readonly List<(DateTime At, string Line)> _log = [];

    private TtaNodeProcess(string name, int port, int httpPort, Process process, string dataDirectory)
    {
        Name = name;
        Port = port;
        HttpPort = httpPort;
        _process = process;
        _dataDirectory = dataDirectory;
    }

    public string Name { get; }
    public int Port { get; }
    public int HttpPort { get; }
    public Uri Api => new($"http://127.0.0.1:{HttpPort}/");
    public string Address => $"akka.tcp://tta@127.0.0.1:{Port}";
    public bool HasExited => _process.HasExited;

    /// <summary><c>TTA_BENCH_NODE_HOCON</c>: HOCON over the nodes' defaults, to measure another trade-off; null measures the defaults.</summary>
    public static string? NodeHocon => Environment.GetEnvironmentVariable("TTA_BENCH_NODE_HOCON") is { Length: > 0 } hocon ? hocon : null;

    /// <summary>Processor time the node has used so far (every thread).</summary>
    public TimeSpan ProcessorTime
    {
        get
        {
            _process.Refresh();
            return _process.TotalProcessorTime;
        }
    }

    /// <summary>Starts <c>tta node</c> and waits until <c>GET /readyz</c> answers 200 (cluster member up, journal reachable).</summary>
    public static async Task<TtaNodeProcess> StartAsync(string name, string seed, int port, string journal, HttpClient http)
    {
        var data = Path.Combine(Path.GetTempPath(), $"tta-bench-{name}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(data);
        var httpPort = PostgresProcess.FreePort();
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[]
                 {
                     NodeAssembly(), "node", "--host", "127.0.0.1", "--port", port.ToString(), "--http", $"127.0.0.1:{httpPort}",
                     "--metrics-port", "0", "--seed", seed, "--db-provider", "postgres", "--db", journal, "--data", data,
                     "--service-name", "tta-bench-cluster",
                 })
            start.ArgumentList.Add(argument);
        // The shipped defaults, whatever the caller's shell exports.
        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("TTA_", StringComparison.Ordinal)).ToList()) start.Environment.Remove(key);
        // To compare settings against the defaults (e.g. stable-after): TTA_BENCH_NODE_HOCON becomes every node's TTA_HOCON.
        if (NodeHocon is { } hocon) start.Environment["TTA_HOCON"] = hocon;
        var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {name}.");
        var node = new TtaNodeProcess(name, port, httpPort, process, data);
        process.OutputDataReceived += (_, line) => node.Remember(line.Data);
        process.ErrorDataReceived += (_, line) => node.Remember(line.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var deadline = Stopwatch.StartNew();
        while (true)
        {
            if (process.HasExited) throw new InvalidOperationException($"{name} exited with {process.ExitCode} before it was ready:\n{node.Log}");
            try
            {
                using var ready = await http.GetAsync(new Uri(node.Api, "readyz"));
                if (ready.IsSuccessStatusCode) return node;
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }
            if (deadline.Elapsed > TimeSpan.FromSeconds(120)) throw new TimeoutException($"{name} was not ready within 120 s:\n{node.Log}");
            await Task.Delay(200);
        }
    }

    /// <summary>The node's own output so far (start-up report, warnings).</summary>
    public string Log
    {
        get
        {
            lock (_log) return string.Join('\n', _log.TakeLast(40).Select(entry => entry.Line));
        }
    }

    /// <summary>The lines the node printed after <paramref name="since"/> (UTC), each with the seconds since then.</summary>
    public IReadOnlyList<string> LinesSince(DateTime since)
    {
        lock (_log) return _log.Where(entry => entry.At >= since).Select(entry => $"+{(entry.At - since).TotalSeconds:0.0} s {entry.Line}").ToList();
    }

    /// <summary>SIGKILL: no coordinated shutdown, no leaving the cluster; the others find out by failure detection.</summary>
    public void KillHard() => _process.Kill(entireProcessTree: true);

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            // SIGTERM: the node leaves the cluster and flushes like under a process manager.
            Process.Start("kill", ["-TERM", _process.Id.ToString()])?.WaitForExit();
            using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            try
            {
                await _process.WaitForExitAsync(wait.Token);
            }
            catch (OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
            }
        }
        _process.Dispose();
        try
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private void Remember(string? line)
    {
        if (string.IsNullOrWhiteSpace(line)) return;
        lock (_log) _log.Add((DateTime.UtcNow, line));
    }

    private static string NodeAssembly()
    {
        // tests/Benchmarks/bin/{Configuration}/{Framework}/ -> src/Runtime/bin/{Configuration}/{Framework}/tta.dll (a project reference builds it)
        var output = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var root = output.Parent!.Parent!.Parent!.Parent!.Parent!.FullName;
        var path = Path.Combine(root, "src", "Runtime", "bin", output.Parent.Name, output.Name, "tta.dll");
        return File.Exists(path) ? path : throw new FileNotFoundException($"tta node is not built at {path}; build tests/Benchmarks first.", path);
    }
}
