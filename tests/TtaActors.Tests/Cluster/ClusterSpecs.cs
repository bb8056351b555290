using System.Diagnostics;
using System.Text.Json;
using TtaActors.Tests.Sessions;
using Xunit;
using Xunit.Abstractions;

namespace TtaActors.Tests.Cluster;

/// <summary>
/// Node processes on loopback sharing one real PostgreSQL journal: sessions whose node is killed with SIGKILL are served
/// again by the survivors with their full history; a run whose branches execute on another node is one trace.
/// </summary>
public sealed class ClusterSpecs(PostgresServer postgres, ITestOutputHelper output) : IClassFixture<PostgresServer>
{
    private const int Sessions = 1000;
    private static readonly TimeSpan Command = TimeSpan.FromMinutes(3);

    [SkippableFact]
    public async Task Sessions_of_a_killed_node_should_be_served_by_the_survivors_with_their_full_history()
    {
        Skip.If(postgres.Unavailable is not null, postgres.Unavailable);
        var journal = await postgres.CreateDatabaseAsync("cluster_failover");
        var ports = new[] { ClusterNodeProcess.FreePort(), ClusterNodeProcess.FreePort(), ClusterNodeProcess.FreePort() };
        var seed = $"akka.tcp://tta@127.0.0.1:{ports[0]}";
        var nodes = new List<ClusterNodeProcess>();
        try
        {
            for (var i = 0; i < 3; i++) nodes.Add(await ClusterNodeProcess.StartAsync($"node-{(char)('a' + i)}", seed, ports[i], journal, output));
            var (a, b, c) = (nodes[0], nodes[1], nodes[2]);
            await WaitForMembersAsync(a, 3);
            // The first session of a node creates the journal tables and allocates the first shard: not part of the load.
            foreach (var node in nodes) await node.WarmUpAsync(Command);

            output.WriteLine($"created: {await a.OkAsync($"switch s {Sessions} backend-engineer feature-implementation", Command)}");
            output.WriteLine($"switched: {await b.OkAsync($"switch s {Sessions} frontend-dev review", Command)}");
            var onC = JsonSerializer.Deserialize<string[]>(await c.OkAsync("local", Command))!.Where(id => id.StartsWith("s-")).ToArray();
            Assert.NotEmpty(onC);
            Assert.True(onC.Length < Sessions, $"node-c hosts all {onC.Length} sessions; sharding spread nothing");
            output.WriteLine($"node-c hosts {onC.Length} of {Sessions} sessions");

            var failover = Stopwatch.StartNew();
            c.KillHard();
            await a.OkAsync($"check {JsonSerializer.Serialize(onC)} frontend-dev 2 120", Command);
            failover.Stop();
            output.WriteLine($"failover: the {onC.Length} sessions of the killed node were served again after {failover.Elapsed.TotalSeconds:0.0} s");

            var all = JsonSerializer.Serialize(Enumerable.Range(0, Sessions).Select(i => $"s-{i}"));
            await b.OkAsync($"check {all} frontend-dev 2 60", Command);
            await WaitForMembersAsync(a, 2);
            var survivors = JsonSerializer.Deserialize<string[]>(await a.OkAsync("local", Command))!
                .Concat(JsonSerializer.Deserialize<string[]>(await b.OkAsync("local", Command))!).ToHashSet();
            Assert.Subset(survivors, onC.ToHashSet());
        }
        finally
        {
            foreach (var node in nodes) await node.DisposeAsync();
        }
    }

    [SkippableFact]
    public async Task A_run_started_on_one_node_whose_branches_execute_on_another_should_be_one_trace_tree()
    {
        Skip.If(postgres.Unavailable is not null, postgres.Unavailable);
        var journal = await postgres.CreateDatabaseAsync("cluster_trace");
        var ports = new[] { ClusterNodeProcess.FreePort(), ClusterNodeProcess.FreePort() };
        var seed = $"akka.tcp://tta@127.0.0.1:{ports[0]}";
        await using var a = await ClusterNodeProcess.StartAsync("node-a", seed, ports[0], journal, output);
        await using var b = await ClusterNodeProcess.StartAsync("node-b", seed, ports[1], journal, output);
        await WaitForMembersAsync(a, 2);

        var branchesRoot = await b.OkAsync("host-branches", Command);
        Assert.Contains($":{ports[1]}/", branchesRoot);
        var run = (await a.OkAsync($"run-remote {branchesRoot}", Command)).Split(' ', 3);
        var (traceId, rootSpanId, result) = (run[0], run[1], run[2]);
        Assert.Equal("[\"HELLO\",5]", result);

        var onA = JsonSerializer.Deserialize<SpanRecord[]>(await a.OkAsync($"spans {traceId}", Command))!;
        var onB = JsonSerializer.Deserialize<SpanRecord[]>(await b.OkAsync($"spans {traceId}", Command))!;
        var root = Assert.Single(onA);
        Assert.Equal(("workflow.cross-node", rootSpanId), (root.DisplayName, root.SpanId));
        Assert.Equal(["primitive.ParallelPrimitive", "primitive.length", "primitive.upper"], onB.Select(span => span.DisplayName).Order());

        // One tree: node B's top span hangs under node A's root, every other span under a span of the trace.
        var parallel = onB.Single(span => span.DisplayName == "primitive.ParallelPrimitive");
        Assert.Equal(rootSpanId, parallel.ParentSpanId);
        Assert.All(onB.Where(span => span != parallel), branch => Assert.Equal(parallel.SpanId, branch.ParentSpanId));
        Assert.All(onB, span => Assert.Equal("backend-engineer", span.Persona));
    }

    private sealed record SpanRecord(string DisplayName, string SpanId, string ParentSpanId, string? Persona);

    private static async Task WaitForMembersAsync(ClusterNodeProcess node, int count)
    {
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (true)
        {
            var up = int.Parse(await node.OkAsync("members", TimeSpan.FromSeconds(30)));
            if (up == count) return;
            if (DateTime.UtcNow > deadline) throw new Xunit.Sdk.XunitException($"{node.Name} sees {up} members up, not {count}, after 2 minutes.");
            await Task.Delay(250);
        }
    }
}
