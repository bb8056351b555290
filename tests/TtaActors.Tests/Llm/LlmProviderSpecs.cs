using System.Diagnostics;
using System.Text.Json;
using TtaActors.Actors.Context;
using TtaActors.Actors.Llm;
using TtaActors.Tests.Primitives;
using TtaActors.Tests.Support;
using TtaActors.Llm.Providers;

namespace TtaActors.Tests.Llm;

/// <summary>The LLM step against local servers that speak the OpenAI and Anthropic wire formats.</summary>
public class LlmProviderSpecs : PrimitiveSpec, IDisposable
{
    private const string OpenAiKey = "sk-test-openai-0123456789abcdefghij";
    private const string AnthropicKey = "sk-ant-test-0123456789abcdefghij";
    private readonly SpanRecorder _spans = new();
    private readonly MeasurementRecorder _metrics = new();

    private const string OpenAiCompletion = """
        {"id":"chatcmpl-42","object":"chat.completion","created":1700000000,"model":"gpt-4o-mini-2024-07-18",
         "choices":[{"index":0,"message":{"role":"assistant","content":"Use a token bucket per client."},"finish_reason":"stop"}],
         "usage":{"prompt_tokens":1200,"completion_tokens":300,"total_tokens":1500,"prompt_tokens_details":{"cached_tokens":200}}}
        """;

    [Fact]
    public async Task OpenAi_step_should_send_the_rendered_chat_request_and_report_usage_and_cost()
    {
        using var server = new ScriptedHttpServer(_ => ScriptedResponse.Json(OpenAiCompletion));
        var settings = new LlmSettings(LlmProviders.Create(new LlmProviderOptions { OpenAiApiKey = OpenAiKey, OpenAiBaseUrl = new Uri(server.BaseUrl + "/v1"), MaxRetries = 0 }));
        var step = settings.Chat("openai", "gpt-4o-mini", new LlmStepOptions
        {
            SystemPrompt = "You help a {persona}.",
            PromptTemplate = "Plan: {input}",
            Temperature = 0.25f,
            MaxTokens = 400,
        }, name: "plan");

        var result = await Run(step, "rate limiting", Context("openai-persona"));

        Assert.True(result.Succeeded, result.Failure?.ToString());
        var response = Assert.IsType<LlmResponse>(result.Output);
        Assert.Equal("Use a token bucket per client.", response.Content);
        Assert.Equal("gpt-4o-mini-2024-07-18", response.Model);
        Assert.Equal(new LlmUsage(1200, 300, 200), response.Usage);
        Assert.Equal("stop", response.FinishReason);
        // gpt-4o-mini: 1000 uncached input at $0.15/M, 200 cached at $0.075/M, 300 output at $0.60/M.
        Assert.Equal((1000 * 0.15m + 200 * 0.075m + 300 * 0.60m) / 1_000_000m, response.CostUsd);

        var request = Assert.Single(server.Requests);
        Assert.Equal("POST", request.Method);
        Assert.Equal("/v1/chat/completions", request.Path);
        Assert.Equal($"Bearer {OpenAiKey}", request.Headers["Authorization"]);
        var body = request.Json;
        Assert.Equal("gpt-4o-mini", body.GetProperty("model").GetString());
        Assert.Equal(0.25, body.GetProperty("temperature").GetDouble(), 3);
        Assert.Equal(400, (body.TryGetProperty("max_completion_tokens", out var max) ? max : body.GetProperty("max_tokens")).GetInt32());
        var messages = body.GetProperty("messages").EnumerateArray().ToList();
        Assert.Equal(["system", "user"], messages.Select(m => m.GetProperty("role").GetString()));
        Assert.Equal("You help a openai-persona.", ContentOf(messages[0]));
        Assert.Equal("Plan: rate limiting", ContentOf(messages[1]));

        var chat = SpanTree.Single(_spans.ForTrace(result.TraceId), "chat gpt-4o-mini");
        Assert.Equal(ActivityKind.Client, chat.Kind);
        Assert.Equal("chat", chat.GetTagItem("gen_ai.operation.name"));
        Assert.Equal("openai", chat.GetTagItem("gen_ai.provider.name"));
        Assert.Equal("gpt-4o-mini", chat.GetTagItem("gen_ai.request.model"));
        Assert.Equal("gpt-4o-mini-2024-07-18", chat.GetTagItem("gen_ai.response.model"));
        Assert.Equal(1200L, chat.GetTagItem("gen_ai.usage.input_tokens"));
        Assert.Equal(300L, chat.GetTagItem("gen_ai.usage.output_tokens"));
        Assert.Equal(["stop"], (string[])chat.GetTagItem("gen_ai.response.finish_reasons")!);
        Assert.Equal((double)response.CostUsd!.Value, (double)chat.GetTagItem("gen_ai.usage.cost")!, 12);
        Assert.Contains("Plan: rate limiting", (string)chat.GetTagItem("llm.input")!);
        Assert.Equal("Use a token bucket per client.", chat.GetTagItem("llm.output"));
        // As Langfuse receives it: its exporter names the fields from the span's operation, content, persona and trace name.
        var received = LangfuseView.Attributes(chat);
        Assert.Equal("generation", received["langfuse.observation.type"]);
        Assert.Contains("Plan: rate limiting", (string)received["langfuse.observation.input"]!);
        Assert.Equal("Use a token bucket per client.", received["langfuse.observation.output"]);
        Assert.Equal("openai-persona", received["langfuse.user.id"]);
        Assert.Equal("spec", received["langfuse.trace.name"]);
        Assert.DoesNotContain(chat.TagObjects, t => t.Value?.ToString()?.Contains(OpenAiKey) == true);

        var tokens = _metrics.For("llm_tokens_total", "openai-persona");
        Assert.Equal(1200, tokens.Single(m => (string?)m.Tags["token_type"] == "input").Value);
        Assert.Equal(300, tokens.Single(m => (string?)m.Tags["token_type"] == "output").Value);
        Assert.All(tokens, m =>
        {
            Assert.Equal("gpt-4o-mini-2024-07-18", m.Tags["model"]);
            Assert.Equal("openai", m.Tags["provider"]);
            Assert.Equal("tta-test", m.Tags["service_name"]);
        });
        Assert.Equal((double)response.CostUsd.Value, Assert.Single(_metrics.For("llm_cost_usd_total", "openai-persona")).Value, 12);
        Assert.Single(_metrics.For("llm_request_duration_seconds", "openai-persona"));
        var usage = _metrics.For("gen_ai.client.token.usage", m => Equals(m.Tags.GetValueOrDefault("gen_ai.response.model"), "gpt-4o-mini-2024-07-18")
            && Equals(m.Tags.GetValueOrDefault("gen_ai.provider.name"), "openai"));
        Assert.Contains(usage, m => m.Value == 1200 && (string?)m.Tags["gen_ai.token.type"] == "input");
    }

