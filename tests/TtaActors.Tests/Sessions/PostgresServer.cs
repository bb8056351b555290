using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;
using Xunit;

namespace TtaActors.Tests.Sessions;

/// <summary>
/// A real PostgreSQL server for one test run: <c>initdb</c> in a temporary directory, <c>pg_ctl start</c> on a free
/// loopback port, removed on dispose. As root the binaries run as the <c>postgres</c> user (initdb refuses root).
/// </summary>
public sealed class PostgresServer : IAsyncLifetime
{
    private string? _dataDirectory;
    private string? _binDirectory;

    /// <summary>Null when the server is running, else why it could not be started (tests skip with it).</summary>
    public string? Unavailable { get; private set; }

    public int Port { get; private set; }

    public string ConnectionString(string database = "postgres") =>
        $"Host=127.0.0.1;Port={Port};Username=postgres;Database={database};Pooling=true;Timeout=10";

    public async Task InitializeAsync()
    {
        _binDirectory = FindBinDirectory();
        if (_binDirectory is null)
        {
            Unavailable = "PostgreSQL is not installed (initdb and pg_ctl were not found on PATH or in /usr/lib/postgresql/*/bin); " +
                          "install the Debian 'postgresql' package (.ci/run does).";
            return;
        }
        _dataDirectory = Path.Combine(Path.GetTempPath(), $"tta-pg-{Guid.NewGuid():N}");
        Directory.CreateDirectory(_dataDirectory);
        if (IsRoot) await RunAsync("chown", $"postgres {_dataDirectory}", asPostgres: false);
        Port = FreePort();
        await RunAsync(Path.Combine(_binDirectory, "initdb"), $"-D {_dataDirectory} -U postgres --auth=trust -E UTF8 --no-sync", asPostgres: true);
        await StartAsync();
    }

    /// <summary>Starts the server (again) on its port.</summary>
    public Task StartAsync() => RunAsync(Path.Combine(_binDirectory!, "pg_ctl"),
        $"-D {_dataDirectory} -l {_dataDirectory}/server.log -w -t 60 -o \"-p {Port} -k {_dataDirectory} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200\" start",
        asPostgres: true);

    /// <summary>Stops the server at once, as a crash or a network cut would look to its clients.</summary>
    public Task StopAsync() => RunAsync(Path.Combine(_binDirectory!, "pg_ctl"), $"-D {_dataDirectory} -m immediate -w stop", asPostgres: true);

    public async Task<string> CreateDatabaseAsync(string name)
    {
        await using var connection = new NpgsqlConnection(ConnectionString());
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
        await command.ExecuteNonQueryAsync();
        return ConnectionString(name);
    }

    public async Task DisposeAsync()
    {
        if (_dataDirectory is null || _binDirectory is null) return;
        try
        {
            if (File.Exists(Path.Combine(_dataDirectory, "postmaster.pid"))) await StopAsync();
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
        {
            if (File.Exists(Path.Combine(directory, "initdb")) && File.Exists(Path.Combine(directory, "pg_ctl"))) return directory;
        }
        return Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").OrderDescending()
                .Select(version => Path.Combine(version, "bin"))
                .FirstOrDefault(bin => File.Exists(Path.Combine(bin, "initdb")))
            : null;
    }

    private static async Task RunAsync(string file, string arguments, bool asPostgres)
    {
        var start = asPostgres && IsRoot
            ? new ProcessStartInfo("runuser", $"-u postgres -- {file} {arguments}")
            : new ProcessStartInfo(file, arguments);
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

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
