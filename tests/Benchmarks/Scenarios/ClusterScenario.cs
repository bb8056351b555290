using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using TtaActors.Benchmarks.Harness;

namespace TtaActors.Benchmarks.Scenarios;

/// <summary>
/// <c>tta node</c> processes on loopback sharing one PostgreSQL journal, driven over their HTTP API with the defaults a
/// user gets: runs per second of the bundled demo workflow (each run admitted and completed by its persona session)
/// with 1, 2 and 3 nodes; then failover: 200 sessions switched twice, SIGKILL of one of the three nodes, every session
/// polled in parallel on the survivors until each answers with its full history. <c>failover_s</c> is the time from
/// the kill until the last of them did.
/// </summary>
public sealed class ClusterScenario(bool failoverOnly = false) : IScenario
{
    private const int Callers = 64;
    private const int FailoverSessions = 200;
    private const string Workflow = "dev-copilot-demo";
    private const string FinalPersona = "frontend-dev";

    /// <summary>A poll that takes longer than this is abandoned and sent again, as a client with a short timeout would.</summary>
    public static readonly TimeSpan PollTimeout = TimeSpan.FromSeconds(2);

    private static readonly TimeSpan FailoverLimit = TimeSpan.FromSeconds(120);

    public string Name => failoverOnly ? "failover" : "cluster";

    public string Description => failoverOnly
        ? "the failover part of cluster alone: 3 tta nodes, 200 sessions switched twice, SIGKILL of one, time until all are served"
        : "tta node processes on loopback, PostgreSQL journal: runs/s with 1, 2, 3 nodes; SIGKILL failover of 200 sessions";

    public bool OptIn => true;

    public async Task RunAsync(BenchmarkSession session)
    {
        await using var postgres = await PostgresProcess.StartAsync();
        Console.Error.WriteLine($"  PostgreSQL: {postgres.Description}");
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 256, PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
        {
            Timeout = TimeSpan.FromSeconds(60),
        };
        foreach (var size in failoverOnly ? [3] : new[] { 1, 2, 3 })
        {
            var journal = await postgres.CreateDatabaseAsync($"bench_cluster_{size}");
            var nodes = await StartClusterAsync(size, journal, http);
            try
            {
                await SettleAsync(nodes, http);
                if (!failoverOnly) await MeasureRunsAsync(session, nodes, http);
                if (size == 3) await MeasureFailoverAsync(session, nodes, http);
            }
            catch
            {
                foreach (var node in nodes) Console.Error.WriteLine($"--- {node.Name} output:\n{node.Log}");
                throw;
            }
            finally
            {
                foreach (var node in nodes) await node.DisposeAsync();
            }
        }
    }

    private static async Task<List<TtaNodeProcess>> StartClusterAsync(int size, string journal, HttpClient http)
    {
        var ports = Enumerable.Range(0, size).Select(_ => PostgresProcess.FreePort()).ToArray();
        var seed = $"akka.tcp://tta@127.0.0.1:{ports[0]}";
        var nodes = new List<TtaNodeProcess>();
        try
        {
            for (var i = 0; i < size; i++) nodes.Add(await TtaNodeProcess.StartAsync($"node-{(char)('a' + i)}", seed, ports[i], journal, http));
        }
        catch
        {
            foreach (var node in nodes) await node.DisposeAsync();
            throw;
        }
        Console.Error.WriteLine($"  {size} node(s) ready");
        return nodes;
    }

    /// <summary>
    /// Waits until a session on every node answers a switch: each node's journal has created its tables and the
    /// coordinator knows every region. Start-up, not part of any figure.
    /// </summary>
    private static async Task SettleAsync(IReadOnlyList<TtaNodeProcess> nodes, HttpClient http)
    {
        var clock = Stopwatch.StartNew();
        foreach (var node in nodes)
        {
            while (true)
            {
                using var attempt = new CancellationTokenSource(TimeSpan.FromSeconds(20));
                try
                {
                    await SwitchAsync(http, node, $"settle-{node.Name}", "backend-engineer", null, attempt.Token);
                    break;
                }
                catch (Exception error) when (error is InvalidOperationException or HttpRequestException or OperationCanceledException && clock.Elapsed < TimeSpan.FromMinutes(2))
                {
                    Console.Error.WriteLine($"  settling: {node.Name}: {error.Message[..Math.Min(200, error.Message.Length)]}");
                }
            }
        }
        Console.Error.WriteLine($"  cluster of {nodes.Count} settled after {clock.Elapsed.TotalSeconds:0.0} s");
    }