    [Fact]
    public async Task OpenAi_streaming_step_should_assemble_the_answer_and_record_time_to_first_token()
    {
        const string model = "gpt-4o-mini-2024-07-18";
        string Chunk(string delta, string? finish = null) =>
            "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"" + model
            + "\",\"choices\":[{\"index\":0,\"delta\":" + delta + ",\"finish_reason\":" + (finish is null ? "null" : $"\"{finish}\"") + "}]}";
        using var server = new ScriptedHttpServer(_ => new ScriptedResponse(200, Events:
        [
            Chunk("""{"role":"assistant","content":"Use "}"""),
            Chunk("""{"content":"a bucket."}"""),
            Chunk("{}", "stop"),
            """data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini-2024-07-18","choices":[],"usage":{"prompt_tokens":50,"completion_tokens":4,"total_tokens":54}}""",
            "data: [DONE]",
        ]));
        var settings = new LlmSettings(LlmProviders.Create(new LlmProviderOptions { OpenAiApiKey = OpenAiKey, OpenAiBaseUrl = new Uri(server.BaseUrl + "/v1"), MaxRetries = 0 }));

        var result = await Run(settings.Chat("openai", "gpt-4o-mini", new LlmStepOptions { Stream = true }), "go", Context("stream-persona"));

        Assert.True(result.Succeeded, result.Failure?.ToString());
        var response = Assert.IsType<LlmResponse>(result.Output);
        Assert.Equal("Use a bucket.", response.Content);
        Assert.Equal(new LlmUsage(50, 4, null), response.Usage with { CachedInputTokens = null });
        Assert.Equal("stop", response.FinishReason);
        Assert.NotNull(response.TimeToFirstToken);
        Assert.True(Assert.Single(server.Requests).Json.GetProperty("stream").GetBoolean());
        var chat = SpanTree.Single(_spans.ForTrace(result.TraceId), "chat gpt-4o-mini");
        Assert.NotNull(chat.GetTagItem("gen_ai.response.time_to_first_chunk"));
        var firstToken = Assert.Single(chat.Events, e => e.Name == "llm.first_token").Timestamp;
        Assert.InRange(firstToken.UtcDateTime, chat.StartTimeUtc, chat.StartTimeUtc + chat.Duration);
        Assert.Equal(firstToken.UtcDateTime.ToString("O"), LangfuseView.Attributes(chat)["langfuse.observation.completion_start_time"]);
        Assert.Equal(54L, (long)chat.GetTagItem("gen_ai.usage.input_tokens")! + (long)chat.GetTagItem("gen_ai.usage.output_tokens")!);
    }

