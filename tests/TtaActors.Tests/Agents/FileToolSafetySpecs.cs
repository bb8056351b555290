using System.Text.Json.Nodes;
using TtaActors.Actors.Execution;
using TtaActors.Actors.Llm;
using TtaActors.Runtime.Workflows;
using TtaActors.Tests.Llm;
using TtaActors.Tests.Primitives;
using TtaActors.Llm.Providers;

namespace TtaActors.Tests.Agents;

/// <summary>Tool arguments come from the model: file tools check them against the declared parameters and encode them in URLs.</summary>
public sealed class FileToolSafetySpecs : PrimitiveSpec
{
    [Fact]
    public async Task Http_tool_should_refuse_undeclared_arguments_and_path_climbing_values_and_tell_the_model_why()
    {
        using var weather = new ScriptedHttpServer(_ => ScriptedResponse.Json("""{"sky":"clear"}"""));
        using var openAi = new ScriptedHttpServer(request =>
        {
            var tools = request.Json.GetProperty("messages").EnumerateArray().Count(m => m.GetProperty("role").GetString() == "tool");
            return tools switch
            {
                0 => AgentNode.ToolCall("c1", "call_1", "weather", """{"city":"Oslo","host":"evil.example"}""", 10, 5),
                1 => AgentNode.ToolCall("c2", "call_2", "weather", """{"city":"../../admin?token=1#x"}""", 10, 5),
                _ => ScriptedResponse.Json("""{"id":"done","object":"chat.completion","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"Clear."},"finish_reason":"stop"}],"usage":{"prompt_tokens":10,"completion_tokens":2,"total_tokens":12}}"""),
            };
        });
        using var settings = new LlmSettings(LlmProviders.Create(new LlmProviderOptions { OpenAiApiKey = "sk-file-tool-0123456789abcdefgh", OpenAiBaseUrl = new Uri(openAi.BaseUrl + "/v1"), MaxRetries = 0 }));
        var (document, problems) = WorkflowFileParser.Parse($$$"""
            - name: forecaster
              llm:
                provider: openai
                model: gpt-4o-mini
                prompt: "{{ input }}"
                tools:
                  - name: weather
                    description: Weather in a city.
                    parameters:
                      city: {type: string}
                    http:
                      url: "{{{weather.BaseUrl}}}/weather/{{ input.city }}?q={{ input.city }}"
            """, "tools.yaml", "tools");
        Assert.Empty(problems);
        using var http = new HttpClient();
        var services = new WorkflowStepServices(http, _ => null, (definition, name) => WorkflowGraph.Materialize(Sys, definition, name),
            new LlmFileSteps(settings));

        var result = await WorkflowGraph.Materialize(Sys, WorkflowFileBuilder.Build(document!, services), "tools")
            .RunAsync(JsonValue.Create("Weather?"), options: new RunOptions { Timeout = TimeSpan.FromSeconds(30) });

        Assert.True(result.Succeeded, result.Failure?.ToString());
        var requests = openAi.Requests.ToList();
        var reported = requests[2].Json.GetProperty("messages").EnumerateArray()
            .Where(m => m.GetProperty("role").GetString() == "tool").Select(m => m.GetProperty("content").GetString()!).ToList();
        Assert.Equal(2, reported.Count);
        Assert.Contains("has no parameter 'host'", reported[0]);
        Assert.Contains("'.' or '..' segment", reported[1]);
        // Neither call reached the service.
        Assert.Empty(weather.Requests);
    }

    [Fact]
    public void Raw_values_in_an_http_tool_url_should_be_refused_where_the_file_says_so()
    {
        var (document, problems) = WorkflowFileParser.Parse("""
            - llm:
                prompt: "hi"
                tools:
                  - name: fetch
                    description: Fetches a URL.
                    parameters:
                      url: {type: string}
                    http:
                      url: "{{ input.url | raw }}"
            """, "raw.yaml", "raw");
        Assert.Null(document);
        var problem = Assert.Single(problems);
        Assert.Contains("'| raw' is not allowed in an http tool's url", problem.Message);
        Assert.Equal(9, problem.At.Line);
    }
}
