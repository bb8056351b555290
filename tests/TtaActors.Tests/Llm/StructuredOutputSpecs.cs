using System.Text.Json;
using System.Text.Json.Nodes;
using TtaActors.Actors.Context;
using TtaActors.Actors.Execution;
using TtaActors.Actors.Llm;
using TtaActors.Runtime.Workflows;
using TtaActors.Tests.Primitives;
using TtaActors.Llm.Providers;

namespace TtaActors.Tests.Llm;

/// <summary>Steps that must answer with JSON matching a schema: what the providers are sent, validation, re-asking, and the file syntax.</summary>
public class StructuredOutputSpecs : PrimitiveSpec
{
    private const string OpenAiKey = "sk-structured-spec-0123456789abcdef";
    private const string AnthropicKey = "sk-ant-structured-spec-0123456789abcdef";

    public sealed record Verdict(string Decision, int Confidence);

    private static ScriptedResponse OpenAiAnswer(string content) => ScriptedResponse.Json(new JsonObject
    {
        ["id"] = "chatcmpl-s",
        ["object"] = "chat.completion",
        ["created"] = 1700000000,
        ["model"] = "gpt-4o-mini",
        ["choices"] = new JsonArray(new JsonObject
        {
            ["index"] = 0,
            ["message"] = new JsonObject { ["role"] = "assistant", ["content"] = content },
            ["finish_reason"] = "stop",
        }),
        ["usage"] = new JsonObject { ["prompt_tokens"] = 40, ["completion_tokens"] = 9, ["total_tokens"] = 49 },
    }.ToJsonString());

    private static LlmSettings OpenAi(ScriptedHttpServer server) =>
        new(LlmProviders.Create(new LlmProviderOptions { OpenAiApiKey = OpenAiKey, OpenAiBaseUrl = new Uri(server.BaseUrl + "/v1"), MaxRetries = 0 }));

    [Fact]
    public async Task Schema_from_a_csharp_type_should_be_sent_as_response_format_and_the_parsed_json_be_the_output()
    {
        using var server = new ScriptedHttpServer(_ => OpenAiAnswer("""{"decision":"ship","confidence":8}"""));
        var step = OpenAi(server).Chat("openai", "gpt-4o-mini", new LlmStepOptions { OutputSchema = LlmOutputSchema.For<Verdict>() });

        var result = await Run(step, "Ship v2?");

        Assert.True(result.Succeeded, result.Failure?.ToString());
        var output = Assert.IsAssignableFrom<JsonNode>(result.Output);
        Assert.Equal("ship", (string?)output["decision"]);
        Assert.Equal(8, (int?)output["confidence"]);
        var format = (await server.NextRequest()).Json.GetProperty("response_format");
        Assert.Equal("json_schema", format.GetProperty("type").GetString());
        var schema = format.GetProperty("json_schema");
        Assert.Equal("Verdict", schema.GetProperty("name").GetString());
        var properties = schema.GetProperty("schema").GetProperty("properties");
        Assert.Equal("string", properties.GetProperty("decision").GetProperty("type").GetString());
        Assert.Equal("integer", properties.GetProperty("confidence").GetProperty("type").GetString());
        Assert.Single(result.Context.LlmCalls);
    }

    [Fact]
    public async Task Answer_that_does_not_match_should_be_asked_again_with_the_validation_error()
    {
        using var server = new ScriptedHttpServer(request =>
            OpenAiAnswer(request.Json.GetProperty("messages").GetArrayLength() == 1 ? """{"decision":"ship"}""" : """{"decision":"wait","confidence":3}"""));
        var step = OpenAi(server).Chat("openai", "gpt-4o-mini", new LlmStepOptions { OutputSchema = LlmOutputSchema.For<Verdict>() });

        var result = await Run(step, "Ship v2?");

        Assert.True(result.Succeeded, result.Failure?.ToString());
        Assert.Equal("wait", (string?)((JsonNode)result.Output!)["decision"]);
        var requests = server.Requests.ToList();
        Assert.Equal(2, requests.Count);
        var messages = requests[1].Json.GetProperty("messages").EnumerateArray().ToList();
        Assert.Equal(["user", "assistant", "user"], messages.Select(m => m.GetProperty("role").GetString()));
        Assert.Equal("""{"decision":"ship"}""", messages[1].GetProperty("content").GetString());
        var followUp = messages[2].GetProperty("content").GetString()!;
        Assert.Contains("does not match the required JSON schema: at the root:", followUp);
        Assert.Contains("confidence", followUp);
        // Both calls count: each was a real model call.
        Assert.Equal(2, result.Context.LlmCalls.Count);
    }