    [Fact]
    public async Task Anthropic_step_should_send_a_messages_request_and_price_the_answer()
    {
        using var server = new ScriptedHttpServer(_ => ScriptedResponse.Json("""
            {"id":"msg_01","type":"message","role":"assistant","model":"claude-haiku-4-5-20251001",
             "content":[{"type":"text","text":"Looks sound; add a burst limit."}],
             "stop_reason":"end_turn","stop_sequence":null,
             "usage":{"input_tokens":2000,"output_tokens":100,"cache_creation_input_tokens":0,"cache_read_input_tokens":0}}
            """));
        var settings = new LlmSettings(LlmProviders.Create(new LlmProviderOptions { AnthropicApiKey = AnthropicKey, AnthropicBaseUrl = new Uri(server.BaseUrl), MaxRetries = 0 }));
        var step = settings.Chat("anthropic", "claude-haiku-4-5", new LlmStepOptions { SystemPrompt = "Be brief.", MaxTokens = 256, Temperature = 0.5f });

        var result = await Run(step, "Review: token bucket", Context("anthropic-persona"));

        Assert.True(result.Succeeded, result.Failure?.ToString());
        var response = Assert.IsType<LlmResponse>(result.Output);
        Assert.Equal("Looks sound; add a burst limit.", response.Content);
        Assert.Equal("claude-haiku-4-5-20251001", response.Model);
        Assert.Equal(2000, response.Usage.InputTokens);
        Assert.Equal(100, response.Usage.OutputTokens);
        // claude-haiku-4-5: $1/M input, $5/M output.
        Assert.Equal((2000 * 1m + 100 * 5m) / 1_000_000m, response.CostUsd);

        var request = Assert.Single(server.Requests);
        Assert.Equal("/v1/messages", request.Path);
        // The Anthropic SDK (13.x) documents its ApiKey as sent in Authorization: Bearer; older ones used x-api-key.
        Assert.True(request.Headers.GetValueOrDefault("x-api-key") == AnthropicKey || request.Headers.GetValueOrDefault("Authorization") == $"Bearer {AnthropicKey}",
            "the Anthropic key is in neither x-api-key nor Authorization");
        Assert.True(request.Headers.ContainsKey("anthropic-version"));
        var body = request.Json;
        Assert.Equal("claude-haiku-4-5", body.GetProperty("model").GetString());
        Assert.Equal(256, body.GetProperty("max_tokens").GetInt32());
        Assert.Contains("Be brief.", body.GetProperty("system").ToString());
        var message = Assert.Single(body.GetProperty("messages").EnumerateArray());
        Assert.Equal("user", message.GetProperty("role").GetString());
        Assert.Equal("Review: token bucket", ContentOf(message));

        var chat = SpanTree.Single(_spans.ForTrace(result.TraceId), "chat claude-haiku-4-5");
        Assert.Equal("anthropic", chat.GetTagItem("gen_ai.provider.name"));
        Assert.DoesNotContain(chat.TagObjects, t => t.Value?.ToString()?.Contains(AnthropicKey) == true);
    }

    [Fact]
    public async Task Anthropic_streaming_step_should_assemble_the_answer_from_server_sent_events()
    {
        using var server = new ScriptedHttpServer(_ => new ScriptedResponse(200, Events:
        [
            """
            event: message_start
            data: {"type":"message_start","message":{"id":"msg_2","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":25,"output_tokens":1}}}
            """,
            """
            event: content_block_start
            data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}
            """,
            """
            event: content_block_delta
            data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello"}}
            """,
            """
            event: content_block_delta
            data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":" there."}}
            """,
            """
            event: content_block_stop
            data: {"type":"content_block_stop","index":0}
            """,
            """
            event: message_delta
            data: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":15}}
            """,
            """
            event: message_stop
            data: {"type":"message_stop"}
            """,
        ]));
        var settings = new LlmSettings(LlmProviders.Create(new LlmProviderOptions { AnthropicApiKey = AnthropicKey, AnthropicBaseUrl = new Uri(server.BaseUrl), MaxRetries = 0 }));

        var result = await Run(settings.Chat("anthropic", "claude-sonnet-4-5", new LlmStepOptions { Stream = true }), "hi", Context("anthropic-stream"));

        Assert.True(result.Succeeded, result.Failure?.ToString());
        var response = Assert.IsType<LlmResponse>(result.Output);
        Assert.Equal("Hello there.", response.Content);
        Assert.Equal(25, response.Usage.InputTokens);
        Assert.Equal(15, response.Usage.OutputTokens);
        Assert.NotNull(response.TimeToFirstToken);
        // claude-sonnet-4-5: $3/M input, $15/M output.
        Assert.Equal((25 * 3m + 15 * 15m) / 1_000_000m, response.CostUsd);
        Assert.True(Assert.Single(server.Requests).Json.GetProperty("stream").GetBoolean());
    }

