using System.ComponentModel;
using System.Text.Json;
using Microsoft.Extensions.AI;
using TtaActors.Actors.Context;
using TtaActors.Actors.Llm;
using TtaActors.Tests.Llm;
using TtaActors.Tests.Primitives;
using TtaActors.Tests.Support;
using TtaActors.Llm.Providers;

namespace TtaActors.Tests.Agents;

/// <summary>An agent that streams: OpenAI's server-sent chunks with the tool call split across deltas, through the tool loop.</summary>
public sealed class StreamingAgentSpecs : PrimitiveSpec
{
    private const string OpenAiKey = "sk-streaming-agent-openai-0123456789abcdef";
    private readonly SpanRecorder _spans = new();

    [Description("Looks up an order's status by its id.")]
    private static string OrderStatus([Description("The order id")] string order) =>
        order == "A-7" ? "shipped on 2026-11-30" : throw new InvalidOperationException($"no order {order}");

    private static string Chunk(string id, object delta, string? finish = null) => "data: " + JsonSerializer.Serialize(new
    {
        id,
        @object = "chat.completion.chunk",
        created = 1700000000,
        model = "gpt-4o-mini-2024-07-18",
        choices = new[] { new { index = 0, delta, finish_reason = finish } },
    });

    private static string Usage(string id, int input, int output) => "data: " + JsonSerializer.Serialize(new
    {
        id,
        @object = "chat.completion.chunk",
        created = 1700000000,
        model = "gpt-4o-mini-2024-07-18",
        choices = Array.Empty<object>(),
        usage = new { prompt_tokens = input, completion_tokens = output, total_tokens = input + output },
    });

    /// <summary>First the tool call, its name in one chunk and its arguments split over two; then the answer in two text chunks.</summary>
    private static ScriptedResponse Answer(RecordedRequest request)
    {
        var answered = request.Json.GetProperty("messages").EnumerateArray().Any(m => m.GetProperty("role").GetString() == "tool");
        if (!answered)
        {
            return new ScriptedResponse(200, Events:
            [
                Chunk("chatcmpl-s1", new
                {
                    role = "assistant",
                    content = (string?)null,
                    tool_calls = new[] { new { index = 0, id = "call_s1", type = "function", function = new { name = "order_status", arguments = "" } } },
                }),
                Chunk("chatcmpl-s1", new { tool_calls = new[] { new { index = 0, function = new { arguments = "{\"ord" } } } }),
                Chunk("chatcmpl-s1", new { tool_calls = new[] { new { index = 0, function = new { arguments = "er\":\"A-7\"}" } } } }),
                Chunk("chatcmpl-s1", new { }, "tool_calls"),
                Usage("chatcmpl-s1", 20, 5),
                "data: [DONE]",
            ]);
        }
        return new ScriptedResponse(200, Events:
        [
            Chunk("chatcmpl-s2", new { role = "assistant", content = "A-7 " }),
            Chunk("chatcmpl-s2", new { content = "shipped on 30 November." }),
            Chunk("chatcmpl-s2", new { }, "stop"),
            Usage("chatcmpl-s2", 40, 7),
            "data: [DONE]",
        ]);
    }

    [Fact]
    public async Task A_streaming_agent_should_assemble_split_tool_call_deltas_run_the_tool_and_stream_the_answer()
    {
        using var server = new ScriptedHttpServer(Answer);
        var settings = new LlmSettings(LlmProviders.Create(new LlmProviderOptions { OpenAiApiKey = OpenAiKey, OpenAiBaseUrl = new Uri(server.BaseUrl + "/v1"), MaxRetries = 0 }));
        var step = settings.Chat("openai", "gpt-4o-mini", new LlmStepOptions
        {
            Stream = true,
            Tools = [AIFunctionFactory.Create(OrderStatus, "order_status")],
        }, name: "orders");

        var result = await Run(step, "Where is A-7?", WorkflowContext.Create(persona: "streaming-agent"));

        Assert.True(result.Succeeded, result.Failure?.ToString());
        var response = (LlmResponse)result.Output!;
        Assert.Equal("A-7 shipped on 30 November.", response.Content);
        Assert.Equal(1, response.ToolCalls);
        Assert.Equal(60, response.Usage.InputTokens);
        Assert.Equal(12, response.Usage.OutputTokens);
        Assert.NotNull(response.TimeToFirstToken);

        var requests = server.Requests.ToList();
        Assert.Equal(2, requests.Count);
        Assert.All(requests, r => Assert.True(r.Json.GetProperty("stream").GetBoolean()));
        Assert.Equal("order_status", requests[0].Json.GetProperty("tools")[0].GetProperty("function").GetProperty("name").GetString());
        var messages = requests[1].Json.GetProperty("messages").EnumerateArray().ToList();
        var call = messages[^2].GetProperty("tool_calls")[0];
        Assert.Equal("call_s1", call.GetProperty("id").GetString());
        Assert.Equal("A-7", JsonDocument.Parse(call.GetProperty("function").GetProperty("arguments").GetString()!).RootElement.GetProperty("order").GetString());
        Assert.Equal("tool", messages[^1].GetProperty("role").GetString());
        Assert.Equal("call_s1", messages[^1].GetProperty("tool_call_id").GetString());
        Assert.Contains("shipped on 2026-11-30", messages[^1].GetProperty("content").GetRawText());

        var trace = _spans.ForTrace(result.TraceId);
        Assert.Empty(SpanTree.Orphans(trace));
        var agent = SpanTree.Single(trace, "invoke_agent orders");
        var chats = trace.Where(s => s.DisplayName == "chat gpt-4o-mini").OrderBy(s => s.StartTimeUtc).ToList();
        Assert.Equal(2, chats.Count);
        Assert.All(chats, c => Assert.Equal(agent.SpanId, c.ParentSpanId));
        var tool = SpanTree.Single(trace, "execute_tool order_status");
        Assert.Equal(agent.SpanId, tool.ParentSpanId);
        Assert.Equal("call_s1", tool.GetTagItem("gen_ai.tool.call.id"));
        Assert.True(chats[0].StartTimeUtc + chats[0].Duration <= tool.StartTimeUtc);
        Assert.True(tool.StartTimeUtc + tool.Duration <= chats[1].StartTimeUtc);
        Assert.Equal(new[] { "tool_calls" }, chats[0].GetTagItem("gen_ai.response.finish_reasons"));
        Assert.Equal(40L, chats[1].GetTagItem("gen_ai.usage.input_tokens"));
        Assert.NotNull(chats[1].GetTagItem("gen_ai.response.time_to_first_chunk"));
        Assert.Equal("A-7 shipped on 30 November.", agent.GetTagItem("llm.output"));
        var received = LangfuseView.Attributes(agent);
        Assert.Equal("agent", received["langfuse.observation.type"]);
        Assert.Equal("A-7 shipped on 30 November.", received["langfuse.observation.output"]);
        Assert.Contains("Where is A-7?", (string)received["langfuse.observation.input"]!);
        Assert.Equal("tool", LangfuseView.Attributes(tool)["langfuse.observation.type"]);
        Assert.Single(chats[1].Events, e => e.Name == "llm.first_token");
        Assert.Contains("langfuse.observation.completion_start_time", LangfuseView.Attributes(chats[1]).Keys);
        LangfuseView.AssertNoLangfuseNames(trace);
    }

    protected override void AfterAll()
    {
        _spans.Dispose();
        base.AfterAll();
    }
}
