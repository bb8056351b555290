using TtaActors.Actors.Context;
using TtaActors.Actors.Execution;
using TtaActors.Actors.Primitives;

namespace TtaActors.Tests.Primitives;

public class CompositionSpecs : PrimitiveSpec
{
    [Fact]
    public async Task Step_then_two_branches_then_final_should_give_final_of_both_branch_results()
    {
        var step = Lambda.From<string, string>(s => s.ToUpperInvariant(), "step");
        var b1 = Lambda.From<string, string>(s => $"b1({s})", "b1");
        var b2 = Lambda.From<string, string>(s => $"b2({s})", "b2");
        var final = Lambda.From<object?[], string>(parts => $"final: [{string.Join(", ", parts)}]", "final");

        var result = await Run(step >> (b1 | b2) >> final, "x");

        Assert.Equal("final: [b1(X), b2(X)]", result.Output);
    }

    [Fact]
    public async Task Many_concurrent_runs_through_one_graph_should_never_mix_their_state()
    {
        var graph = Materialize(
            Lambda.FromAsync<int, int>(async (x, _) =>
            {
                await Task.Yield();
                return x * 10;
            }, "times-ten")
            >> (Lambda.From<int, int>(x => x + 1, "plus-one") | Lambda.From<int, int>(x => x + 2, "plus-two"))
            >> new RetryPrimitive(Lambda.From<object?[], int>(parts => (int)parts[0]! + (int)parts[1]!, "sum"), maxRetries: 1));

        var runs = Enumerable.Range(0, 200).Select(i => graph.RunAsync(i)).ToArray();
        var results = await Task.WhenAll(runs);

        for (var i = 0; i < results.Length; i++) Assert.Equal(i * 20 + 3, results[i].Output);
    }

    [Fact]
    public async Task A_run_past_its_deadline_should_fail_with_a_deadline_error_instead_of_hanging()
    {
        var never = Lambda.FromAsync<int, int>(async (x, ct) =>
        {
            await Task.Delay(Timeout.Infinite, ct);
            return x;
        }, "never");

        var result = await Materialize(never).RunAsync(1, null, new RunOptions { Timeout = TimeSpan.FromMilliseconds(200) });

        Assert.False(result.Succeeded);
        Assert.True(result.Failure!.Exception is WorkflowDeadlineExceededException or OperationCanceledException,
            $"unexpected {result.Failure}");
    }

    [Fact]
    public async Task Cancelling_a_run_should_reach_the_leaf_step_token()
    {
        var started = new TaskCompletionSource();
        var sawCancellation = new TaskCompletionSource<bool>();
        var step = Lambda.FromAsync<int, int>(async (x, ct) =>
        {
            ct.Register(() => sawCancellation.TrySetResult(true));
            started.SetResult();
            await Task.Delay(Timeout.Infinite, ct);
            return x;
        }, "waits");
        using var cancel = new CancellationTokenSource();

        var run = Materialize(step).RunAsync(1, WorkflowContext.Create(), new RunOptions { Cancellation = cancel.Token });
        await started.Task;
        cancel.Cancel();
        var result = await run;

        Assert.IsAssignableFrom<OperationCanceledException>(result.Failure!.Exception);
        Assert.True(await sawCancellation.Task);
    }

    [Fact]
    public async Task An_input_of_the_wrong_type_should_fail_with_a_message_naming_the_step_and_types()
    {
        var result = await Run(Lambda.From<int, int>(x => x, "needs-int"), "text");

        Assert.IsType<InvalidCastException>(result.Failure!.Exception);
        Assert.Contains("'needs-int' expects Int32 but was given String", result.Failure.Message);
    }
}
