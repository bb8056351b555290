using System.Diagnostics;
using TtaActors.Actors.Context;
using TtaActors.Actors.Execution;
using TtaActors.Actors.Llm;
using TtaActors.Actors.Llm.RateLimits;
using TtaActors.Actors.Primitives;
using TtaActors.Telemetry;
using TtaActors.Tests.Primitives;
using TtaActors.Tests.Support;
using TtaActors.Llm.Providers;

namespace TtaActors.Tests.Llm.RateLimits;

/// <summary>
/// LLM steps against loopback OpenAI and Anthropic servers under rate limits, on a virtual clock: local
/// requests-per-minute waits, a provider's 429 with Retry-After, and the limits on those waits.
/// </summary>
public sealed class RateLimitedStepSpecs : PrimitiveSpec
{
    private const string OpenAiKey = "sk-rate-limit-openai-0123456789abcdef";
    private const string AnthropicKey = "sk-ant-rate-limit-0123456789abcdefghij";
    private readonly SpanRecorder _spans = new();
    private readonly MeasurementRecorder _metrics = new();
    private readonly TimerSignallingTimeProvider _time = new();

    private const string Completion = """
        {"id":"chatcmpl-rl","object":"chat.completion","created":1700000000,"model":"gpt-4o-mini-2024-07-18",
         "choices":[{"index":0,"message":{"role":"assistant","content":"Hello back."},"finish_reason":"stop"}],
         "usage":{"prompt_tokens":9,"completion_tokens":3,"total_tokens":12}}
        """;

    private static ScriptedResponse TooMany(string retryAfter) => new(429,
        """{"error":{"message":"Rate limit reached for requests","type":"requests","param":null,"code":"rate_limit_exceeded"}}""",
        new Dictionary<string, string> { ["Retry-After"] = retryAfter });

    private LlmSettings OpenAi(ScriptedHttpServer server, LlmRateLimitOptions? limits = null) =>
        new(LlmProviders.Create(new LlmProviderOptions { OpenAiApiKey = OpenAiKey, OpenAiBaseUrl = new Uri(server.BaseUrl + "/v1"), MaxRetries = 2 }),
            rateLimits: limits ?? new LlmRateLimitOptions(), time: _time);

    private WorkflowGraph Graph(Primitive step) =>
        WorkflowGraph.Materialize(Sys, step, "rate-limited", new WorkflowGraphOptions { ServiceName = "tta-test", Clock = _time });

    private static RunOptions Within(TimeSpan timeout) => new() { Timeout = timeout };

    [Fact]
    public async Task A_429_should_be_sent_again_after_its_retry_after_with_the_wait_on_the_chat_span()
    {
        const string model = "gpt-4o-mini-rl-429";
        var calls = 0;
        using var server = new ScriptedHttpServer(_ => Interlocked.Increment(ref calls) == 1 ? TooMany("7") : ScriptedResponse.Json(Completion));
        using var settings = OpenAi(server);

        var run = Graph(settings.Chat("openai", model, name: "limited")).RunAsync("hello", WorkflowContext.Create(), Within(TimeSpan.FromMinutes(10)));
        await _time.WaitForTimer(TimeSpan.FromSeconds(7));
        Assert.Single(server.Requests);
        _time.Advance(TimeSpan.FromSeconds(7));
        var result = await run.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.True(result.Succeeded, result.Failure?.ToString());
        Assert.Equal("Hello back.", ((LlmResponse)result.Output!).Content);
        var requests = server.Requests.ToList();
        Assert.Equal(2, requests.Count);
        Assert.Equal(requests[0].Text, requests[1].Text);
        var chat = SpanTree.Single(_spans.ForTrace(result.TraceId), "chat " + model);
        var wait = Assert.Single(chat.Events, e => e.Name == TelemetryNames.LlmRateLimits.WaitEvent);
        var tags = wait.Tags.ToDictionary(t => t.Key, t => t.Value);
        Assert.Equal(TelemetryNames.LlmRateLimits.Provider429, tags[TelemetryNames.LlmRateLimits.WaitReasonAttribute]);
        Assert.Equal(7.0, tags[TelemetryNames.LlmRateLimits.WaitSecondsAttribute]);
        Assert.Equal(1, tags[TelemetryNames.LlmRateLimits.RetryAttemptAttribute]);
        bool Mine(Measurement m) => Equals(m.Tags["model"], model) && Equals(m.Tags["reason"], TelemetryNames.LlmRateLimits.Provider429);
        Assert.Equal(7.0, Assert.Single(_metrics.For(TelemetryNames.LlmRateLimits.WaitSeconds, Mine)).Value);
        Assert.Single(_metrics.For(TelemetryNames.LlmRateLimits.Limited, Mine));
    }