    /// <summary>64 closed-loop callers, spread over the nodes, each running the demo workflow in its own session.</summary>
    private static async Task MeasureRunsAsync(BenchmarkSession session, IReadOnlyList<TtaNodeProcess> nodes, HttpClient http)
    {
        Console.Error.Write($"  cluster            ttaactors        nodes={nodes.Count} x{Callers} ... ");
        var phase = 0; // 0 warm-up, 1 measuring, 2 stopping
        long errors = 0;
        string? lastError = null;
        var histograms = Enumerable.Range(0, Callers).Select(_ => new LatencyHistogram()).ToArray();
        var callers = Enumerable.Range(0, Callers).Select(caller => Task.Run(async () =>
        {
            var node = nodes[caller % nodes.Count];
            var sessionId = $"load-{nodes.Count}-{caller}";
            while (Volatile.Read(ref phase) != 2)
            {
                var current = Volatile.Read(ref phase);
                var started = Stopwatch.GetTimestamp();
                using var response = await http.PostAsJsonAsync(new Uri(node.Api, "runs"),
                    new JsonObject { ["workflow"] = Workflow, ["session"] = sessionId, ["persona"] = "backend-engineer", ["wait"] = true });
                var body = await response.Content.ReadAsStringAsync();
                if (response.IsSuccessStatusCode && body.Contains("\"status\":\"succeeded\"", StringComparison.Ordinal))
                {
                    if (current == 1) histograms[caller].RecordTicks(Stopwatch.GetTimestamp() - started);
                    continue;
                }
                // A session that does not answer in time (503) on an overloaded machine is counted, not fatal; a wrong answer is.
                if (response.StatusCode != HttpStatusCode.ServiceUnavailable)
                    throw new InvalidOperationException($"{node.Name} answered POST /runs with {(int)response.StatusCode}: {body}");
                if (current == 1) Interlocked.Increment(ref errors);
                lastError = body;
            }
        })).ToArray();

        var warmup = TimeSpan.FromSeconds(Math.Max(session.Options.WarmupSeconds, 3));
        var duration = TimeSpan.FromSeconds(Math.Max(session.Options.Seconds, 10));
        await WhileRunning(callers, warmup);
        var cpuBefore = nodes.Sum(n => n.ProcessorTime.TotalMicroseconds);
        var start = Stopwatch.GetTimestamp();
        Volatile.Write(ref phase, 1);
        await WhileRunning(callers, duration);
        Volatile.Write(ref phase, 2);
        var elapsed = Stopwatch.GetElapsedTime(start);
        var cpu = nodes.Sum(n => n.ProcessorTime.TotalMicroseconds) - cpuBefore;
        await Task.WhenAll(callers);

        var all = new LatencyHistogram();
        foreach (var histogram in histograms) all.Add(histogram);
        var runsPerSecond = all.Count / elapsed.TotalSeconds;
        Console.Error.WriteLine($"{Measurement.Format(runsPerSecond)} runs/s{(errors > 0 ? $", {errors} unavailable (503), last: {lastError}" : "")}");
        if (errors > all.Count / 10) throw new InvalidOperationException($"{errors} runs of {all.Count + errors} were refused as unavailable: {lastError}");
        session.Record(new Measurement("cluster", Impl.TtaActors, true, Callers, runsPerSecond, double.NaN,
            all.PercentileMicroseconds(0.50), all.PercentileMicroseconds(0.99), double.NaN, cpu / all.Count)
        {
            Extras = [new("nodes", nodes.Count), new("runs_unavailable", errors)],
        });
    }

