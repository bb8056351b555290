using System.Diagnostics;
using Microsoft.Extensions.AI;
using TtaActors.Actors.Context;
using TtaActors.Actors.Execution;
using TtaActors.Actors.Llm;
using TtaActors.Tests.Primitives;
using TtaActors.Telemetry.Llm;
using TtaActors.Tests.Support;
using TtaActors.Llm.Providers;

namespace TtaActors.Tests.Llm;

/// <summary>The LLM step itself: the offline model, capture switches and deadlines.</summary>
public class LlmStepSpecs : PrimitiveSpec, IDisposable
{
    private readonly SpanRecorder _spans = new();

    [Fact]
    public async Task Offline_model_should_answer_deterministically_with_true_o200k_token_counts()
    {
        var settings = new LlmSettings(LlmProviders.Create());
        var step = settings.Chat(options: new LlmStepOptions { SystemPrompt = "You are terse." });

        var first = (LlmResponse)(await Run(step, "Summarise the orders API change", WorkflowContext.Create(persona: "p"))).Output!;
        var second = (LlmResponse)(await Run(step, "Summarise the orders API change", WorkflowContext.Create(persona: "p"))).Output!;

        Assert.Equal(first.Content, second.Content);
        Assert.Equal("offline", first.Provider);
        Assert.Equal(OfflineChatClient.ModelName, first.Model);
        Assert.Equal(OfflineChatClient.Tokenizer.CountTokens(first.Content), first.Usage.OutputTokens);
        List<ChatMessage> sent = [new(ChatRole.System, "You are terse."), new(ChatRole.User, "Summarise the orders API change")];
        Assert.Equal(OfflineChatClient.CountInputTokens(sent), first.Usage.InputTokens);
        // 3 per message + role + content, and 3 priming the reply, as OpenAI counts chat input.
        var tokenizer = OfflineChatClient.Tokenizer;
        Assert.Equal(3 + tokenizer.CountTokens("system") + tokenizer.CountTokens("You are terse.") + 3 + tokenizer.CountTokens("user")
            + tokenizer.CountTokens("Summarise the orders API change") + 3, first.Usage.InputTokens);
        Assert.Equal("stop", first.FinishReason);
        Assert.Equal(0m, first.CostUsd);
    }

    [Fact]
    public async Task Max_tokens_should_cut_the_offline_answer_and_report_length()
    {
        var step = new LlmSettings(LlmProviders.Create()).Chat(options: new LlmStepOptions { MaxTokens = 5, Stream = true });

        var response = (LlmResponse)(await Run(step, "a long request about rate limits", WorkflowContext.Create())).Output!;

        Assert.Equal(5, response.Usage.OutputTokens);
        Assert.Equal(5, OfflineChatClient.Tokenizer.CountTokens(response.Content));
        Assert.Equal("length", response.FinishReason);
        Assert.NotNull(response.TimeToFirstToken);
    }

    [Fact]
    public async Task Capture_off_for_one_step_should_keep_prompt_and_completion_out_of_its_span()
    {
        var settings = new LlmSettings(LlmProviders.Create());
        var quiet = settings.Chat(options: new LlmStepOptions { CaptureContent = false }, name: "quiet");
        var open = settings.Chat(name: "open");

        var quietRun = await Run(quiet, "customer record 4711", WorkflowContext.Create());
        var openRun = await Run(open, "customer record 4711", WorkflowContext.Create());

        var quietSpan = SpanTree.Single(_spans.ForTrace(quietRun.TraceId), "chat tta-offline");
        Assert.Null(quietSpan.GetTagItem("llm.input"));
        Assert.Null(quietSpan.GetTagItem("llm.output"));
        Assert.DoesNotContain(LangfuseView.Attributes(quietSpan).Keys, k => k is "langfuse.observation.input" or "langfuse.observation.output");
        Assert.NotNull(quietSpan.GetTagItem("gen_ai.usage.output_tokens"));
        var openSpan = SpanTree.Single(_spans.ForTrace(openRun.TraceId), "chat tta-offline");
        Assert.Contains("customer record 4711", (string)openSpan.GetTagItem("llm.input")!);
        Assert.NotNull(openSpan.GetTagItem("llm.output"));
        Assert.Contains("customer record 4711", (string)LangfuseView.Attributes(openSpan)["langfuse.observation.input"]!);
    }

