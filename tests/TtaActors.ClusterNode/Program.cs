using System.Diagnostics;
using System.Text.Json;
using Akka.Actor;
using Akka.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Trace;
using TtaActors.Actors.Context;
using TtaActors.Actors.Execution;
using TtaActors.Actors.Primitives;
using TtaActors.Runtime.Cli;
using TtaActors.Runtime.Cluster;
using TtaActors.Runtime.Hosting;
using TtaActors.Runtime.Sessions;
using TtaActors.Telemetry;

// A cluster node for the multi-node tests: the runtime's cluster, journal and sharded persona sessions, driven by
// one command per line on stdin. Every answer is one line on stdout starting with "@@ ok " or "@@ error ".
// Configuration comes from the TTA_* variables (TTA_HOST, TTA_PORT, TTA_SEED_NODES, TTA_DB_PROVIDER, TTA_DB).

var cluster = TtaClusterOptions.FromEnvironment() with
{
    // Tests kill nodes: notice it within seconds, not the production defaults' tens of seconds.
    ExtraHocon = """
        akka.cluster.failure-detector.acceptable-heartbeat-pause = 3s
        akka.cluster.split-brain-resolver.stable-after = 4s
        akka.cluster.sharding.passivate-idle-entity-after = off
        akka.loglevel = ERROR
        """,
};
var spans = new SpanCollector();
var builder = Host.CreateApplicationBuilder();
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.Services.AddTtaActors(new TtaRuntimeOptions { MetricsPort = 0, ServiceName = "tta-cluster-test" }, tracing => tracing.AddProcessor(spans), akka => akka
    .WithTtaCluster(cluster)
    .WithPersonaSessions(cluster));
builder.Services.AddPersonaSessions();
using var host = builder.Build();
await host.StartAsync();

var system = host.Services.GetRequiredService<ActorSystem>();
var sessions = host.Services.GetRequiredService<ShardedPersonaSessions>();
// Checks retry with a short timeout, so the measured failover time is not rounded up to the default ask timeout.
var probing = new ShardedPersonaSessions(host.Services.GetRequiredService<ActorRegistry>(), TimeSpan.FromSeconds(1));
var akkaCluster = Akka.Cluster.Cluster.Get(system);
Answer("ok ready " + akkaCluster.SelfAddress);

while (Console.ReadLine() is { } line)
{
    var words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
    if (words.Length == 0) continue;
    try
    {
        Answer(words[0] switch
        {
            "members" => "ok " + akkaCluster.State.Members.Count(m => m.Status == Akka.Cluster.MemberStatus.Up),
            "switch" => await SwitchAllAsync(words[1], int.Parse(words[2]), words[3], words[4]),
            "local" => "ok " + JsonSerializer.Serialize(await sessions.LocalSessionIdsAsync()),
            "check" => await CheckAsync(JsonSerializer.Deserialize<string[]>(words[1])!, words[2], int.Parse(words[3]), TimeSpan.FromSeconds(int.Parse(words[4]))),
            "memory" => "ok " + GC.GetTotalMemory(forceFullCollection: true),
            "host-branches" => HostBranches(),
            "run-remote" => await RunRemoteAsync(words[1]),
            "spans" => "ok " + JsonSerializer.Serialize(spans.ForTrace(words[1]).Select(span => new
            {
                span.DisplayName,
                SpanId = span.SpanId.ToHexString(),
                ParentSpanId = span.ParentSpanId.ToHexString(),
                Persona = span.GetTagItem(TelemetryNames.Attributes.Persona) as string,
            })),
            "exit" => "ok bye",
            _ => $"error unknown command '{words[0]}'",
        });
    }
    catch (Exception error)
    {
        Answer($"error {error.GetType().Name}: {error.Message.ReplaceLineEndings(" ")}");
    }
    if (words[0] == "exit") break;
}
await host.StopAsync();
return 0;

// Switches sessions {prefix}-0 .. {prefix}-{count-1} to a persona, 64 at a time.
async Task<string> SwitchAllAsync(string prefix, int count, string persona, string chatMode)
{
    var stopwatch = Stopwatch.StartNew();
    await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = 64 },
        async (i, ct) => await sessions.SwitchPersonaAsync($"{prefix}-{i}", persona, chatMode, ct));
    return $"ok {count} {stopwatch.ElapsedMilliseconds}";
}

// Reads each session until it answers (retrying while its shard moves) and checks its persona and history length.
async Task<string> CheckAsync(string[] ids, string persona, int switches, TimeSpan within)
{
    var stopwatch = Stopwatch.StartNew();
    var deadline = DateTime.UtcNow + within;
    var wrong = new List<string>();
    await Parallel.ForEachAsync(ids, new ParallelOptions { MaxDegreeOfParallelism = 64 }, async (id, ct) =>
    {
        while (true)
        {
            try
            {
                var view = await probing.GetAsync(id, ct);
                if (view.Persona != persona || view.Switches.Count != switches)
                    lock (wrong) wrong.Add($"{id}: {view.Persona} with {view.Switches.Count} switches");
                return;
            }
            catch (TimeoutException) when (DateTime.UtcNow < deadline)
            {
            }
            catch (TimeoutException)
            {
                lock (wrong) wrong.Add($"{id}: not served within {within}");
                return;
            }
        }
    });
    return wrong.Count == 0 ? $"ok {ids.Length} {stopwatch.ElapsedMilliseconds}" : $"error {wrong.Count} wrong: {string.Join("; ", wrong.Take(5))}";
}

// Materialises a Parallel of two branches on this node and answers with the address of its root actor.
string HostBranches()
{
    var runtime = host.Services.GetRequiredService<TtaRuntime>();
    var graph = runtime.Materialize(
        Lambda.From<string, string>(text => text.ToUpperInvariant(), "upper") | Lambda.From<string, int>(text => text.Length, "length"),
        "branches");
    return "ok " + graph.Root.Path.ToStringWithAddress(akkaCluster.SelfAddress);
}

// Starts a run here whose primitives live on another node: the envelope crosses with the run's trace parent.
async Task<string> RunRemoteAsync(string rootPath)
{
    var remote = await system.ActorSelection(rootPath).ResolveOne(TimeSpan.FromSeconds(10));
    var context = WorkflowContext.Create("cross-node", "session-cross", "backend-engineer", "feature-implementation", "tta-cluster-test");
    using var run = TtaInstrumentation.ActivitySource.StartActivity(TelemetryNames.Spans.WorkflowRunPrefix + "cross-node")
                    ?? throw new InvalidOperationException("Tracing is off: no span was started.");
    var answer = await remote.Ask<PrimitiveResult>(replyTo => new WorkflowEnvelope(RunId.New(), WorkflowEnvelope.NextCallId(), "hello",
        context, TraceParent.From(run), run.TraceId.ToHexString(), replyTo), TimeSpan.FromSeconds(30), CancellationToken.None);
    run.Stop();
    return answer is PrimitiveSucceeded ok
        ? $"ok {run.TraceId.ToHexString()} {run.SpanId.ToHexString()} {JsonSerializer.Serialize(ok.Output)}"
        : $"error {((PrimitiveFailed)answer).Failure}";
}

static void Answer(string text) => Console.WriteLine("@@ " + text);
