using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using TtaActors.Actors.Llm;
using TtaActors.Actors.Llm.Prompts;
using TtaActors.Runtime.Hosting;
using TtaActors.Runtime.Node;
using TtaActors.Runtime.Workflows;
using TtaActors.Tests.Support;
using TtaActors.Telemetry;
using TtaActors.Telemetry.Export.Langfuse;
using TtaActors.Tests.Llm;
using TtaActors.Llm.Providers;

namespace TtaActors.Tests.Agents;

/// <summary>
/// The node API in this process with workflow files that hold an agent step, an OpenAI-compatible loopback server that
/// asks for the agent's tools before it answers, the loopback service the http tool calls, and a loopback Langfuse that
/// serves the agent's chat prompt from its prompt API (Basic auth checked) and is the OTel endpoint the run's spans go to.
/// </summary>
public sealed class AgentNode : IAsyncLifetime
{
    public const string PublicKey = "pk-lf-agent-node";
    public const string SecretKey = "sk-lf-agent-node-secret-123456789";
    public const string OpenAiKey = "sk-agent-node-openai-0123456789abcdef";
    public const string Model = "gpt-4o-mini";
    public const string PromptName = "weather/forecaster";
    public const int PromptVersion = 5;
    public const string PromptSystem = "You are a weather assistant. Answer in one sentence.";
    public const string PromptsPath = "/api/public/v2/prompts/";

