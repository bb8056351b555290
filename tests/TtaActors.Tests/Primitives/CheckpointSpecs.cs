using TtaActors.Actors.Context;
using TtaActors.Actors.Execution;
using TtaActors.Actors.Primitives;

namespace TtaActors.Tests.Primitives;

/// <summary>
/// Timing checkpoints, recorded when a run asks for them, with the names and in the order the original library records
/// them: <c>{name}.start</c> and <c>{name}.end</c> around every primitive, and each primitive's own in between.
/// </summary>
public class CheckpointSpecs : PrimitiveSpec
{
    private static readonly RunOptions Recording = new() { RecordCheckpoints = true, Timeout = TimeSpan.FromSeconds(30) };

    private static LambdaPrimitive Step(string name) => Lambda.From<int, int>(x => x + 1, name);

    /// <param name="inTimeOrder">Whether the list is in time order too (parallel branches record on their own clocks).</param>
    private async Task<List<string>> CheckpointsOf(Primitive definition, bool inTimeOrder = true)
    {
        var result = await Materialize(definition).RunAsync(1, WorkflowContext.Create(), Recording);
        var stamps = result.Context.Checkpoints.Select(c => c.Timestamp).ToList();
        if (inTimeOrder) Assert.True(stamps.SequenceEqual(stamps.OrderBy(t => t)), string.Join(", ", result.Context.Checkpoints.Select(c => c.Name)));
        return result.Context.Checkpoints.Select(c => c.Name).ToList();
    }

    [Fact]
    public async Task Checkpoints_should_be_off_unless_the_run_asks_for_them()
    {
        var result = await Run(Step("a") >> Step("b"), 1);

        Assert.Empty(result.Context.Checkpoints);
    }

    [Fact]
    public async Task Sequential_should_record_each_step_around_the_step_s_own_checkpoints() =>
        Assert.Equal(
        [
            "SequentialPrimitive.start",
            "sequential.step_0.start", "a.start", "a.end", "sequential.step_0.end",
            "sequential.step_1.start", "b.start", "b.end", "sequential.step_1.end",
            "SequentialPrimitive.end",
        ], await CheckpointsOf(Step("a") >> Step("b")));

    [Fact]
    public async Task Parallel_should_record_fan_out_every_branch_and_fan_in()
    {
        var names = await CheckpointsOf(Step("a") | Step("b"), inTimeOrder: false);

        Assert.Equal(["ParallelPrimitive.start", "parallel.fan_out", "parallel.branch_0.start", "parallel.branch_1.start"], names.Take(4));
        Assert.Equal(["parallel.fan_in", "ParallelPrimitive.end"], names.TakeLast(2));
        foreach (var (branch, step) in new[] { (0, "a"), (1, "b") })
        {
            Assert.True(names.IndexOf($"{step}.start") < names.IndexOf($"{step}.end"));
            Assert.Equal(names.IndexOf($"{step}.end") + 1, names.IndexOf($"parallel.branch_{branch}.end"));
        }
        Assert.Equal(12, names.Count);
    }

    [Fact]
    public async Task Retry_should_record_every_attempt_and_backoff_and_keep_the_failed_attempt_s_checkpoints()
    {
        var calls = 0;
        var flaky = Lambda.From<int, int>(x => ++calls == 1 ? throw new TimeoutException("once") : x, "flaky");

        Assert.Equal(
        [
            "RetryPrimitive.start", "retry.start",
            "retry.attempt_0.start", "flaky.start", "flaky.end", "retry.attempt_0.end",
            "retry.backoff_0.start", "retry.backoff_0.end",
            "retry.attempt_1.start", "flaky.start", "flaky.end", "retry.attempt_1.end",
            "retry.end", "RetryPrimitive.end",
        ], await CheckpointsOf(new RetryPrimitive(flaky, new RetryPolicy { MaxBackoff = 0 })));
    }

    [Fact]
    public async Task Fallback_should_record_the_primary_then_the_fallback() =>
        Assert.Equal(
        [
            "FallbackPrimitive.start", "fallback.start",
            "fallback.primary.start", "primary.start", "primary.end", "fallback.primary.end",
            "fallback.fallback.start", "backup.start", "backup.end", "fallback.fallback.end",
            "fallback.end", "FallbackPrimitive.end",
        ], await CheckpointsOf(new FallbackPrimitive(
            Lambda.From<int, int>(_ => throw new InvalidOperationException("down"), "primary"), Step("backup"))));

    [Theory]
    [InlineData(true, "then")]
    [InlineData(false, "else")]
    public async Task Conditional_should_record_the_condition_and_the_branch_taken(bool holds, string branch) =>
        Assert.Equal(
        [
            "ConditionalPrimitive.start", "conditional.start",
            "conditional.condition_eval.start", "conditional.condition_eval.end",
            $"conditional.branch_{branch}.start", $"{branch}-step.start", $"{branch}-step.end", $"conditional.branch_{branch}.end",
            "conditional.end", "ConditionalPrimitive.end",
        ], await CheckpointsOf(new ConditionalPrimitive((_, _) => holds, Step("then-step"), Step("else-step"))));

    [Fact]
    public async Task Conditional_passing_through_should_record_no_branch() =>
        Assert.Equal(
        [
            "ConditionalPrimitive.start", "conditional.start",
            "conditional.condition_eval.start", "conditional.condition_eval.end",
            "conditional.end", "ConditionalPrimitive.end",
        ], await CheckpointsOf(new ConditionalPrimitive((_, _) => false, Step("then-step"))));

    [Theory]
    [InlineData("fast", "switch.case_fast", "fast-step")]
    [InlineData("unknown", "switch.default", "default-step")]
    public async Task Switch_should_record_the_selector_and_the_case_taken(string key, string checkpoint, string step) =>
        Assert.Equal(
        [
            "SwitchPrimitive.start", "switch.start",
            "switch.selector_eval.start", "switch.selector_eval.end",
            $"{checkpoint}.start", $"{step}.start", $"{step}.end", $"{checkpoint}.end",
            "switch.end", "SwitchPrimitive.end",
        ], await CheckpointsOf(new SwitchPrimitive((_, _) => key,
            new Dictionary<string, Primitive> { ["fast"] = Step("fast-step") }, Step("default-step"))));

    [Fact]
    public async Task Saga_should_record_the_forward_step_and_its_compensation_on_the_failed_run() =>
        Assert.Equal(
        [
            "SagaPrimitive.start", "saga.start",
            "saga.forward.start", "book.start", "book.end", "saga.forward.end",
            "saga.compensation.start", "unbook.start", "unbook.end", "saga.compensation.end",
            "saga.end", "SagaPrimitive.end",
        ], await CheckpointsOf(new SagaPrimitive(
            Lambda.From<int, int>(_ => throw new InvalidOperationException("no seats"), "book"), Step("unbook"))));
}
