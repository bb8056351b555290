using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using OpenTelemetry;
using OpenTelemetry.Trace;
using TtaActors.Telemetry.Llm;
using TtaActors.Tests.Support;

namespace TtaActors.Tests.Agents;

/// <summary>
/// The issue's done-when case: a workflow file whose agent step has an http tool and a workflow tool, run through the
/// node API against an OpenAI-compatible loopback server that asks for both tools before it answers; the agent's prompt
/// is a chat prompt from Langfuse's prompt management, so each generation names the prompt and its version.
/// </summary>
public sealed class AgentWorkflowSpecs(AgentNode node) : IClassFixture<AgentNode>
{
    [Fact]
    public async Task Agent_run_should_call_both_tools_and_export_one_agent_two_tools_and_three_generations_linked_to_the_prompt_with_run_usage()
    {
        var response = await node.Api.PostAsJsonAsync("/runs", new { workflow = "forecast", input = new { question = "Do I need a coat in Berlin?" } });
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {body}");
        var run = JsonNode.Parse(body)!;
        Assert.Equal("succeeded", (string?)run["status"]);
        Assert.Equal("Berlin: 7 C and overcast; take a coat.", (string?)run["output"]);

        // The prompt: fetched once from Langfuse's prompt API by name (its folder slash encoded) and label, with Basic auth.
        var promptRequest = Assert.Single(node.Langfuse.Requests, r => r.Path.StartsWith(AgentNode.PromptsPath, StringComparison.Ordinal));
        Assert.Equal("GET", promptRequest.Method);
        Assert.Equal("/api/public/v2/prompts/weather%2Fforecaster?label=production", promptRequest.Target);
        Assert.Equal(AgentNode.LangfuseAuthorization, promptRequest.Headers["Authorization"]);

        // The wire: three chat requests, each opening with the served prompt filled from the input and offering both
        // tools; the tool results go back under their call ids.
        var chats = node.OpenAi.Requests.ToList();
        Assert.Equal(3, chats.Count);
        Assert.All(chats, c => Assert.Equal("/v1/chat/completions", c.Path));
        Assert.All(chats, c => Assert.Equal(
            new[] { ("system", AgentNode.PromptSystem), ("user", "Do I need a coat in Berlin?") }, Messages(c).Take(2)));
        var tools = chats[0].Json.GetProperty("tools").EnumerateArray().ToList();
        Assert.Equal(new[] { "weather", "summarise" }, tools.Select(t => t.GetProperty("function").GetProperty("name").GetString()));
        var weatherSchema = tools[0].GetProperty("function").GetProperty("parameters");
        Assert.Equal("string", weatherSchema.GetProperty("properties").GetProperty("city").GetProperty("type").GetString());
        Assert.Equal("city", weatherSchema.GetProperty("required")[0].GetString());
        var weatherRequest = Assert.Single(node.Weather.Requests);
        Assert.Equal("/weather", weatherRequest.Path);
        var second = ToolMessages(chats[1]);
        Assert.Equal("call_weather_1", Assert.Single(second).Id);
        Assert.Contains("overcast", Assert.Single(second).Content);
        var third = ToolMessages(chats[2]);
        Assert.Equal(new[] { "call_weather_1", "call_summary_2" }, third.Select(m => m.Id));
        Assert.Contains("Summary: 7 C and overcast in Berlin", third[1].Content);

        // Per-run tokens and cost, summed over the three chat calls, in GET /runs/{id}.
        var stored = JsonNode.Parse(await node.Api.GetStringAsync($"/runs/{(string?)run["runId"]}"))!;
        var usage = stored["usage"]!;
        Assert.Equal(3, (int)usage["llmCalls"]!);
        Assert.Equal(120 + 190 + 260, (long)usage["inputTokens"]!);
        Assert.Equal(18 + 24 + 12, (long)usage["outputTokens"]!);
        var price = CostCatalog.Default.Cost("gpt-4o-mini-2024-07-18", 120, 18)!.Total + CostCatalog.Default.Cost("gpt-4o-mini-2024-07-18", 190, 24)!.Total
            + CostCatalog.Default.Cost("gpt-4o-mini-2024-07-18", 260, 12)!.Total;
        Assert.True(price > 0m);
        Assert.Equal(price, (decimal)usage["costUsd"]!);
        Assert.True((bool)usage["costComplete"]!);

        // The trace, as the Langfuse OTel endpoint received it: invoke_agent > 3 chat + 2 execute_tool, in one tree.
        var traceId = (string)run["traceId"]!;
        Assert.True(node.Tracer.ForceFlush(30_000));
        var trace = node.Langfuse.Requests.Where(r => r.Path == "/api/public/otel/v1/traces")
            .SelectMany(r => OtlpDecoder.DecodeTraces(r.Body)).Where(s => s.TraceId == traceId).ToList();
        var agent = Assert.Single(trace, s => s.Name == "invoke_agent forecaster");
        Assert.Equal(1, agent.Kind); // internal
        Assert.Equal("forecaster", agent.Attributes["gen_ai.agent.name"]);
        Assert.Equal("invoke_agent", agent.Attributes["gen_ai.operation.name"]);
        var underAgent = trace.Where(s => s.ParentSpanId == agent.SpanId).ToList();
        var generations = underAgent.Where(s => s.Name == "chat " + AgentNode.Model).ToList();
        Assert.Equal(3, generations.Count);
        // Each generation is linked to the prompt version Langfuse served, so Langfuse shows it under that version.
        Assert.All(generations, g => Assert.Equal(AgentNode.PromptName, g.Attributes.GetValueOrDefault("langfuse.observation.prompt.name")));
        Assert.All(generations, g => Assert.Equal((long)AgentNode.PromptVersion, g.Attributes.GetValueOrDefault("langfuse.observation.prompt.version")));
        var toolSpans = underAgent.Where(s => s.Name.StartsWith("execute_tool ", StringComparison.Ordinal)).OrderBy(s => s.StartUnixNano).ToList();
        Assert.Equal(new[] { "execute_tool weather", "execute_tool summarise" }, toolSpans.Select(s => s.Name));
        Assert.Equal(new object?[] { "call_weather_1", "call_summary_2" }, toolSpans.Select(s => s.Attributes["gen_ai.tool.call.id"]));
        Assert.Equal(new object?[] { "extension", "function" }, toolSpans.Select(s => s.Attributes["gen_ai.tool.type"]));
        Assert.Equal("""{"city":"Berlin"}""", toolSpans[0].Attributes["gen_ai.tool.call.arguments"]);
        Assert.Contains("overcast", (string)toolSpans[0].Attributes["gen_ai.tool.call.result"]!);
        // The workflow tool's run is a child of its tool span, in the same trace.
        var nested = Assert.Single(trace, s => s.Name == "workflow.summarise-weather");
        Assert.Equal(toolSpans[1].SpanId, nested.ParentSpanId);
        Assert.All(trace, s => Assert.True(s.ParentSpanId == "" || trace.Any(p => p.SpanId == s.ParentSpanId), $"{s.Name} has no parent in the trace"));

        // What Langfuse shows: the observation type of each span.
        var types = trace.Select(s => s.Attributes.GetValueOrDefault("langfuse.observation.type") as string).Where(t => t is not null).ToList();
        Assert.Equal(1, types.Count(t => t == "agent"));
        Assert.Equal(2, types.Count(t => t == "tool"));
        Assert.Equal(3, types.Count(t => t == "generation"));
        // One trace, one name: the root names it, and the tool's nested run (a root span of its own) keeps the caller's.
        Assert.Equal("forecast", Assert.Single(trace, s => s.ParentSpanId == "").Attributes["langfuse.trace.name"]);
        Assert.Equal("forecast", nested.Attributes["langfuse.trace.name"]);
        Assert.All(trace, s => Assert.Equal("forecast", s.Attributes.GetValueOrDefault("langfuse.trace.name", "forecast")));
        Assert.DoesNotContain(trace.SelectMany(s => s.Attributes.Values).OfType<string>(), v => v.Contains(AgentNode.OpenAiKey, StringComparison.Ordinal));
        Assert.DoesNotContain(trace.SelectMany(s => s.Attributes.Values).OfType<string>(), v => v.Contains(AgentNode.SecretKey, StringComparison.Ordinal));
    }

    /// <summary>Role and text of each message; OpenAI content is a string or an array of text parts.</summary>
    private static List<(string Role, string Text)> Messages(Llm.RecordedRequest request) =>
        request.Json.GetProperty("messages").EnumerateArray()
            .Select(m => (m.GetProperty("role").GetString()!, m.TryGetProperty("content", out var content) ? content.ValueKind switch
            {
                JsonValueKind.String => content.GetString()!,
                JsonValueKind.Array => string.Concat(content.EnumerateArray().Select(p => p.TryGetProperty("text", out var t) ? t.GetString() : "")),
                _ => "",
            } : ""))
            .ToList();

    private static List<(string Id, string Content)> ToolMessages(Llm.RecordedRequest request) =>
        request.Json.GetProperty("messages").EnumerateArray()
            .Where(m => m.GetProperty("role").GetString() == "tool")
            .Select(m => (m.GetProperty("tool_call_id").GetString()!, m.GetProperty("content").ValueKind == JsonValueKind.String
                ? m.GetProperty("content").GetString()! : m.GetProperty("content").GetRawText()))
            .ToList();
}