    [Fact]
    public async Task A_provider_that_keeps_answering_429_should_fail_the_step_after_the_allowed_retries_without_sdk_retries()
    {
        using var server = new ScriptedHttpServer(_ => TooMany("1"));
        using var settings = OpenAi(server, new LlmRateLimitOptions { MaxRetries = 1 });

        var run = Graph(settings.Chat("openai", "gpt-4o-mini-rl-exhausted", name: "limited"))
            .RunAsync("hello", WorkflowContext.Create(), Within(TimeSpan.FromMinutes(10)));
        await _time.WaitForTimer(TimeSpan.FromSeconds(1));
        _time.Advance(TimeSpan.FromSeconds(1));
        var result = await run.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.False(result.Succeeded);
        var error = Assert.IsType<LlmRateLimitException>(result.Failure!.Exception);
        Assert.Contains("LLM provider openai (model 'gpt-4o-mini-rl-exhausted') answered 429 (too many requests) 2 times; the 1 retries allowed", error.Message);
        // The SDK's own retries (MaxRetries = 2) would have sent it twice more.
        Assert.Equal(2, server.Requests.Count);
    }

    [Fact]
    public async Task Anthropic_429_should_not_be_retried_again_by_the_sdk_once_the_retries_are_used_up()
    {
        using var server = new ScriptedHttpServer(_ => new ScriptedResponse(429,
            """{"type":"error","error":{"type":"rate_limit_error","message":"Number of request tokens has exceeded your per-minute rate limit"}}""",
            new Dictionary<string, string> { ["retry-after"] = "1" }));
        using var settings = new LlmSettings(
            LlmProviders.Create(new LlmProviderOptions { AnthropicApiKey = AnthropicKey, AnthropicBaseUrl = new Uri(server.BaseUrl), MaxRetries = 2 }),
            rateLimits: new LlmRateLimitOptions { MaxRetries = 0 }, time: _time);

        var result = await Graph(settings.Chat("anthropic", "claude-haiku-4-5", new LlmStepOptions { MaxTokens = 64 }, name: "limited"))
            .RunAsync("hello", WorkflowContext.Create(), Within(TimeSpan.FromMinutes(10))).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.False(result.Succeeded);
        Assert.IsType<LlmRateLimitException>(result.Failure!.Exception);
        Assert.Single(server.Requests);
    }

    [Fact]
    public async Task A_retry_after_longer_than_allowed_should_fail_the_step_at_once()
    {
        using var server = new ScriptedHttpServer(_ => TooMany("61"));
        using var settings = OpenAi(server);

        var result = await Graph(settings.Chat("openai", "gpt-4o-mini-rl-long", name: "limited"))
            .RunAsync("hello", WorkflowContext.Create(), Within(TimeSpan.FromMinutes(10))).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.False(result.Succeeded);
        Assert.Contains("answered 429 asking to wait 61 s, longer than the 60 s allowed (TTA_LLM_RATE_LIMIT_MAX_RETRY_AFTER)", result.Failure!.Message);
        Assert.Single(server.Requests);
    }

