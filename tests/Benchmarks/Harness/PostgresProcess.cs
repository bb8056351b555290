using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace TtaActors.Benchmarks.Harness;

/// <summary>
/// The PostgreSQL server of the scenarios that need one: <c>TTA_BENCH_PG</c> (a connection string to a server the
/// caller runs), else a throw-away server (<c>initdb</c> in a temporary directory, <c>pg_ctl start</c> on a free
/// loopback port, fsync off, removed on dispose). As root the binaries run as the <c>postgres</c> user.
/// </summary>
public sealed class PostgresProcess : IAsyncDisposable
{
    private readonly string? _dataDirectory;
    private readonly string? _binDirectory;
    private readonly NpgsqlConnectionStringBuilder _server;

    private PostgresProcess(NpgsqlConnectionStringBuilder server, string? dataDirectory, string? binDirectory)
    {
        _server = server;
        _dataDirectory = dataDirectory;
        _binDirectory = binDirectory;
    }

    /// <summary>Where the server is, for the report (no password).</summary>
    public string Description => _dataDirectory is null ? $"TTA_BENCH_PG {_server.Host}:{_server.Port}" : $"throw-away server on 127.0.0.1:{_server.Port}";

    /// <summary>Starts (or connects to) the server; fails naming what is missing.</summary>
    public static async Task<PostgresProcess> StartAsync()
    {
        if (Environment.GetEnvironmentVariable("TTA_BENCH_PG") is { Length: > 0 } given)
            return new PostgresProcess(new NpgsqlConnectionStringBuilder(given), null, null);
        var bin = FindBinDirectory() ?? throw new InvalidOperationException(
            "PostgreSQL is not installed (initdb and pg_ctl were not found on PATH or in /usr/lib/postgresql/*/bin); install the " +
            "Debian 'postgresql' package or set TTA_BENCH_PG to a server's connection string.");
        var data = Path.Combine(Path.GetTempPath(), $"tta-bench-pg-{Guid.NewGuid():N}");
        Directory.CreateDirectory(data);
        if (IsRoot) await RunAsync("chown", $"postgres {data}", asPostgres: false);
        var port = FreePort();
        await RunAsync(Path.Combine(bin, "initdb"), $"-D {data} -U postgres --auth=trust -E UTF8 --no-sync", asPostgres: true);
        await RunAsync(Path.Combine(bin, "pg_ctl"),
            $"-D {data} -l {data}/server.log -w -t 60 -o \"-p {port} -k {data} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300\" start",
            asPostgres: true);
        var server = new NpgsqlConnectionStringBuilder { Host = "127.0.0.1", Port = port, Username = "postgres", Database = "postgres" };
        return new PostgresProcess(server, data, bin);
    }

    /// <summary>Creates an empty database (dropping one of that name first) and returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync(string name)
    {
        await using (var connection = new NpgsqlConnection(_server.ConnectionString))
        {
            await connection.OpenAsync();
            await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)", connection);
            await drop.ExecuteNonQueryAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
            await create.ExecuteNonQueryAsync();
        }
        return new NpgsqlConnectionStringBuilder(_server.ConnectionString) { Database = name, Timeout = 10 }.ConnectionString;
    }

    public async ValueTask DisposeAsync()
    {
        if (_dataDirectory is null || _binDirectory is null) return;
        try
        {
            await RunAsync(Path.Combine(_binDirectory, "pg_ctl"), $"-D {_dataDirectory} -m immediate -w stop", asPostgres: true);
        }
        finally
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
    }

    private static bool IsRoot => Environment.UserName == "root";

    private static string? FindBinDirectory()
    {
        foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator))
            if (File.Exists(Path.Combine(directory, "initdb")) && File.Exists(Path.Combine(directory, "pg_ctl"))) return directory;
        return Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").OrderDescending()
                .Select(version => Path.Combine(version, "bin"))
                .FirstOrDefault(bin => File.Exists(Path.Combine(bin, "initdb")))
            : null;
    }

    private static async Task RunAsync(string file, string arguments, bool asPostgres)
    {
        var start = asPostgres && IsRoot ? new ProcessStartInfo("runuser", $"-u postgres -- {file} {arguments}") : new ProcessStartInfo(file, arguments);
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.WorkingDirectory = Path.GetTempPath();
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {file}.");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{Path.GetFileName(file)} {arguments} exited with {process.ExitCode}: {await error}{await output}");
    }

    private static readonly HashSet<int> HandedOut = [];

    /// <summary>
    /// A loopback port free now and not handed out before in this process: the operating system may offer a port
    /// again once its probe closed, before the node it was meant for has bound it.
    /// </summary>
    public static int FreePort()
    {
        while (true)
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            lock (HandedOut)
            {
                if (HandedOut.Add(port)) return port;
            }
        }
    }
}
