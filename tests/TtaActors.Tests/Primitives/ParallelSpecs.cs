using TtaActors.Actors.Primitives;

namespace TtaActors.Tests.Primitives;

public class ParallelSpecs : PrimitiveSpec
{
    [Fact]
    public async Task Parallel_should_answer_results_in_branch_order_whatever_order_they_finish_in()
    {
        var release = new TaskCompletionSource();
        var slow = Lambda.FromAsync<int, string>(async (x, _) =>
        {
            await release.Task;
            return $"slow:{x}";
        }, "slow");
        var fast = Lambda.From<int, string>(x =>
        {
            release.TrySetResult();
            return $"fast:{x}";
        }, "fast");

        var result = await Run(slow | fast, 7);

        Assert.True(result.Succeeded, result.Failure?.ToString());
        Assert.Equal(new object?[] { "slow:7", "fast:7" }, (object?[])result.Output!);
    }

    [Fact]
    public async Task Every_branch_should_get_the_same_input()
    {
        var a = new RecordingStep();
        var b = new RecordingStep();
        var c = new RecordingStep();

        await Run(a.Primitive("a") | b.Primitive("b") | c.Primitive("c"), "same");

        Assert.All(new[] { a, b, c }, step => Assert.Equal("same", Assert.Single(step.Calls).Input));
    }

    [Fact]
    public async Task The_first_failing_branch_should_fail_the_whole_parallel()
    {
        var never = new TaskCompletionSource<string>();
        var hanging = Lambda.FromAsync<int, string>((_, _) => never.Task, "hanging");
        var failing = Lambda.From<int, string>(_ => throw new InvalidOperationException("branch broke"), "failing");

        var result = await Run(hanging | failing, 1);

        Assert.False(result.Succeeded);
        Assert.Equal("spec/ParallelPrimitive/failing[1]", result.Failure!.PrimitivePath);
        Assert.IsType<InvalidOperationException>(result.Failure.Exception);
    }

    [Fact]
    public void Pipe_operator_should_flatten_unnamed_parallels()
    {
        var a = Lambda.From<int, int>(x => x, "a");
        var b = Lambda.From<int, int>(x => x, "b");
        var c = Lambda.From<int, int>(x => x, "c");

        Assert.Equal(["a", "b", "c"], (a | b | c).Branches.Select(s => s.DisplayName));
        Assert.Throws<ArgumentException>(() => new ParallelPrimitive([]));
    }
}
