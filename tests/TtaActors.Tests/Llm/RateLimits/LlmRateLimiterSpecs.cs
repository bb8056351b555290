using Akka.Configuration;
using TtaActors.Actors.Llm;
using TtaActors.Actors.Llm.RateLimits;
using TtaActors.Telemetry;

namespace TtaActors.Tests.Llm.RateLimits;

/// <summary>The token buckets on a virtual clock, and how rate limits are read from HOCON and the environment.</summary>
public sealed class LlmRateLimiterSpecs
{
    private static readonly Func<string, string?> NoEnvironment = _ => null;

    private static LlmRateLimiter Limiter(TimerSignallingTimeProvider time, params LlmRateLimit[] limits) =>
        new(new LlmRateLimitOptions { Limits = limits }, time);

    [Fact]
    public async Task Requests_per_minute_should_hold_the_call_past_the_burst_until_one_request_has_refilled()
    {
        var time = new TimerSignallingTimeProvider();
        var limiter = Limiter(time, new LlmRateLimit("openai", "gpt-4o-mini", 2, null));
        var waits = new List<(string Reason, TimeSpan Wait)>();

        Assert.NotNull(await limiter.AcquireAsync("openai", "gpt-4o-mini", 10, null, (r, w) => waits.Add((r, w)), default));
        Assert.NotNull(await limiter.AcquireAsync("openai", "gpt-4o-mini", 10, null, (r, w) => waits.Add((r, w)), default));
        var third = limiter.AcquireAsync("openai", "gpt-4o-mini", 10, null, (r, w) => waits.Add((r, w)), default).AsTask();

        await time.WaitForTimer(TimeSpan.FromSeconds(30));
        time.Advance(TimeSpan.FromSeconds(29));
        Assert.False(third.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.NotNull(await third.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal((TelemetryNames.LlmRateLimits.RequestsPerMinute, TimeSpan.FromSeconds(30)), Assert.Single(waits));
    }

    [Fact]
    public async Task Another_model_of_the_provider_should_have_buckets_of_its_own()
    {
        var time = new TimerSignallingTimeProvider();
        var limiter = Limiter(time, new LlmRateLimit("openai", null, 1, null));

        Assert.NotNull(await limiter.AcquireAsync("openai", "gpt-4o-mini", 10, null, null, default));
        var other = limiter.AcquireAsync("openai", "gpt-4o", 10, null, null, default);

        Assert.True(other.IsCompleted);
        Assert.Null(await limiter.AcquireAsync("anthropic", "claude-haiku-4-5", 10, null, null, default));
    }

    [Fact]
    public async Task Settling_should_swap_the_estimate_for_the_reported_tokens()
    {
        var time = new TimerSignallingTimeProvider();
        var limiter = Limiter(time, new LlmRateLimit("openai", "gpt-4o-mini", null, 600));

        var first = await limiter.AcquireAsync("openai", "gpt-4o-mini", 500, null, null, default);
        first!.Settle(100);
        var second = limiter.AcquireAsync("openai", "gpt-4o-mini", 450, null, null, default);

        // 600 - 100 used leaves 500: the 450 go at once. Without the settlement 100 would be left and it would wait.
        Assert.True(second.IsCompleted);
        var third = limiter.AcquireAsync("openai", "gpt-4o-mini", 250, null, null, default).AsTask();
        // 50 left, 200 short at 600 a minute: 20 s.
        await time.WaitForTimer(TimeSpan.FromSeconds(20));
        time.Advance(TimeSpan.FromSeconds(19));
        Assert.False(third.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.NotNull(await third.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task A_call_larger_than_the_tokens_per_minute_limit_should_fail_at_once()
    {
        var limiter = Limiter(new TimerSignallingTimeProvider(), new LlmRateLimit("anthropic", "claude-haiku-4-5", null, 1000));

        Assert.NotNull(await limiter.AcquireAsync("anthropic", "claude-haiku-4-5", 1000, null, null, default));
        var error = await Assert.ThrowsAsync<LlmRateLimitException>(() =>
            limiter.AcquireAsync("anthropic", "claude-haiku-4-5", 1001, null, null, default).AsTask());

        Assert.Equal(TelemetryNames.LlmRateLimits.TokensPerMinute, error.Reason);
        Assert.Contains("estimated at 1001 tokens, more than its limit of 1000 tokens per minute", error.Message);
    }

    [Fact]
    public async Task A_wait_past_the_deadline_should_fail_at_once_and_give_its_request_back()
    {
        var time = new TimerSignallingTimeProvider();
        var limiter = Limiter(time, new LlmRateLimit("openai", "gpt-4o-mini", 1, null));
        Assert.NotNull(await limiter.AcquireAsync("openai", "gpt-4o-mini", 10, null, null, default));

        var error = await Assert.ThrowsAsync<LlmRateLimitException>(() =>
            limiter.AcquireAsync("openai", "gpt-4o-mini", 10, time.GetUtcNow().AddSeconds(59), null, default).AsTask().WaitAsync(TimeSpan.FromSeconds(10)));

        Assert.Contains("would wait 60 s for its requests-per-minute limit", error.Message);
        Assert.Contains("past the run's deadline", error.Message);
        // The refused call took nothing: a minute later one request is there again, not -1 + 1.
        time.Advance(TimeSpan.FromSeconds(60));
        Assert.True(limiter.AcquireAsync("openai", "gpt-4o-mini", 10, null, null, default).IsCompleted);
    }

    [Fact]
    public void Environment_entries_should_add_to_and_replace_the_hocon_ones()
    {
        var config = ConfigurationFactory.ParseString("""
            tta.llm {
              rate-limits = [
                { provider = openai, model = "gpt-4o-mini", requests-per-minute = 500, tokens-per-minute = 200000 }
                { provider = anthropic, requests-per-minute = 50 }
              ]
              rate-limit-max-retries = 10
              rate-limit-max-retry-after = 30s
            }
            """);
        var options = LlmRateLimitOptions.Read(config, name => name == LlmRateLimitOptions.LimitsVariable
            ? "openai/gpt-4o-mini rpm=20; offline tpm=1000" : null);

        Assert.Equal(10, options.MaxRetries);
        Assert.Equal(TimeSpan.FromSeconds(30), options.MaxRetryAfter);
        Assert.Equal(new LlmRateLimit("openai", "gpt-4o-mini", 20, null), options.For("openai", "gpt-4o-mini"));
        Assert.Equal(new LlmRateLimit("anthropic", null, 50, null), options.For("anthropic", "claude-haiku-4-5"));
        Assert.Equal(new LlmRateLimit("offline", null, null, 1000), options.For("offline", "echo"));
        Assert.Null(options.For("openai", "gpt-4o"));
    }

    [Theory]
    [InlineData("openai/gpt-4o-mini rpm=0", "rpm: '0' is not a whole number from 1")]
    [InlineData("openai rpm=ten", "'ten' is not a whole number")]
    [InlineData("openai/gpt-4o-mini", "give requests per minute, tokens per minute or both")]
    [InlineData("mistral rpm=5", "unknown provider 'mistral'")]
    [InlineData("openai burst=5", "has 'burst=5'; use rpm=N and tpm=N")]
    public void A_bad_rate_limit_entry_should_name_the_variable_and_the_entry(string value, string expected)
    {
        var error = Assert.Throws<LlmConfigurationException>(() =>
            LlmRateLimitOptions.Read(null, name => name == LlmRateLimitOptions.LimitsVariable ? value : null));

        Assert.StartsWith(LlmRateLimitOptions.LimitsVariable, error.Message);
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void Max_retries_should_accept_ten_and_refuse_eleven()
    {
        Assert.Equal(10, LlmRateLimitOptions.Read(null, n => n == LlmRateLimitOptions.MaxRetriesVariable ? "10" : null).MaxRetries);
        Assert.Equal(0, LlmRateLimitOptions.Read(null, n => n == LlmRateLimitOptions.MaxRetriesVariable ? "0" : null).MaxRetries);
        var error = Assert.Throws<LlmConfigurationException>(() =>
            LlmRateLimitOptions.Read(null, n => n == LlmRateLimitOptions.MaxRetriesVariable ? "11" : null));
        Assert.Contains("TTA_LLM_RATE_LIMIT_MAX_RETRIES: '11' is not a number of retries from 0 to 10", error.Message);
    }

    [Fact]
    public void Max_retry_after_should_accept_an_hour_and_refuse_more()
    {
        Assert.Equal(TimeSpan.FromHours(1),
            LlmRateLimitOptions.Read(null, n => n == LlmRateLimitOptions.MaxRetryAfterVariable ? "3600" : null).MaxRetryAfter);
        Assert.Throws<LlmConfigurationException>(() =>
            LlmRateLimitOptions.Read(null, n => n == LlmRateLimitOptions.MaxRetryAfterVariable ? "3601" : null));
        Assert.Equal(TimeSpan.FromSeconds(60), LlmRateLimitOptions.Read(null, NoEnvironment).MaxRetryAfter);
    }

    [Fact]
    public void More_entries_than_the_limit_should_be_refused()
    {
        string Entries(int count) => string.Join("; ", Enumerable.Range(0, count).Select(i => $"openai/m{i} rpm=1"));

        Assert.Equal(LlmRateLimitOptions.MaxEntries,
            LlmRateLimitOptions.Read(null, n => n == LlmRateLimitOptions.LimitsVariable ? Entries(LlmRateLimitOptions.MaxEntries) : null).Limits.Count);
        Assert.Throws<LlmConfigurationException>(() =>
            LlmRateLimitOptions.Read(null, n => n == LlmRateLimitOptions.LimitsVariable ? Entries(LlmRateLimitOptions.MaxEntries + 1) : null));
    }

    [Fact]
    public void Retry_after_should_be_read_as_seconds_as_an_http_date_and_as_milliseconds()
    {
        var now = new DateTimeOffset(2026, 12, 1, 9, 0, 0, TimeSpan.Zero);
        using var seconds = new HttpResponseMessage(System.Net.HttpStatusCode.TooManyRequests);
        seconds.Headers.TryAddWithoutValidation("Retry-After", "7");
        using var date = new HttpResponseMessage(System.Net.HttpStatusCode.TooManyRequests);
        date.Headers.TryAddWithoutValidation("Retry-After", now.AddSeconds(12).ToString("R"));
        using var ms = new HttpResponseMessage(System.Net.HttpStatusCode.TooManyRequests);
        ms.Headers.TryAddWithoutValidation("retry-after-ms", "1500");
        using var none = new HttpResponseMessage(System.Net.HttpStatusCode.TooManyRequests);

        Assert.Equal(TimeSpan.FromSeconds(7), ProviderRateLimitHandler.RetryAfter(seconds, now));
        Assert.Equal(TimeSpan.FromSeconds(12), ProviderRateLimitHandler.RetryAfter(date, now));
        Assert.Equal(TimeSpan.FromMilliseconds(1500), ProviderRateLimitHandler.RetryAfter(ms, now));
        Assert.Null(ProviderRateLimitHandler.RetryAfter(none, now));
    }
}
