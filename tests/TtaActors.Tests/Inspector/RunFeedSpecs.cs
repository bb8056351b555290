using TtaActors.Actors.Execution;
using TtaActors.Actors.Primitives;
using TtaActors.Runtime.Hosting;
using TtaActors.Runtime.Inspector;
using TtaActors.Runtime.Runs;
using TtaActors.Runtime.Workflows;
using TtaActors.Tests.Primitives;

namespace TtaActors.Tests.Inspector;

/// <summary>The node-wide run feed: every start and finish reaches each follower, within its bounds.</summary>
public sealed class RunFeedSpecs : PrimitiveSpec
{
    private RunService Runs()
    {
        var registry = new WorkflowRegistry(new WorkflowStepServices(new HttpClient(), _ => null,
            (definition, name) => WorkflowGraph.Materialize(Sys, definition, name)));
        registry.Register("echo", Lambda.From<object?, string>(_ => "ok", "same"));
        return new RunService(registry, sessions: null, new TtaRuntimeOptions());
    }

    [Fact]
    public async Task Feed_hands_each_follower_the_start_and_the_finish_of_a_run()
    {
        var runs = Runs();
        using var feed = new RunFeed(runs);
        using var follower = feed.Subscribe()!;
        var (started, completion) = await runs.StartAsync(new RunRequest("echo", System.Text.Json.Nodes.JsonValue.Create("x")));
        await completion;

        Assert.True(follower.Reader.TryRead(out var first));
        Assert.Equal((started.RunId, RunStatus.Running), (first.RunId, first.Status));
        Assert.True(follower.Reader.TryRead(out var second));
        Assert.Equal((started.RunId, RunStatus.Succeeded), (second.RunId, second.Status));
    }

    [Fact]
    public void Feed_takes_followers_up_to_its_bound_and_a_leaving_one_frees_a_place()
    {
        using var feed = new RunFeed(Runs());
        var followers = Enumerable.Range(0, RunFeed.MaxSubscribers).Select(_ => feed.Subscribe()).ToList();
        Assert.All(followers, Assert.NotNull);
        Assert.Null(feed.Subscribe());

        followers[0]!.Dispose();
        Assert.NotNull(feed.Subscribe());
        Assert.Equal(RunFeed.MaxSubscribers, feed.Subscribers);
    }

    [Fact]
    public async Task A_follower_that_does_not_read_keeps_the_latest_updates_up_to_its_capacity()
    {
        var runs = Runs();
        using var feed = new RunFeed(runs);
        using var follower = feed.Subscribe()!;
        var last = "";
        for (var i = 0; i < RunFeed.SubscriberCapacity; i++)
        {
            var (started, completion) = await runs.StartAsync(new RunRequest("echo", System.Text.Json.Nodes.JsonValue.Create("x")));
            await completion;
            last = started.RunId;
        }

        Assert.Equal(RunFeed.SubscriberCapacity, follower.Reader.Count);
        RunRecord? newest = null;
        while (follower.Reader.TryRead(out var update)) newest = update;
        Assert.Equal((last, RunStatus.Succeeded), (newest!.RunId, newest.Status));
    }
}