    [Fact]
    public async Task Answer_that_is_not_json_should_fail_the_step_when_no_retries_are_left()
    {
        using var server = new ScriptedHttpServer(_ => OpenAiAnswer("Sure! I think we should ship."));
        var step = OpenAi(server).Chat("openai", "gpt-4o-mini", new LlmStepOptions { OutputSchema = LlmOutputSchema.For<Verdict>(), OutputRetries = 0 });

        var result = await Run(step, "Ship v2?");

        Assert.False(result.Succeeded);
        var error = Assert.IsType<LlmOutputException>(result.Failure!.Exception);
        Assert.Contains("the answer is not JSON", error.Problem);
        Assert.Contains("(1 answer(s), OutputRetries 0)", error.Message);
        Assert.Single(server.Requests);
    }

    [Fact]
    public async Task Retries_should_stop_at_output_retries_and_fail_with_the_path_of_the_problem()
    {
        using var server = new ScriptedHttpServer(_ => OpenAiAnswer("""{"decision":"ship","confidence":"very"}"""));
        var step = OpenAi(server).Chat("openai", "gpt-4o-mini", new LlmStepOptions { OutputSchema = LlmOutputSchema.For<Verdict>(), OutputRetries = 2 });

        var result = await Run(step, "Ship v2?");

        var error = Assert.IsType<LlmOutputException>(result.Failure!.Exception);
        Assert.Equal("/confidence", error.Path);
        Assert.Contains("at /confidence", error.Message);
        Assert.Contains("(3 answer(s), OutputRetries 2)", error.Message);
        Assert.Equal(3, server.Requests.Count);
    }

    [Fact]
    public async Task Anthropic_should_be_sent_the_schema_as_its_output_format()
    {
        using var server = new ScriptedHttpServer(_ => ScriptedResponse.Json(
            """{"id":"msg_s","type":"message","role":"assistant","model":"claude-haiku-4-5","content":[{"type":"text","text":"{\"decision\":\"ship\",\"confidence\":9}"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":30,"output_tokens":12}}"""));
        var settings = new LlmSettings(LlmProviders.Create(new LlmProviderOptions { AnthropicApiKey = AnthropicKey, AnthropicBaseUrl = new Uri(server.BaseUrl), MaxRetries = 0 }));
        var step = settings.Chat("anthropic", "claude-haiku-4-5", new LlmStepOptions { OutputSchema = LlmOutputSchema.For<Verdict>(), MaxTokens = 100 });

        var result = await Run(step, "Ship v2?");

        Assert.True(result.Succeeded, result.Failure?.ToString());
        Assert.Equal(9, (int?)((JsonNode)result.Output!)["confidence"]);
        var body = (await server.NextRequest()).Json;
        Assert.False(body.TryGetProperty("response_format", out _));
        var format = body.GetProperty("output_config").GetProperty("format");
        Assert.Equal("json_schema", format.GetProperty("type").GetString());
        Assert.Equal("integer", format.GetProperty("schema").GetProperty("properties").GetProperty("confidence").GetProperty("type").GetString());
    }

    [Theory]
    [InlineData("""{"type":"strnig"}""", "/type")]
    [InlineData("""{"type":"object","required":"name"}""", "/required")]
    [InlineData("""[1]""", "")]
    public void Schema_that_is_not_a_json_schema_should_be_refused_naming_where(string schema, string path)
    {
        var problem = LlmOutputSchema.ProblemOf(JsonDocument.Parse(schema).RootElement);

        Assert.NotNull(problem);
        Assert.Equal(path, problem.Value.Path);
        Assert.Throws<ArgumentException>(() => LlmOutputSchema.FromJson(JsonDocument.Parse(schema).RootElement));
    }