    [Fact]
    public async Task Provider_error_should_fail_the_step_with_an_error_span_and_no_cost()
    {
        using var server = new ScriptedHttpServer(_ => new ScriptedResponse(500, """{"error":{"message":"upstream exploded on key sk-proj-LEAKEDLEAKEDLEAKED0123","type":"server_error"}}"""));
        var settings = new LlmSettings(LlmProviders.Create(new LlmProviderOptions { OpenAiApiKey = OpenAiKey, OpenAiBaseUrl = new Uri(server.BaseUrl + "/v1"), MaxRetries = 0 }));

        var result = await Run(settings.Chat("openai", "gpt-4o-mini", name: "failing-call"), "x", Context("error-persona"));

        Assert.False(result.Succeeded);
        Assert.EndsWith("failing-call", result.Failure!.PrimitivePath);
        var chat = SpanTree.Single(_spans.ForTrace(result.TraceId), "chat gpt-4o-mini");
        Assert.Equal(ActivityStatusCode.Error, chat.Status);
        Assert.NotNull(chat.GetTagItem("error.type"));
        var exception = Assert.Single(chat.Events, e => e.Name == "exception");
        Assert.Contains("500", (string)exception.Tags.First(t => t.Key == "exception.message").Value!);
        Assert.DoesNotContain("LEAKEDLEAKED", (string)exception.Tags.First(t => t.Key == "exception.message").Value!);
        Assert.DoesNotContain("LEAKEDLEAKED", chat.StatusDescription);
        Assert.Null(chat.GetTagItem("gen_ai.usage.cost"));
        Assert.Empty(_metrics.For("llm_cost_usd_total", "error-persona"));
        Assert.Empty(_metrics.For("llm_cost_unknown_total", "error-persona"));
        Assert.Single(_metrics.For("gen_ai.client.operation.duration", m => m.Tags.ContainsKey("error.type")
            && Equals(m.Tags.GetValueOrDefault("gen_ai.provider.name"), "openai")));
    }

    [Fact]
    public async Task Model_missing_from_the_catalog_should_report_no_cost_and_count_it()
    {
        using var server = new ScriptedHttpServer(_ => ScriptedResponse.Json(OpenAiCompletion.Replace("gpt-4o-mini-2024-07-18", "llama3.1:8b")));
        var settings = new LlmSettings(LlmProviders.Create(new LlmProviderOptions { OpenAiBaseUrl = new Uri(server.BaseUrl + "/v1"), MaxRetries = 0 }));

        var result = await Run(settings.Chat("openai", "llama3.1:8b"), "x", Context("unpriced-persona"));

        var response = Assert.IsType<LlmResponse>(result.Output);
        Assert.Null(response.CostUsd);
        Assert.Equal(1200, response.Usage.InputTokens);
        // An OpenAI-compatible server without a key (Ollama) gets no real credential.
        Assert.DoesNotContain(OpenAiKey, Assert.Single(server.Requests).Headers.GetValueOrDefault("Authorization") ?? "");
        var chat = SpanTree.Single(_spans.ForTrace(result.TraceId), "chat llama3.1:8b");
        Assert.Null(chat.GetTagItem("gen_ai.usage.cost"));
        Assert.Null(chat.GetTagItem("gen_ai.usage.input_cost"));
        Assert.DoesNotContain("langfuse.observation.cost_details", LangfuseView.Attributes(chat).Keys);
        Assert.Empty(_metrics.For("llm_cost_usd_total", "unpriced-persona"));
        Assert.Equal(1, Assert.Single(_metrics.For("llm_cost_unknown_total", "unpriced-persona")).Value);
    }

    private static WorkflowContext Context(string persona) =>
        WorkflowContext.Create(persona: persona, chatMode: "review", sessionId: "session-" + persona);

    private static string? ContentOf(JsonElement message)
    {
        var content = message.GetProperty("content");
        return content.ValueKind == JsonValueKind.String
            ? content.GetString()
            : string.Concat(content.EnumerateArray().Select(part => part.GetProperty("text").GetString()));
    }

    public new void Dispose()
    {
        _spans.Dispose();
        _metrics.Dispose();
        base.Dispose();
    }
}
