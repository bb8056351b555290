using Akka.TestKit;
using TtaActors.Tests.Support;
using TtaActors.Actors.Context;
using TtaActors.Actors.Execution;
using TtaActors.Actors.Primitives;

namespace TtaActors.Tests.Primitives;

public class RetrySpecs : PrimitiveSpec
{
    private static readonly RetryPolicy NoWait = new() { MaxBackoff = 0 };

    [Theory]
    [InlineData(3, 4)]
    [InlineData(0, 1)]
    [InlineData(1, 2)]
    public async Task Retry_should_give_up_after_max_retries_plus_one_attempts(int maxRetries, int expectedCalls)
    {
        var step = new RecordingStep(failures: int.MaxValue);

        var result = await Run(new RetryPrimitive(step.Primitive(), NoWait with { MaxRetries = maxRetries }), "x");

        Assert.False(result.Succeeded);
        Assert.Equal(expectedCalls, step.CallCount);
    }

    [Fact]
    public async Task Retry_should_answer_the_first_success()
    {
        var step = new RecordingStep(failures: 2);

        var result = await Run(new RetryPrimitive(step.Primitive(), NoWait), "x");

        Assert.True(result.Succeeded);
        Assert.Equal("ok:x", result.Output);
        Assert.Equal(3, step.CallCount);
    }

    [Fact]
    public async Task Retry_should_give_the_same_input_and_context_to_every_attempt()
    {
        var step = new RecordingStep(failures: 3);
        var context = WorkflowContext.Create(persona: "backend-engineer").WithState("k", "v");

        await Run(new RetryPrimitive(step.Primitive(), NoWait), "same", context);

        Assert.Equal(4, step.Calls.Count);
        Assert.All(step.Calls, call => Assert.Equal("same", call.Input));
        Assert.Single(step.Calls.Select(c => c.Context).Distinct());
        Assert.Equal("v", step.Calls[0].Context.State["k"]);
    }

    [Fact]
    public async Task Retry_should_raise_the_last_error_with_its_original_type()
    {
        var calls = 0;
        var step = Lambda.From<string, string>(_ => ++calls < 4
            ? throw new TimeoutException($"attempt {calls}")
            : throw new UnauthorizedAccessException($"attempt {calls}"), "flaky");

        var result = await Run(new RetryPrimitive(step, NoWait), "x");

        var error = Assert.IsType<UnauthorizedAccessException>(result.Failure!.Exception);
        Assert.Equal("attempt 4", error.Message);
        Assert.Equal(typeof(UnauthorizedAccessException).FullName, result.Failure.ErrorType);

        var thrown = await Assert.ThrowsAsync<WorkflowFailedException>(() =>
            Materialize(new RetryPrimitive(Lambda.From<string, string>(_ => throw new FormatException("nope"), "bad"), NoWait))
                .ExecuteAsync("x"));
        Assert.IsType<FormatException>(thrown.InnerException);
    }

    [Fact]
    public async Task Retry_should_not_retry_errors_its_predicate_rejects()
    {
        var step = new RecordingStep(failures: int.MaxValue, error: () => new ArgumentException("permanent"));

        var result = await Run(new RetryPrimitive(step.Primitive(), NoWait.RetryOn<TimeoutException>()), "x");

        Assert.IsType<ArgumentException>(result.Failure!.Exception);
        Assert.Equal(1, step.CallCount);
    }

    [Theory]
    [InlineData(0, 1.0)]
    [InlineData(1, 2.0)]
    [InlineData(3, 8.0)]
    [InlineData(5, 32.0)]
    [InlineData(6, 60.0)]
    [InlineData(10, 60.0)]
    public void Backoff_without_jitter_should_be_base_to_the_power_n_capped_at_max(int retry, double seconds)
    {
        var policy = new RetryPolicy { BackoffBase = 2, MaxBackoff = 60, Jitter = false };
        Assert.Equal(TimeSpan.FromSeconds(seconds), policy.DelayBefore(retry, new Random(1)));
    }

    [Fact]
    public void Backoff_with_jitter_should_scale_the_capped_delay_by_half_plus_a_random_fraction()
    {
        var policy = new RetryPolicy { BackoffBase = 2, MaxBackoff = 60, Jitter = true };
        var expectedFactor = 0.5 + new Random(42).NextDouble();

        Assert.Equal(8.0 * expectedFactor, policy.DelayBefore(3, new Random(42)).TotalSeconds, 6);
        Assert.Equal(60.0 * expectedFactor, policy.DelayBefore(9, new Random(42)).TotalSeconds, 6);
        var samples = Enumerable.Range(0, 200).Select(i => policy.DelayBefore(2, new Random(i)).TotalSeconds).ToList();
        Assert.All(samples, s => Assert.InRange(s, 2.0, 6.0));
        Assert.True(samples.Distinct().Count() > 100, "jitter should spread the delays");
    }

    [Fact]
    public void Retry_should_refuse_negative_settings()
    {
        var step = Lambda.From<int, int>(x => x);
        Assert.Throws<ArgumentOutOfRangeException>(() => new RetryPrimitive(step, maxRetries: -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RetryPrimitive(step, new RetryPolicy { MaxBackoff = -1 }));
    }
}

/// <summary>Backoff delays wait on the actor scheduler: with a test scheduler, nothing happens until time is advanced.</summary>
public class RetryBackoffSchedulerSpecs() : PrimitiveSpec(SignallingTestScheduler.Hocon)
{
    [Fact]
    public async Task Retry_should_wait_the_backoff_on_the_actor_scheduler_before_the_next_attempt()
    {
        var scheduler = (SignallingTestScheduler)Sys.Scheduler;
        var step = new RecordingStep(failures: 2);
        var policy = new RetryPolicy { BackoffBase = 2, MaxBackoff = 60, Jitter = false };
        var run = Materialize(new RetryPrimitive(step.Primitive(), policy)).RunAsync("x");

        // A timer that fires early would only make the retry actor call the step later, so "not yet" is read from
        // the scheduler (which delivers due tells inside Advance), never from the step's call count.
        AwaitCondition(() => scheduler.ScheduledTells == 1);   // attempt 0 failed and its backoff timer exists
        scheduler.Advance(TimeSpan.FromMilliseconds(999));
        Assert.Equal(0, scheduler.FiredTells);
        scheduler.Advance(TimeSpan.FromMilliseconds(1));       // retry 0 waits 2^0 = 1 s
        Assert.Equal(1, scheduler.FiredTells);
        AwaitCondition(() => scheduler.ScheduledTells == 2);   // attempt 1 failed and its backoff timer exists
        Assert.Equal(2, step.CallCount);
        scheduler.Advance(TimeSpan.FromMilliseconds(1999));
        Assert.Equal(1, scheduler.FiredTells);
        scheduler.Advance(TimeSpan.FromMilliseconds(1));       // retry 1 waits 2^1 = 2 s
        Assert.Equal(2, scheduler.FiredTells);

        var result = await run.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(result.Succeeded);
        Assert.Equal(3, step.CallCount);
    }
}