    /// <summary>The Authorization header Langfuse's public API accepts for the node's keys.</summary>
    public static string LangfuseAuthorization => "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{PublicKey}:{SecretKey}"));

    private readonly string _directory = Directory.CreateTempSubdirectory("tta-agent-node-").FullName;

    public ScriptedHttpServer OpenAi { get; private set; } = null!;
    public ScriptedHttpServer Weather { get; private set; } = null!;
    public ScriptedHttpServer Langfuse { get; private set; } = null!;
    public TracerProvider Tracer { get; private set; } = null!;
    public WebApplication App { get; private set; } = null!;
    public HttpClient Api { get; private set; } = null!;
    private LlmSettings? _llm;

    public async Task InitializeAsync()
    {
        OpenAi = new ScriptedHttpServer(AnswerChat);
        Weather = new ScriptedHttpServer(request => ScriptedResponse.Json("""{"city":"Berlin","temperature_c":7,"sky":"overcast"}"""));
        Langfuse = new ScriptedHttpServer(request => !request.Path.StartsWith(PromptsPath, StringComparison.Ordinal) ? new ScriptedResponse(200)
            : request.Headers.GetValueOrDefault("Authorization") != LangfuseAuthorization ? new ScriptedResponse(401, """{"message":"Invalid credentials"}""")
            : ScriptedResponse.Json(ForecasterPrompt));
        Tracer = Sdk.CreateTracerProviderBuilder()
            .ConfigureResource(r => r.AddService("tta-agent-node"))
            .AddTtaActorsInstrumentation()
            .AddLangfuseExporter(new LangfuseExporterOptions { Host = new Uri(Langfuse.BaseUrl), PublicKey = PublicKey, SecretKey = SecretKey })
            .Build()!;

        File.WriteAllText(Path.Combine(_directory, "forecast.yaml"), $$$"""
            name: forecast
            description: Answers a question about the weather with an agent.
            steps:
              - name: forecaster
                llm:
                  provider: openai
                  model: {{{Model}}}
                  prompt: {langfuse: {{{PromptName}}}, label: production}
                  max_iterations: 4
                  tools:
                    - name: weather
                      description: The current weather in a city.
                      parameters:
                        city: {type: string, description: "The city's name"}
                      http:
                        url: "{{{Weather.BaseUrl}}}/weather?city={{ input.city }}"
                    - name: summarise
                      description: Writes a one-line summary of a weather report.
                      parameters:
                        report: {type: string}
                      workflow: summarise-weather
            """);
        File.WriteAllText(Path.Combine(_directory, "summarise-weather.yaml"), """
            name: summarise-weather
            steps:
              - name: summary
                template: "Summary: {{ input.report }}"
            """);

        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = [], ApplicationName = "tta-agent-node" });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        var options = new NodeOptions { Runtime = new TtaRuntimeOptions { MetricsPort = 0, ServiceName = "tta-agent-node" } };
        builder.Services.AddTtaNodeApi(options);
        builder.Services.AddTtaActors(options.Runtime);
        // After AddTtaActors, which adds the settings read from the environment: the last registration wins.
        _llm = new LlmSettings(LlmProviders.Create(new LlmProviderOptions
        {
            OpenAiApiKey = OpenAiKey, OpenAiBaseUrl = new Uri(OpenAi.BaseUrl + "/v1"), MaxRetries = 0,
        }))
        {
            Prompts = new LangfusePrompts(new LangfusePromptOptions { Host = new Uri(Langfuse.BaseUrl), PublicKey = PublicKey, SecretKey = SecretKey }),
        };
        builder.Services.AddSingleton(_llm);
        builder.Services.AddSingleton<TtaActors.Actors.Sessions.IPersonaSessions>(sp => new InMemoryPersonaSessions(sp.GetRequiredService<Akka.Actor.ActorSystem>()));
        builder.Services.AddTtaWorkflows();
        App = builder.Build();
        App.UseExceptionHandler();
        App.MapTtaNodeApi(null);
        await App.StartAsync();
        var address = App.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        Api = new HttpClient { BaseAddress = new Uri(address), Timeout = TimeSpan.FromSeconds(60) };
        var loaded = App.Services.GetRequiredService<WorkflowRegistry>().LoadDirectory(_directory);
        if (loaded.FirstOrDefault(w => !w.Valid) is { } invalid)
            throw new InvalidOperationException($"{invalid.Source}: {string.Join("; ", invalid.Problems)}");
    }

    /// <summary>A Langfuse chat prompt as its prompt API serves it: a system message and the question from the step's input.</summary>
    private static string ForecasterPrompt => new JsonObject
    {
        ["id"] = "prompt-forecaster-5",
        ["name"] = PromptName,
        ["type"] = "chat",
        ["prompt"] = new JsonArray(
            new JsonObject { ["type"] = "chatmessage", ["role"] = "system", ["content"] = PromptSystem },
            new JsonObject { ["type"] = "chatmessage", ["role"] = "user", ["content"] = "{{question}}" }),
        ["version"] = PromptVersion,
        ["labels"] = new JsonArray("production", "latest"),
        ["tags"] = new JsonArray(),
        ["config"] = new JsonObject(),
    }.ToJsonString();

    /// <summary>Asks for the weather tool, then the summarise tool, then answers: one more tool message each turn.</summary>
    private static ScriptedResponse AnswerChat(RecordedRequest request)
    {
        var toolMessages = request.Json.GetProperty("messages").EnumerateArray().Count(m => m.GetProperty("role").GetString() == "tool");
        return toolMessages switch
        {
            0 => ToolCall("chatcmpl-a1", "call_weather_1", "weather", """{"city":"Berlin"}""", 120, 18),
            1 => ToolCall("chatcmpl-a2", "call_summary_2", "summarise", """{"report":"7 C and overcast in Berlin"}""", 190, 24),
            _ => ScriptedResponse.Json("""
                {"id":"chatcmpl-a3","object":"chat.completion","created":1700000000,"model":"gpt-4o-mini-2024-07-18",
                 "choices":[{"index":0,"message":{"role":"assistant","content":"Berlin: 7 C and overcast; take a coat."},"finish_reason":"stop"}],
                 "usage":{"prompt_tokens":260,"completion_tokens":12,"total_tokens":272}}
                """),
        };
    }

    public static ScriptedResponse ToolCall(string id, string callId, string tool, string arguments, int input, int output) =>
        ScriptedResponse.Json(JsonSerializer.Serialize(new
        {
            id,
            @object = "chat.completion",
            created = 1700000000,
            model = "gpt-4o-mini-2024-07-18",
            choices = new[]
            {
                new
                {
                    index = 0,
                    message = new
                    {
                        role = "assistant",
                        content = (string?)null,
                        tool_calls = new[] { new { id = callId, type = "function", function = new { name = tool, arguments } } },
                    },
                    finish_reason = "tool_calls",
                },
            },
            usage = new { prompt_tokens = input, completion_tokens = output, total_tokens = input + output },
        }));

    public async Task DisposeAsync()
    {
        Api?.Dispose();
        if (App is not null)
        {
            await App.StopAsync();
            await App.DisposeAsync();
        }
        Tracer?.Dispose();
        _llm?.Dispose();
        OpenAi?.Dispose();
        Weather?.Dispose();
        Langfuse?.Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}
