using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Time.Testing;
using TtaActors.Actors.Context;
using TtaActors.Actors.Llm;
using TtaActors.Actors.Llm.Prompts;
using TtaActors.Tests.Primitives;
using TtaActors.Tests.Support;
using TtaActors.Llm.Providers;

namespace TtaActors.Tests.Llm;

/// <summary>Prompts from Langfuse's prompt API (a loopback server speaking it): fetch, variables, cache, refresh, fallback, errors.</summary>
public class LangfusePromptSpecs : PrimitiveSpec
{
    private const string PublicKey = "pk-lf-prompt-spec";
    private const string SecretKey = "sk-lf-prompt-spec-secret-24680";

    private readonly SpanRecorder _spans = new();

    internal static string TextPrompt(string name, int version, string text, string label = "production") => new JsonObject
    {
        ["id"] = "prompt-" + version,
        ["name"] = name,
        ["type"] = "text",
        ["prompt"] = text,
        ["version"] = version,
        ["labels"] = new JsonArray(label, "latest"),
        ["tags"] = new JsonArray(),
        ["config"] = new JsonObject { ["temperature"] = 0.2 },
    }.ToJsonString();

    private static string ChatPrompt(string name, int version) => new JsonObject
    {
        ["name"] = name,
        ["type"] = "chat",
        ["prompt"] = new JsonArray(
            new JsonObject { ["type"] = "chatmessage", ["role"] = "system", ["content"] = "You review {{language}} code for {{persona}}." },
            new JsonObject { ["type"] = "chatmessage", ["role"] = "user", ["content"] = "Review: {{ diff }}" }),
        ["version"] = version,
        ["labels"] = new JsonArray("staging"),
        ["config"] = new JsonObject(),
    }.ToJsonString();

    private static LangfusePromptOptions Options(ScriptedHttpServer server) =>
        new() { Host = new Uri(server.BaseUrl), PublicKey = PublicKey, SecretKey = SecretKey };