    [Fact]
    public async Task A_retry_after_past_the_run_deadline_should_fail_the_step_naming_the_deadline()
    {
        using var server = new ScriptedHttpServer(_ => TooMany("10"));
        using var settings = OpenAi(server);

        var result = await Graph(settings.Chat("openai", "gpt-4o-mini-rl-deadline", name: "limited"))
            .RunAsync("hello", WorkflowContext.Create(), Within(TimeSpan.FromSeconds(5))).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.False(result.Succeeded);
        Assert.IsType<LlmRateLimitException>(result.Failure!.Exception);
        Assert.Contains("answered 429 asking to wait 10 s, past the run's deadline at", result.Failure.Message);
        Assert.Single(server.Requests);
    }

    [Fact]
    public async Task A_call_over_the_requests_per_minute_limit_should_wait_for_the_bucket_on_the_virtual_clock()
    {
        const string model = "gpt-4o-mini-rl-rpm";
        using var server = new ScriptedHttpServer(_ => ScriptedResponse.Json(Completion));
        using var settings = OpenAi(server, new LlmRateLimitOptions { Limits = [new LlmRateLimit("openai", model, 1, null)] });
        var graph = Graph(settings.Chat("openai", model, name: "limited"));

        Assert.True((await graph.RunAsync("one", WorkflowContext.Create(), Within(TimeSpan.FromMinutes(10)))).Succeeded);
        var second = graph.RunAsync("two", WorkflowContext.Create(), Within(TimeSpan.FromMinutes(10)));
        await _time.WaitForTimer(TimeSpan.FromSeconds(60));
        Assert.Single(server.Requests);
        _time.Advance(TimeSpan.FromSeconds(60));
        var result = await second.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.True(result.Succeeded, result.Failure?.ToString());
        Assert.Equal(2, server.Requests.Count);
        var chat = SpanTree.Single(_spans.ForTrace(result.TraceId), "chat " + model);
        var wait = Assert.Single(chat.Events, e => e.Name == TelemetryNames.LlmRateLimits.WaitEvent);
        Assert.Contains(wait.Tags, t => t.Key == TelemetryNames.LlmRateLimits.WaitReasonAttribute && Equals(t.Value, TelemetryNames.LlmRateLimits.RequestsPerMinute));
        Assert.Contains(wait.Tags, t => t.Key == TelemetryNames.LlmRateLimits.WaitSecondsAttribute && Equals(t.Value, 60.0));
        bool Mine(Measurement m) => Equals(m.Tags["model"], model);
        Assert.Equal(60.0, Assert.Single(_metrics.For(TelemetryNames.LlmRateLimits.WaitSeconds, Mine)).Value);
        Assert.Equal(TelemetryNames.LlmRateLimits.RequestsPerMinute, Assert.Single(_metrics.For(TelemetryNames.LlmRateLimits.Limited, Mine)).Tags["reason"]);
    }

    [Fact]
    public async Task A_local_wait_past_the_run_deadline_should_fail_the_step_without_sending()
    {
        const string model = "gpt-4o-mini-rl-rpm-deadline";
        using var server = new ScriptedHttpServer(_ => ScriptedResponse.Json(Completion));
        using var settings = OpenAi(server, new LlmRateLimitOptions { Limits = [new LlmRateLimit("openai", model, 1, null)] });
        var graph = Graph(settings.Chat("openai", model, name: "limited"));

        Assert.True((await graph.RunAsync("one", WorkflowContext.Create(), Within(TimeSpan.FromMinutes(10)))).Succeeded);
        var result = await graph.RunAsync("two", WorkflowContext.Create(), Within(TimeSpan.FromSeconds(30))).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.False(result.Succeeded);
        Assert.Contains($"would wait 60 s for its requests-per-minute limit (openai/{model} rpm=1), past the run's deadline", result.Failure!.Message);
        Assert.Single(server.Requests);
        Assert.Equal(ActivityStatusCode.Error, SpanTree.Single(_spans.ForTrace(result.TraceId), "chat " + model).Status);
    }

    protected override void AfterAll()
    {
        _spans.Dispose();
        _metrics.Dispose();
        base.AfterAll();
    }
}
