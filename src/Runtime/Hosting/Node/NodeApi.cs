using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using TtaActors.Actors.Sessions;
using TtaActors.Runtime.Durable;
using TtaActors.Runtime.Inspector;
using TtaActors.Runtime.Runs;
using TtaActors.Runtime.Workflows;

namespace TtaActors.Runtime.Node;

/// <summary>The session ids this node has served through its API, for <c>GET /sessions</c>.</summary>
public sealed class SessionDirectory
{
    private readonly ConcurrentDictionary<string, DateTimeOffset> _seen = new(StringComparer.Ordinal);

    /// <summary>Notes that <paramref name="sessionId"/> was used now.</summary>
    public void Seen(string sessionId) => _seen[sessionId] = DateTimeOffset.UtcNow;

    /// <summary>The ids seen so far, sorted.</summary>
    public IReadOnlyList<string> Ids => _seen.Keys.Order(StringComparer.Ordinal).ToList();
}

/// <summary>
/// The node's HTTP API (JSON; errors as RFC 9457 Problem Details): runs, sessions, workflows, health and readiness.
/// </summary>
public static class NodeApi
{
    /// <summary>The base of every problem <c>type</c> the API answers.</summary>
    public const string ProblemTypeBase = "https://tta.dev/problems/";

    private static readonly JsonSerializerOptions RequestJson = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    };

    /// <summary>
    /// Everything <see cref="MapTtaNodeApi(WebApplication, string?)"/> resolves beyond the runtime and the workflows: the options and run store,
    /// Problem Details, the run inspector, the session directory and the workflows-loaded readiness check. The node and
    /// every in-process host of the API call this, so a new endpoint's services are registered in one place.
    /// </summary>
    public static IServiceCollection AddTtaNodeApi(this IServiceCollection services, NodeOptions options)
    {
        services.AddSingleton(options);
        services.AddSingleton(options.RunStore);
        services.AddProblemDetails();
        services.AddExceptionHandler<NodeProblems.Handler>();
        services.AddTtaInspector(options.SpanStore);
        services.AddSingleton<SessionDirectory>();
        services.AddSingleton<WorkflowsLoadedReadiness>();
        services.AddSingleton<INodeReadinessCheck>(sp => sp.GetRequiredService<WorkflowsLoadedReadiness>());
        return services;
    }

    /// <summary>
    /// Maps the node's API into an app of your own, after <see cref="NodeHostingExtensions.AddTtaNode"/>: with
    /// <see cref="NodeOptions.ApiToken"/> set, every request of the app but the health probes must carry it as bearer token.
    /// Call <c>app.UseExceptionHandler()</c> before it, so refusals answer as Problem Details (400, 404, 413, ...).
    /// </summary>
    public static WebApplication MapTtaNodeApi(this WebApplication app)
    {
        var options = app.Services.GetService<NodeOptions>()
            ?? throw new InvalidOperationException("MapTtaNodeApi needs the node's services: call builder.Services.AddTtaNode(options) before builder.Build().");
        if (options.ApiToken is null)
            app.Lifetime.ApplicationStarted.Register(() => WarnIfReachableWithoutToken(app));
        return app.MapTtaNodeApi(options.ApiToken);
    }

    /// <summary>
    /// The app's own server decides where the API listens, so <see cref="NodeOptions.Validate"/> cannot refuse an open
    /// address as <c>tta node</c> does; this says so once the addresses are known.
    /// </summary>
    private static void WarnIfReachableWithoutToken(WebApplication app)
    {
        var addresses = app.Services.GetService<IServer>()?.Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        var open = addresses.Where(address => !IsLoopbackAddress(address)).ToList();
        if (open.Count > 0)
            app.Logger.LogWarning(
                "The TtaActors node API is served on {Addresses} without a token, so anyone who reaches them can start runs and read their " +
                "output: set NodeOptions.ApiToken (or TTA_API_TOKEN for tta node), or listen on loopback only.", string.Join(", ", open));
    }

    /// <summary>True for a server address on loopback: <c>localhost</c> or a loopback IP (wildcards like <c>*</c>, <c>+</c>, <c>0.0.0.0</c> are not).</summary>
    internal static bool IsLoopbackAddress(string address)
    {
        var start = address.IndexOf("://", StringComparison.Ordinal);
        var host = start < 0 ? address : address[(start + 3)..];
        var end = host.StartsWith('[') ? host.IndexOf(']') + 1 : host.IndexOfAny([':', '/']);
        if (end > 0) host = host[..end];
        host = host.Trim('[', ']');
        return host.Equals("localhost", StringComparison.OrdinalIgnoreCase)
               || (System.Net.IPAddress.TryParse(host, out var ip) && System.Net.IPAddress.IsLoopback(ip));
    }

    /// <summary>
    /// Holds a request body to <see cref="NodeOptions.MaxBodyBytes"/> (413 beyond it) whatever the app's server allows,
    /// as long as nothing has read the body yet.
    /// </summary>
    internal static void LimitBody(HttpContext http)
    {
        if (http.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit &&
            http.RequestServices.GetService<NodeOptions>() is { } options &&
            (limit.MaxRequestBodySize is null || limit.MaxRequestBodySize > options.MaxBodyBytes))
            limit.MaxRequestBodySize = options.MaxBodyBytes;
    }

    /// <summary>Maps every endpoint; with a token, every request but the health probes must carry it.</summary>
    public static WebApplication MapTtaNodeApi(this WebApplication app, string? apiToken)
    {
        if (apiToken is not null) app.Use(BearerCheck(apiToken));

        app.MapPost("/runs", PostRunAsync);
        app.MapDurableRunsApi();
        app.MapTtaInspector(apiToken);
        app.MapGet("/runs/{id}", async (string id, RunService runs, HttpContext http) =>
            runs.Get(id) is { } run ? Results.Json(RunJson(run.Record, run.Output), JsonData.OutputDocument)
            : await DurableRunsApi.FindAsync(http.RequestServices, id) is { } durable ? Results.Json(durable, JsonData.OutputDocument)
            : Problem(404, "run-not-found", "Run not found",
                $"No run '{PersonaNames.Printable(id.Length > 64 ? id[..64] + "..." : id)}' on this node: runs are kept while they fit in " +
                $"{runs.Store.Limits.MaxRuns} runs and {runs.Store.Limits.MaxBytes} bytes (TTA_RUN_STORE_MAX_RUNS, TTA_RUN_STORE_MAX_BYTES), the oldest go first."));
        app.MapGet("/sessions", (SessionDirectory directory) => Results.Json(new JsonObject
        {
            ["sessions"] = new JsonArray(directory.Ids.Select(id => (JsonNode?)JsonValue.Create(id)).ToArray()),
        }));
        app.MapGet("/sessions/{id}", GetSessionAsync);
        app.MapPost("/sessions/{id}/persona", SwitchPersonaAsync);
        app.MapGet("/workflows", (WorkflowRegistry registry) => Results.Json(new JsonObject
        {
            ["workflows"] = new JsonArray(registry.List().Select(WorkflowJson).ToArray()),
        }));
        app.MapGet("/healthz", () => Results.Json(new JsonObject { ["status"] = "ok" }));
        app.MapGet("/readyz", ReadyAsync);
        return app;
    }

    // Endpoints only say what succeeds: every refusal is an exception that NodeProblems turns into Problem Details.
    private static async Task<IResult> PostRunAsync(HttpContext http, RunService runs, SessionDirectory directory)
    {
        var body = await ReadAsync<RunBody>(http);
        var (started, completion) = await runs.StartAsync(
            new RunRequest(body.Workflow, body.Input, body.Session, body.Persona, body.ChatMode), http.RequestAborted);
        if (body.Session is not null) directory.Seen(body.Session);
        if (body.Wait == false) return Results.Json(RunJson(started), JsonData.OutputDocument, statusCode: 202);
        // The run goes on if the caller leaves; only the wait for its answer ends.
        var finished = await completion.WaitAsync(http.RequestAborted);
        return Results.Json(RunJson(finished), JsonData.OutputDocument);
    }

    private static async Task<IResult> GetSessionAsync(string id, IPersonaSessions sessions, CancellationToken cancellation)
    {
        InvalidFieldException.CheckNames(id, null, null);
        var view = await sessions.GetAsync(id, cancellation);
        if (view.Persona is null && view.RunsStarted == 0 && view.Switches.Count == 0)
            return Problem(404, "session-not-found", "Session not found",
                $"Session '{id}' has no persona and no runs yet. Start it with POST /sessions/{id}/persona or a run with \"session\": \"{id}\".");
        return Results.Json(SessionJson(view));
    }

    private static async Task<IResult> SwitchPersonaAsync(string id, HttpContext http, IPersonaSessions sessions, SessionDirectory directory)
    {
        InvalidFieldException.CheckNames(id, null, null);
        var body = await ReadAsync<PersonaBody>(http);
        InvalidFieldException.CheckNames(null, body.Persona, body.ChatMode);
        var view = await sessions.SwitchPersonaAsync(id, body.Persona, body.ChatMode, http.RequestAborted);
        directory.Seen(id);
        return Results.Json(SessionJson(view));
    }

    private static async Task<IResult> ReadyAsync(IEnumerable<INodeReadinessCheck> checks, CancellationToken cancellation)
    {
        var results = new JsonObject();
        var ready = true;
        foreach (var check in checks)
        {
            var problem = await check.CheckAsync(cancellation);
            results[check.Name] = problem ?? "ok";
            ready &= problem is null;
        }
        if (ready) return Results.Json(new JsonObject { ["status"] = "ready", ["checks"] = results });
        return Problem(503, "not-ready", "Node not ready", "One or more readiness checks failed.", new() { ["checks"] = results });
    }

    /// <summary>
    /// Reads a JSON body; a body over the size limit throws Kestrel's 413, malformed JSON or a wrong field a
    /// <see cref="MalformedBodyException"/> with the JSON path of the problem.
    /// </summary>
    private static async Task<T> ReadAsync<T>(HttpContext http) where T : class
    {
        LimitBody(http);
        try
        {
            return await JsonSerializer.DeserializeAsync<T>(http.Request.Body, RequestJson, http.RequestAborted)
                   ?? throw new MalformedBodyException("The body is JSON null; send a JSON object.", "$", null, null);
        }
        catch (JsonException malformed)
        {
            throw NodeProblems.Describe(malformed, FieldsOf<T>());
        }
    }

    private static IReadOnlyList<string> FieldsOf<T>() =>
        RequestJson.GetTypeInfo(typeof(T)).Properties.Select(p => p.Name).ToList();

    /// <summary>
    /// Every request but the health probes must carry <c>Authorization: Bearer TOKEN</c>. The scheme is matched in any
    /// case (RFC 9110 section 11.1); the token exactly, in constant time (both sides are hashed first, so not even its
    /// length shows in the timing).
    /// </summary>
    private static Func<HttpContext, RequestDelegate, Task> BearerCheck(string token)
    {
        var expected = SHA256.HashData(Encoding.UTF8.GetBytes(token));
        return (http, next) =>
        {
            if (http.Request.Path.StartsWithSegments("/healthz") || http.Request.Path.StartsWithSegments("/readyz")) return next(http);
            var header = http.Request.Headers.Authorization.ToString();
            if (BearerToken(header) is { } given && CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(given)), expected))
                return next(http);
            if (header.Length == 0 && InspectorAccess.Admits(http, token)) return next(http);
            http.Response.Headers.WWWAuthenticate = "Bearer";
            return Problem(401, "unauthorized", "Unauthorized",
                    header.Length == 0 ? "This node requires 'Authorization: Bearer <TTA_API_TOKEN>'." : "The bearer token is not this node's TTA_API_TOKEN.")
                .ExecuteAsync(http);
        };
    }

    /// <summary>The token of an <c>Authorization</c> header with the Bearer scheme (any case), else null.</summary>
    public static string? BearerToken(string header)
    {
        var text = header.Trim(' ', '\t');
        var space = text.IndexOfAny([' ', '\t']);
        if (space <= 0 || !text[..space].Equals("Bearer", StringComparison.OrdinalIgnoreCase)) return null;
        var token = text[(space + 1)..].Trim(' ', '\t');
        return token.Length == 0 ? null : token;
    }

    /// <summary>A Problem Details answer whose type is <see cref="ProblemTypeBase"/> followed by <paramref name="type"/>.</summary>
    public static IResult Problem(int status, string type, string title, string detail, Dictionary<string, object?>? extensions = null) =>
        Results.Problem(detail: detail, statusCode: status, title: title, type: ProblemTypeBase + type, extensions: extensions);

    /// <param name="output">The output as stored; null takes the record's own output.</param>
    /// <param name="run">The run.</param>
    public static JsonObject RunJson(RunRecord run, JsonNode? output = null)
    {
        var json = new JsonObject
        {
            ["runId"] = run.RunId,
            ["workflow"] = run.Workflow,
            ["status"] = run.Status.ToString().ToLowerInvariant(),
            ["output"] = output ?? JsonData.ToNode(run.Output),
            ["traceId"] = run.TraceId,
        };
        if (run.Error is { } error)
            json["error"] = new JsonObject { ["primitivePath"] = error.PrimitivePath, ["type"] = error.ErrorType, ["message"] = error.Message };
        if (run.Session is not null) json["session"] = run.Session;
        if (run.Persona is not null) json["persona"] = run.Persona;
        if (run.ChatMode is not null) json["chatmode"] = run.ChatMode;
        json["startedAt"] = run.StartedAt;
        if (run.FinishedAt is { } finished) json["finishedAt"] = finished;
        if (run.Usage is { } usage)
        {
            json["usage"] = new JsonObject
            {
                ["llmCalls"] = usage.Calls,
                ["inputTokens"] = usage.InputTokens,
                ["outputTokens"] = usage.OutputTokens,
                ["totalTokens"] = usage.TotalTokens,
                ["costUsd"] = usage.CostUsd,
                ["costComplete"] = usage.CostComplete,
            };
        }
        return json;
    }

    /// <summary>The JSON of a session as <c>GET /sessions/{id}</c> answers it.</summary>
    public static JsonObject SessionJson(SessionView view) => new()
    {
        ["id"] = view.Id,
        ["persona"] = view.Persona,
        ["chatmode"] = view.ChatMode,
        ["switches"] = new JsonArray(view.Switches.Select(s => (JsonNode?)new JsonObject
        {
            ["from"] = s.From,
            ["to"] = s.To,
            ["chatmode"] = s.ChatMode,
            ["at"] = s.At,
        }).ToArray()),
        ["runs"] = view.RunsStarted,
        ["runsFinished"] = view.RunsFinished,
        ["tokens"] = view.Tokens,
        ["costUsd"] = view.CostUsd,
    };

    private static JsonNode WorkflowJson(WorkflowSummary workflow) => new JsonObject
    {
        ["name"] = workflow.Name,
        ["source"] = workflow.Source,
        ["description"] = workflow.Description,
        ["valid"] = workflow.Valid,
        ["problems"] = ProblemsJson(workflow.Problems),
    };

    internal static JsonArray ProblemsJson(IReadOnlyList<WorkflowProblem> problems) =>
        new(problems.Select(p => (JsonNode?)new JsonObject
        {
            ["file"] = p.At.File,
            ["line"] = p.At.Line,
            ["column"] = p.At.Column,
            ["message"] = p.Message,
        }).ToArray());

    internal sealed class RunBody
    {
        [JsonRequired] public string Workflow { get; set; } = "";
        public JsonNode? Input { get; set; }
        public string? Session { get; set; }
        public string? Persona { get; set; }
        [JsonPropertyName("chatmode")] public string? ChatMode { get; set; }
        public bool? Wait { get; set; }
    }

    internal sealed class PersonaBody
    {
        [JsonRequired] public string Persona { get; set; } = "";
        [JsonPropertyName("chatmode")] public string? ChatMode { get; set; }
    }
}