    private static string ExpectedAuthorization => "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{PublicKey}:{SecretKey}"));

    [Fact]
    public async Task Text_prompt_should_be_fetched_by_label_with_basic_auth_and_filled_from_the_input()
    {
        using var langfuse = new ScriptedHttpServer(_ => ScriptedResponse.Json(TextPrompt("team/summary", 7, "Summarise {{topic}} for {{persona}} in {{ words }} words.")));
        using var prompts = new LangfusePrompts(Options(langfuse));
        var model = new ScriptedChatClient("done");
        var step = new LlmPrimitive(new LlmClient(model, "custom", "custom-model"), new LlmSettings { Prompts = prompts },
            new LlmStepOptions { LangfusePrompt = new LangfusePromptReference("team/summary") }, "summary");

        var result = await Run(step, JsonNode.Parse("""{"topic":"the orders API","words":50}"""), WorkflowContext.Create(persona: "backend-engineer"));

        Assert.True(result.Succeeded, result.Failure?.ToString());
        var request = await langfuse.NextRequest();
        Assert.Equal("GET", request.Method);
        // The name is one path segment, its slash encoded: Langfuse's folders are part of the name.
        Assert.Equal("/api/public/v2/prompts/team%2Fsummary?label=production", request.Target);
        Assert.Equal(ExpectedAuthorization, request.Headers["Authorization"]);
        var sent = Assert.Single(model.Calls).Messages;
        var message = Assert.Single(sent);
        Assert.Equal(ChatRole.User, message.Role);
        Assert.Equal("Summarise the orders API for backend-engineer in 50 words.", message.Text);
        var chat = Assert.Single(_spans.ForTrace(result.TraceId), s => s.DisplayName == "chat custom-model");
        Assert.Equal("team/summary", chat.GetTagItem("llm.prompt.name"));
        Assert.Equal(7, chat.GetTagItem("llm.prompt.version"));
        Assert.Null(chat.GetTagItem("llm.prompt.fallback"));
        // Langfuse links the generation to that prompt version by the names its exporter adds.
        var received = LangfuseView.Attributes(chat);
        Assert.Equal("team/summary", received["langfuse.observation.prompt.name"]);
        Assert.Equal(7L, received["langfuse.observation.prompt.version"]);
        LangfuseView.AssertNoLangfuseNames(_spans.ForTrace(result.TraceId));
    }

    [Fact]
    public async Task Chat_prompt_of_a_version_should_become_the_conversation()
    {
        using var langfuse = new ScriptedHttpServer(_ => ScriptedResponse.Json(ChatPrompt("reviewer", 3)));
        using var prompts = new LangfusePrompts(Options(langfuse));
        var model = new ScriptedChatClient("looks fine");
        var step = new LlmPrimitive(new LlmClient(model, "custom", "custom-model"), new LlmSettings { Prompts = prompts },
            new LlmStepOptions { LangfusePrompt = new LangfusePromptReference("reviewer", version: 3) });

        var result = await Run(step, new Dictionary<string, string> { ["language"] = "C#", ["diff"] = "+ return 1;" },
            WorkflowContext.Create(persona: "qa"));

        Assert.True(result.Succeeded, result.Failure?.ToString());
        Assert.Equal("/api/public/v2/prompts/reviewer?version=3", (await langfuse.NextRequest()).Target);
        var sent = Assert.Single(model.Calls).Messages;
        Assert.Equal([(ChatRole.System, "You review C# code for qa."), (ChatRole.User, "Review: + return 1;")],
            sent.Select(m => (m.Role, m.Text)).ToList());
    }

    [Fact]
    public async Task Unknown_prompt_should_fail_the_step_with_404_and_never_use_the_fallback()
    {
        using var langfuse = new ScriptedHttpServer(_ => new ScriptedResponse(404, """{"error":"LangfuseNotFoundError","message":"Prompt not found"}"""));
        using var prompts = new LangfusePrompts(Options(langfuse));
        var model = new ScriptedChatClient("never");
        var step = new LlmPrimitive(new LlmClient(model, "custom", "custom-model"), new LlmSettings { Prompts = prompts },
            new LlmStepOptions { LangfusePrompt = new LangfusePromptReference("summary", "staging", fallback: "Summarise {{input}}") });

        var result = await Run(step, "x");

        Assert.False(result.Succeeded);
        var error = Assert.IsType<LangfusePromptException>(result.Failure!.Exception);
        Assert.Contains("Langfuse has no prompt 'summary' label 'staging' (404)", error.Message);
        Assert.Empty(model.Calls);
        // Asked once, for the label given: no other label is tried.
        Assert.Equal(["/api/public/v2/prompts/summary?label=staging"], langfuse.Requests.Select(r => r.Target));
    }

    [Fact]
    public async Task Refused_keys_should_fail_naming_the_variables_and_never_the_keys()
    {
        using var langfuse = new ScriptedHttpServer(_ => new ScriptedResponse(401, """{"message":"Invalid credentials"}"""));
        using var prompts = new LangfusePrompts(Options(langfuse));

        var error = await Assert.ThrowsAsync<LangfusePromptException>(() =>
            prompts.GetAsync(new LangfusePromptReference("summary", fallback: "fallback text")));

        Assert.Contains("refused the keys (401)", error.Message);
        Assert.Contains("LANGFUSE_PUBLIC_KEY and LANGFUSE_SECRET_KEY", error.Message);
        Assert.DoesNotContain(SecretKey, error.ToString());
        Assert.DoesNotContain(SecretKey, prompts.Options.ToString());
    }

    [Fact]
    public async Task Hanging_server_should_time_out_on_the_clock_and_serve_the_fallback()
    {
        var never = new TaskCompletionSource<ScriptedResponse>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var langfuse = new ScriptedHttpServer(_ => never.Task);
        var clock = new FakeTimeProvider();
        using var prompts = new LangfusePrompts(Options(langfuse), clock: clock);

        var fetch = prompts.GetAsync(new LangfusePromptReference("summary", fallback: "Summarise {{input}} briefly."));
        await langfuse.NextRequest();
        clock.Advance(TimeSpan.FromSeconds(9.9));
        Assert.False(fetch.IsCompleted);
        clock.Advance(TimeSpan.FromSeconds(0.1));
        var prompt = await fetch.WaitAsync(TimeSpan.FromSeconds(30));
        never.SetResult(new ScriptedResponse(500));

        Assert.True(prompt.IsFallback);
        Assert.Null(prompt.Version);
        Assert.Equal("Summarise the diff briefly.", Assert.Single(prompt.Render("the diff", WorkflowContext.Create())).Text);
    }

    [Fact]
    public async Task Server_error_without_a_fallback_should_fail_saying_langfuse_is_unreachable()
    {
        using var langfuse = new ScriptedHttpServer(_ => new ScriptedResponse(503));
        using var prompts = new LangfusePrompts(Options(langfuse));

        var error = await Assert.ThrowsAsync<LangfusePromptUnavailableException>(() => prompts.GetAsync(new LangfusePromptReference("summary")));

        Assert.Contains("could not be fetched and the step has no fallback prompt: Langfuse answered 503", error.Message);
        // Nothing was cached: the next use asks again.
        await Assert.ThrowsAsync<LangfusePromptUnavailableException>(() => prompts.GetAsync(new LangfusePromptReference("summary")));
        Assert.Equal(2, langfuse.Requests.Count);
    }

    [Fact]
    public async Task Cached_prompt_should_be_served_for_the_ttl_then_refreshed_in_the_background_while_the_stale_one_is_served()
    {
        var version = 1;
        // The refresh's answer waits until the stale reads are done, so they cannot race it.
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var langfuse = new ScriptedHttpServer(async _ =>
        {
            var answer = Volatile.Read(ref version);
            if (answer == 2) await release.Task;
            return ScriptedResponse.Json(TextPrompt("summary", answer, "v"));
        });
        var clock = new FakeTimeProvider();
        using var prompts = new LangfusePrompts(Options(langfuse), clock: clock);
        var reference = new LangfusePromptReference("summary");

        Assert.Equal(1, (await prompts.GetAsync(reference)).Version);
        Volatile.Write(ref version, 2);
        clock.Advance(TimeSpan.FromSeconds(59.999));
        Assert.Equal(1, (await prompts.GetAsync(reference)).Version);
        Assert.Single(langfuse.Requests);

        clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(1, (await prompts.GetAsync(reference)).Version);
        await langfuse.NextRequest();
        await langfuse.NextRequest();
        Assert.Equal(1, (await prompts.GetAsync(reference)).Version);
        release.SetResult();
        await prompts.RefreshesSettled();

        Assert.Equal(2, (await prompts.GetAsync(reference)).Version);
        Assert.Equal(2, langfuse.Requests.Count);
    }

    [Fact]
    public async Task Refresh_that_cannot_reach_langfuse_should_keep_serving_the_stale_prompt_rather_than_the_fallback()
    {
        var down = false;
        using var langfuse = new ScriptedHttpServer(_ => Volatile.Read(ref down) ? new ScriptedResponse(502) : ScriptedResponse.Json(TextPrompt("summary", 4, "cached")));
        var clock = new FakeTimeProvider();
        using var prompts = new LangfusePrompts(Options(langfuse), clock: clock);
        var reference = new LangfusePromptReference("summary", fallback: "fallback");

        await prompts.GetAsync(reference);
        Volatile.Write(ref down, true);
        clock.Advance(TimeSpan.FromSeconds(61));
        await prompts.GetAsync(reference);
        await prompts.RefreshesSettled();

        var prompt = await prompts.GetAsync(reference);
        Assert.False(prompt.IsFallback);
        Assert.Equal("cached", prompt.Text);
        Assert.Equal(2, langfuse.Requests.Count);
    }

    [Fact]
    public async Task Answer_with_another_label_should_be_refused_not_used()
    {
        using var langfuse = new ScriptedHttpServer(_ => ScriptedResponse.Json(TextPrompt("summary", 5, "text", label: "staging")));
        using var prompts = new LangfusePrompts(Options(langfuse));

        var error = await Assert.ThrowsAsync<LangfusePromptException>(() => prompts.GetAsync(new LangfusePromptReference("summary", "production")));

        Assert.Contains("version 5 does not carry the label 'production'", error.Message);
    }

    [Fact]
    public async Task Answer_larger_than_max_response_bytes_should_be_refused()
    {
        var body = TextPrompt("summary", 1, new string('x', 2_000));
        using var langfuse = new ScriptedHttpServer(_ => ScriptedResponse.Json(body));
        using var exact = new LangfusePrompts(new LangfusePromptOptions
            { Host = new Uri(langfuse.BaseUrl), PublicKey = PublicKey, SecretKey = SecretKey, MaxResponseBytes = Encoding.UTF8.GetByteCount(body) });
        using var smaller = new LangfusePrompts(new LangfusePromptOptions
            { Host = new Uri(langfuse.BaseUrl), PublicKey = PublicKey, SecretKey = SecretKey, MaxResponseBytes = Encoding.UTF8.GetByteCount(body) - 1 });

        Assert.Equal(1, (await exact.GetAsync(new LangfusePromptReference("summary"))).Version);
        var error = await Assert.ThrowsAsync<LangfusePromptException>(() => smaller.GetAsync(new LangfusePromptReference("summary")));
        Assert.Contains("MaxResponseBytes", error.Message);
    }

    [Fact]
    public async Task Variable_the_input_and_context_lack_should_fail_the_step_naming_it()
    {
        using var langfuse = new ScriptedHttpServer(_ => ScriptedResponse.Json(TextPrompt("summary", 2, "About {{ticket}}")));
        using var prompts = new LangfusePrompts(Options(langfuse));
        var model = new ScriptedChatClient("never");
        var step = new LlmPrimitive(new LlmClient(model, "custom", "custom-model"), new LlmSettings { Prompts = prompts },
            new LlmStepOptions { LangfusePrompt = new LangfusePromptReference("summary") });

        var result = await Run(step, JsonNode.Parse("""{"topic":"x"}"""));

        Assert.False(result.Succeeded);
        Assert.Contains("Langfuse prompt 'summary' version 2 uses {{ticket}}", result.Failure!.Message);
        Assert.Empty(model.Calls);
    }

    [Fact]
    public void Step_with_a_langfuse_prompt_but_no_keys_should_not_be_built()
    {
        var error = Assert.Throws<LlmConfigurationException>(() => new LlmSettings(LlmProviders.Create()).Chat(
            options: new LlmStepOptions { LangfusePrompt = new LangfusePromptReference("summary") }, name: "summary"));

        Assert.Contains("LANGFUSE_PUBLIC_KEY and LANGFUSE_SECRET_KEY are not set", error.Message);
    }

    [Theory]
    [InlineData("", null, null, "needs a name")]
    [InlineData("summary", "Production", null, "lowercase")]
    [InlineData("summary", "production", 2, "not both")]
    [InlineData("summary", null, 0, "1 or more")]
    [InlineData("bad\nname", null, null, "control character")]
    public void Reference_should_refuse_bad_names_labels_and_versions(string name, string? label, int? version, string expected)
    {
        var error = Assert.Throws<ArgumentException>(() => new LangfusePromptReference(name, label, version));
        Assert.Contains(expected, error.Message);
    }

    protected override void AfterAll()
    {
        _spans.Dispose();
        base.AfterAll();
    }
}

/// <summary>A chat model that answers with the scripted texts in turn (the last one repeats) and records every call.</summary>
public sealed class ScriptedChatClient(params string[] answers) : IChatClient
{
    private int _next;

    public List<(List<ChatMessage> Messages, ChatOptions? Options)> Calls { get; } = [];

    public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        string answer;
        lock (Calls)
        {
            Calls.Add((messages.ToList(), options));
            answer = answers[Math.Min(_next++, answers.Length - 1)];
        }
        return Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, answer))
        {
            ModelId = "custom-model",
            FinishReason = ChatFinishReason.Stop,
            Usage = new UsageDetails { InputTokenCount = 10, OutputTokenCount = 5 },
        });
    }

    public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null,
        CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public object? GetService(Type serviceType, object? serviceKey = null) => null;

    public void Dispose()
    {
    }
}
