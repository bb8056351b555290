using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using TtaActors.Actors.Primitives;
using TtaActors.Runtime.Hosting;
using TtaActors.Runtime.Node;
using TtaActors.Runtime.Workflows;
using TtaActors.Tests.Support;

namespace TtaActors.Tests.NodeApi;

/// <summary>
/// The node's HTTP API in this process: the same endpoints, Problem Details and body limit as <c>tta node</c>, on a
/// free loopback port, over a plain (non-clustered) actor system with in-memory sessions, so the API's behaviour can be
/// tested in seconds (and by the mutation runs) without starting a node process. The token is always enforced here.
/// </summary>
public sealed class NodeApiServer : IAsyncLifetime
{
    /// <summary>Mixed case, so its upper-, lower- and swapped-case forms are all different from it.</summary>
    public const string ApiToken = "Node-Api-Token-0123456789-abcDEF";
    public const long MaxBodyBytes = 4096;

    public const string EchoWorkflow = "echo";
    public const string FailingWorkflow = "explode";
    public const string FailingStep = "explode-step";
    public const string FailureMessage = "the probe step failed on purpose";
    public const string StringOnlyWorkflow = "string-only";
    public const string StringOnlyMessage = "Workflow 'string-only' takes a string as input.";
    public const string GatedWorkflow = "gated";
    public const string GatedDescription = "Waits until the test opens its gate.";
    public const string InvalidWorkflow = "broken";

    private readonly TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly string _workflowsDirectory = Directory.CreateTempSubdirectory("tta-node-api-").FullName;

    public WebApplication App { get; private set; } = null!;
    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>A client that sends the right token.</summary>
    public HttpClient Api { get; private set; } = null!;

    /// <summary>A readiness check the tests can fail on purpose.</summary>
    public SwitchableReadiness Switchable { get; } = new();

    public async Task InitializeAsync()
    {
        var options = new NodeOptions { MaxBodyBytes = MaxBodyBytes, ApiToken = ApiToken, Runtime = new TtaRuntimeOptions { MetricsPort = 0, ServiceName = "tta-node-api-specs" } };
        var builder = Builder(options);
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.MaxRequestBodySize = MaxBodyBytes);
        builder.Services.AddSingleton<INodeReadinessCheck>(sp => new ActorSystemReadiness(sp.GetRequiredService<Akka.Actor.ActorSystem>()));
        builder.Services.AddSingleton<INodeReadinessCheck>(Switchable);

        App = builder.Build();
        App.UseExceptionHandler();
        App.UseStatusCodePages();
        App.MapTtaNodeApi(ApiToken);
        await App.StartAsync();

        var address = App.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        BaseAddress = new Uri(address);
        Api = Client(ApiToken);
        RegisterWorkflows();
    }

    /// <summary>
    /// An app that hosts the node's API the way this fixture does: a free loopback port, no log output, and a plain (not
    /// clustered) actor system with in-memory sessions and the workflow registry. Map the API and start it yourself.
    /// </summary>
    public static WebApplicationBuilder Builder(NodeOptions options)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = [], ApplicationName = options.Runtime.ServiceName });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        builder.Services.AddTtaNodeApi(options);
        builder.Services.AddTtaActors(options.Runtime);
        builder.Services.AddSingleton<TtaActors.Actors.Sessions.IPersonaSessions>(sp => new InMemoryPersonaSessions(sp.GetRequiredService<Akka.Actor.ActorSystem>()));
        builder.Services.AddTtaWorkflows();
        return builder;
    }

    /// <summary>A client with <paramref name="token"/> as its bearer token, or none.</summary>
    public HttpClient Client(string? token, string scheme = "Bearer")
    {
        var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        if (token is not null) client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue(scheme, token);
        return client;
    }

    /// <summary>Every route the application maps, as (method, route pattern) pairs, read from its endpoint data source.</summary>
    public IReadOnlyList<(string Method, string Pattern)> Routes() =>
        App.Services.GetRequiredService<EndpointDataSource>().Endpoints
            .OfType<RouteEndpoint>()
            .SelectMany(endpoint => (endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? ["GET"])
                .Select(method => (method, "/" + endpoint.RoutePattern.RawText!.TrimStart('/'))))
            .Distinct()
            .OrderBy(route => route.Item2, StringComparer.Ordinal).ThenBy(route => route.method, StringComparer.Ordinal)
            .ToList();

    public void OpenGate() => _gate.TrySetResult();

    public Task<(int Status, JsonNode? Body, HttpResponseMessage Response)> PostAsync(string path, string json, HttpClient? client = null) =>
        SendAsync(new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(json, Encoding.UTF8, "application/json") }, client);

    public Task<(int Status, JsonNode? Body, HttpResponseMessage Response)> GetAsync(string path, HttpClient? client = null) =>
        SendAsync(new HttpRequestMessage(HttpMethod.Get, path), client);

    public async Task<(int Status, JsonNode? Body, HttpResponseMessage Response)> SendAsync(HttpRequestMessage request, HttpClient? client = null)
    {
        using (request)
        {
            var response = await (client ?? Api).SendAsync(request);
            var text = await response.Content.ReadAsStringAsync();
            return ((int)response.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text), response);
        }
    }

    public async Task DisposeAsync()
    {
        OpenGate();
        Api?.Dispose();
        if (App is not null)
        {
            await App.StopAsync();
            await App.DisposeAsync();
        }
        Directory.Delete(_workflowsDirectory, recursive: true);
    }

    private void RegisterWorkflows()
    {
        var registry = App.Services.GetRequiredService<WorkflowRegistry>();
        registry.Register(EchoWorkflow, Lambda.From<JsonNode?, JsonNode?>(input => input, "echo-step"), description: "Answers with its input.");
        registry.Register(FailingWorkflow, Lambda.From<JsonNode?, JsonNode?>(_ => throw new InvalidOperationException(FailureMessage), FailingStep));
        registry.Register(StringOnlyWorkflow, Lambda.From<string, string>(text => text.ToUpperInvariant(), "shout"), input =>
            input is JsonValue value && value.TryGetValue<string>(out var text) ? text : throw new ArgumentException(StringOnlyMessage));
        registry.Register(GatedWorkflow, Lambda.FromAsync<JsonNode?, JsonNode?>(async (input, cancellation) =>
        {
            await _gate.Task.WaitAsync(cancellation);
            return input;
        }, "wait-for-gate"), description: GatedDescription);

        File.WriteAllText(Path.Combine(_workflowsDirectory, InvalidWorkflow + ".yaml"), """
            - template: "fine"
            - shout: "HELLO"
            """);
        registry.LoadDirectory(_workflowsDirectory);
        App.Services.GetRequiredService<WorkflowsLoadedReadiness>().MarkLoaded();
    }
}

/// <summary>A readiness condition a test turns off and on.</summary>
public sealed class SwitchableReadiness : INodeReadinessCheck
{
    private volatile string? _problem;

    public string Name => "switchable";

    public void Fail(string problem) => _problem = problem;

    public void Recover() => _problem = null;

    public Task<string?> CheckAsync(CancellationToken cancellation) => Task.FromResult(_problem);
}