    [Fact]
    public async Task Long_prompt_should_be_truncated_in_the_span_but_sent_whole()
    {
        var settings = new LlmSettings(LlmProviders.Create(), capture: CapturePolicy.Default with { MaxChars = 50 });
        var prompt = "start " + new string('y', 500) + " end";

        var result = await Run(settings.Chat(), prompt, WorkflowContext.Create());

        var response = (LlmResponse)result.Output!;
        Assert.True(response.Usage.InputTokens > 50, "the model saw the whole prompt");
        var input = (string)SpanTree.Single(_spans.ForTrace(result.TraceId), "chat tta-offline").GetTagItem("llm.input")!;
        Assert.Contains("...[truncated 460 chars]", input);
        Assert.DoesNotContain(" end", input);
    }

    [Fact]
    public async Task Provider_that_never_answers_should_fail_the_run_at_its_deadline()
    {
        var never = new TaskCompletionSource<ScriptedResponse>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var server = new ScriptedHttpServer(_ => never.Task);
        var settings = new LlmSettings(LlmProviders.Create(new LlmProviderOptions { OpenAiApiKey = "sk-test-deadline-0123456789abcdef", OpenAiBaseUrl = new Uri(server.BaseUrl + "/v1"), MaxRetries = 0 }));
        var graph = Materialize(settings.Chat("openai", "gpt-4o-mini"));

        var result = await graph.RunAsync("hello", WorkflowContext.Create(), new RunOptions { Timeout = TimeSpan.FromSeconds(2) });
        never.SetResult(new ScriptedResponse(500));

        Assert.False(result.Succeeded);
        Assert.IsType<WorkflowDeadlineExceededException>(result.Failure!.Exception);
        Assert.Equal("/v1/chat/completions", (await server.NextRequest()).Path);
    }

    [Fact]
    public async Task Provider_error_carrying_a_key_should_reach_no_span_and_no_failure_unredacted()
    {
        var settings = new LlmSettings(LlmProviders.Create());
        var step = new LlmPrimitive(new LlmClient(new LeakyFailingChatClient(), "custom", "custom-model"), settings, name: "leaky");

        var result = await Run(step, "x", WorkflowContext.Create());

        Assert.False(result.Succeeded);
        Assert.Contains("System.Net.Http.HttpRequestException: 401 from upstream: invalid key [REDACTED]", result.Failure!.Message);
        Assert.DoesNotContain("LEAKED", result.Failure.ToString());
        foreach (var span in _spans.ForTrace(result.TraceId))
        {
            Assert.DoesNotContain("LEAKED", span.StatusDescription ?? "");
            Assert.DoesNotContain(span.TagObjects, t => t.Value?.ToString()?.Contains("LEAKED") == true);
            Assert.DoesNotContain(span.Events.SelectMany(e => e.Tags), t => t.Value?.ToString()?.Contains("LEAKED") == true);
        }
        Assert.Contains(_spans.ForTrace(result.TraceId), s => s.DisplayName == "chat custom-model" && s.Status == ActivityStatusCode.Error);
    }

    // TestKit's own Dispose is what xUnit calls; a "new" Dispose would leave this listener recording every later span.
    protected override void AfterAll()
    {
        _spans.Dispose();
        base.AfterAll();
    }
}

/// <summary>Any <see cref="IChatClient"/> works; this one fails the way a provider echoing a key would.</summary>
public sealed class LeakyFailingChatClient : IChatClient
{
    public const string Leak = "sk-proj-LEAKEDLEAKEDLEAKED0123";

    public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
        throw new HttpRequestException($"401 from upstream: invalid key {Leak}");

    public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null,
        CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public object? GetService(Type serviceType, object? serviceKey = null) => null;

    public void Dispose()
    {
    }
}