    /// <summary>
    /// 200 sessions switched twice (through different nodes), SIGKILL of the youngest node, then every session polled
    /// in parallel on the survivors: served means 200 with the last persona and both switches.
    /// </summary>
    private static async Task MeasureFailoverAsync(BenchmarkSession session, IReadOnlyList<TtaNodeProcess> nodes, HttpClient http)
    {
        var ids = Enumerable.Range(0, FailoverSessions).Select(i => $"failover-{i}").ToArray();
        await Parallel.ForEachAsync(ids.Select((id, i) => (id, i)), new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (item, ct) =>
        {
            await SwitchUntilDoneAsync(http, nodes[item.i % nodes.Count], item.id, "backend-engineer", "feature-implementation", ct);
            await SwitchUntilDoneAsync(http, nodes[(item.i + 1) % nodes.Count], item.id, FinalPersona, "review", ct);
        });
        var before = await Task.WhenAll(ids.Select((id, i) => PollOnceAsync(http, nodes[i % nodes.Count], id, CancellationToken.None)));
        if (before.Any(served => !served)) throw new InvalidOperationException("Not every failover session had its full history before the kill.");

        var victim = nodes[^1];
        var survivors = nodes.Take(nodes.Count - 1).ToArray();
        Console.Error.Write($"  cluster.failover   ttaactors        SIGKILL {victim.Name}, polling {FailoverSessions} sessions ... ");
        var killedAt = DateTime.UtcNow;
        var killed = Stopwatch.StartNew();
        victim.KillHard();
        var servedAfter = new double[ids.Length];
        var interrupted = 0;
        await Task.WhenAll(ids.Select((id, i) => Task.Run(async () =>
        {
            var node = survivors[i % survivors.Length];
            var first = true;
            while (true)
            {
                using var attempt = new CancellationTokenSource(PollTimeout);
                if (await PollOnceAsync(http, node, id, attempt.Token))
                {
                    servedAfter[i] = killed.Elapsed.TotalSeconds;
                    return;
                }
                if (first) Interlocked.Increment(ref interrupted);
                first = false;
                if (killed.Elapsed > FailoverLimit)
                    throw new TimeoutException($"Session {id} was not served with its full history within {FailoverLimit.TotalSeconds} s of the kill.");
                await Task.Delay(100);
            }
        })));
        var failover = servedAfter.Max();
        Array.Sort(servedAfter);
        Console.Error.WriteLine($"{failover:0.0} s");
        // What the survivors said meanwhile (unreachable, the split brain resolver's decision, shards moving), timed from the kill.
        foreach (var node in survivors)
        foreach (var line in node.LinesSince(killedAt).Take(30))
            Console.Error.WriteLine($"    {node.Name} {line[..Math.Min(line.Length, 300)]}");
        var interruptedTimes = servedAfter.Where(t => t > 1.0).ToArray();
        if (interruptedTimes.Length > 0)
            Console.Error.WriteLine($"    sessions served later than 1 s after the kill: first at {interruptedTimes[0]:0.0} s, last at {interruptedTimes[^1]:0.0} s");
        session.Record(new Measurement("cluster.failover", Impl.TtaActors, true, FailoverSessions, double.NaN, double.NaN,
            servedAfter[ids.Length / 2] * 1e6, servedAfter[(int)(ids.Length * 0.99)] * 1e6, double.NaN, double.NaN)
        {
            Extras = [new("nodes", nodes.Count), new("failover_s", failover), new("sessions_interrupted", interrupted)],
        });
 var settings = TtaNodeProcess.NodeHocon is { } hocon ? $"TTA_HOCON '{hocon}'" : "defaults";
        session.Note($"cluster failover: SIGKILL of 1 of 3 tta nodes ({settings}), {interrupted} of {FailoverSessions} sessions interrupted; all served again " +
                     $"with full history after {failover:0.0} s (target 30 s); p50 {servedAfter[ids.Length / 2]:0.0} s after the kill");
    }

    /// <summary>
    /// A switch during set-up, sent again while the cluster answers 503 (a shard still being allocated or handed over
    /// on a loaded machine): a switch to the persona a session already has changes nothing, so sending it again is safe.
    /// </summary>
    private static async Task SwitchUntilDoneAsync(HttpClient http, TtaNodeProcess node, string id, string persona, string chatMode, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                await SwitchAsync(http, node, id, persona, chatMode, ct);
                return;
            }
            catch (InvalidOperationException error) when (error.Message.Contains(" 503:", StringComparison.Ordinal) && clock.Elapsed < TimeSpan.FromMinutes(2))
            {
                Console.Error.WriteLine($"  set-up: {id} again after a 503 from {node.Name}");
            }
        }
    }

    private static async Task SwitchAsync(HttpClient http, TtaNodeProcess node, string id, string persona, string? chatMode, CancellationToken ct)
    {
        using var response = await http.PostAsJsonAsync(new Uri(node.Api, $"sessions/{id}/persona"),
            new JsonObject { ["persona"] = persona, ["chatmode"] = chatMode }, ct);
        if (!response.IsSuccessStatusCode)
            throw new InvalidOperationException($"{node.Name} answered the switch of {id} with {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(ct)}");
    }

    /// <summary>True when the session answers with the last persona and both switches; false on an error, a timeout or another state.</summary>
    private static async Task<bool> PollOnceAsync(HttpClient http, TtaNodeProcess node, string id, CancellationToken ct)
    {
        try
        {
            using var response = await http.GetAsync(new Uri(node.Api, $"sessions/{id}"), ct);
            if (response.StatusCode != HttpStatusCode.OK) return false;
            var view = await response.Content.ReadFromJsonAsync<JsonObject>(ct);
            return (string?)view?["persona"] == FinalPersona && view?["switches"]?.AsArray().Count == 2;
        }
        catch (Exception error) when (error is HttpRequestException or OperationCanceledException)
        {
            return false;
        }
    }

    private static async Task WhileRunning(Task[] callers, TimeSpan period)
    {
        var elapsed = Task.Delay(period);
        var firstFault = Task.WhenAny(callers);
        if (await Task.WhenAny(elapsed, firstFault) == firstFault) await await firstFault;
    }
}