    [Theory]
    [InlineData(0, true)]
    [InlineData(5, true)]
    [InlineData(6, false)]
    [InlineData(-1, false)]
    public void Output_retries_should_be_zero_to_five(int retries, bool allowed)
    {
        var build = () => new LlmSettings(LlmProviders.Create()).Chat(options: new LlmStepOptions { OutputSchema = LlmOutputSchema.For<Verdict>(), OutputRetries = retries });
        if (allowed) Assert.NotNull(build());
        else Assert.Throws<ArgumentOutOfRangeException>(build);
    }

    [Fact]
    public async Task File_step_with_an_output_schema_should_answer_with_the_parsed_json()
    {
        using var server = new ScriptedHttpServer(request => OpenAiAnswer(request.Json.GetProperty("messages").GetArrayLength() == 1
            ? """{"tags":["api","breaking","orders","v2"]}"""
            : """{"tags":["api","breaking"]}"""));
        using var settings = OpenAi(server);
        var (document, problems) = WorkflowFileParser.Parse("""
            - name: classify
              llm:
                provider: openai
                model: gpt-4o-mini
                prompt: "Tag {{ input.change }}"
                output_schema:
                  type: object
                  properties:
                    tags: {type: array, items: {type: string}, maxItems: 3}
                  required: [tags]
                output_retries: 1
            """, "classify.yaml", "classify");
        Assert.Empty(problems);
        var services = new WorkflowStepServices(new HttpClient(), _ => null,
            (definition, name) => WorkflowGraph.Materialize(Sys, definition, name)) { Llm = new LlmFileSteps(settings) };
        var graph = WorkflowGraph.Materialize(Sys, WorkflowFileBuilder.Build(document!, services), "classify");

        var result = await graph.RunAsync(JsonNode.Parse("""{"change":"orders API v2"}"""), WorkflowContext.Create(),
            new RunOptions { Timeout = TimeSpan.FromSeconds(30) });

        Assert.True(result.Succeeded, result.Failure?.ToString());
        Assert.Equal("""{"tags":["api","breaking"]}""", ((JsonNode)result.Output!).ToJsonString());
        var first = await server.NextRequest();
        var format = first.Json.GetProperty("response_format").GetProperty("json_schema");
        Assert.Equal("classify", format.GetProperty("name").GetString());
        Assert.Equal("array", format.GetProperty("schema").GetProperty("properties").GetProperty("tags").GetProperty("type").GetString());
        // maxItems is checked here whatever the provider's adapter sends on: four tags were asked again.
        var followUp = (await server.NextRequest()).Json.GetProperty("messages").EnumerateArray().Last().GetProperty("content").GetString()!;
        Assert.Contains("at /tags:", followUp);
    }

    [Theory]
    [InlineData("output_schema: {type: object, properties: {a: {type: strnig}}}", 4, 58, "'output_schema' is not a valid JSON schema at /properties/a/type")]
    [InlineData("output_schema: [1, 2]", 4, 20, "'output_schema' takes a JSON schema as a mapping")]
    [InlineData("output_retries: 2", 4, 21, "'output_retries' only applies with an 'output_schema:'")]
    [InlineData("output_schema: {type: object}\n    output_retries: 6", 5, 21, "'output_retries' must be")]
    [InlineData("output_schema: {type: object, type: string}", 4, 35, "")]
    public void Bad_output_settings_should_be_problems_at_their_line_and_column(string extra, int line, int column, string expected)
    {
        var yaml = "- llm:\n    model: m\n    prompt: p\n    " + extra + "\n";

        var (document, problems) = WorkflowFileParser.Parse(yaml, "bad.yaml", "bad");

        Assert.Null(document);
        var problem = problems[0];
        Assert.Equal(("bad.yaml", line, column), (problem.At.File, problem.At.Line, problem.At.Column));
        Assert.Contains(expected, problem.Message);
    }
}
