using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using TtaActors.Actors.Sessions;
using TtaActors.Runtime.Runs;
using TtaActors.Runtime.Workflows;

namespace TtaActors.Runtime.Node;

/// <summary>The session ids this node has served through its API, for <c>GET /sessions</c>.</summary>
public sealed class SessionDirectory
{
    private readonly ConcurrentDictionary<string, DateTimeOffset> _seen = new(StringComparer.Ordinal);

    public void Seen(string sessionId) => _seen[sessionId] = DateTimeOffset.UtcNow;

    public IReadOnlyList<string> Ids => _seen.Keys.Order(StringComparer.Ordinal).ToList();
}

/// <summary>
/// The node's HTTP API (JSON; errors as RFC 9457 Problem Details): runs, sessions, workflows, health and readiness.
/// </summary>
public static partial class NodeApi
{
    public const string ProblemTypeBase = "https://tta.dev/problems/";

    private static readonly JsonSerializerOptions RequestJson = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    };

    /// <summary>Maps every endpoint; with a token, every request but the health probes must carry it.</summary>
    public static WebApplication MapTtaNodeApi(this WebApplication app, string? apiToken)
    {
        if (apiToken is not null) app.Use(BearerCheck(apiToken));

        app.MapPost("/runs", PostRunAsync);
        app.MapGet("/runs/{id}", (string id, RunService runs) =>
            runs.Get(id) is { } run ? Results.Json(RunJson(run), JsonData.OutputDocument) : Problem(404, "run-not-found", "Run not found",
                $"No run '{id}' on this node (runs are kept for the latest {RunService.RetainedRuns} runs)."));
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

    private static async Task<IResult> PostRunAsync(HttpContext http, RunService runs, SessionDirectory directory)
    {
        var (body, problem) = await ReadAsync<RunBody>(http);
        if (problem is not null) return problem;
        RunRecord started;
        Task<RunRecord> completion;
        try
        {
            (started, completion) = await runs.StartAsync(
                new RunRequest(body!.Workflow, body.Input, body.Session, body.Persona, body.ChatMode), http.RequestAborted);
        }
        catch (WorkflowNotFoundException missing)
        {
            var status = missing.Invalid is null ? 404 : 422;
            var result = Problem(status, missing.Invalid is null ? "workflow-not-found" : "workflow-invalid",
                missing.Invalid is null ? "Workflow not found" : "Workflow file is invalid", missing.Message);
            if (missing.Invalid is not null)
                result = Problem(status, "workflow-invalid", "Workflow file is invalid", missing.Message,
                    new() { ["problems"] = ProblemsJson(missing.Invalid.Problems) });
            return result;
        }
        catch (ArgumentException invalid)
        {
            return Problem(400, "invalid-request", "Invalid request", invalid.Message);
        }
        if (body.Session is not null) directory.Seen(body.Session);
        if (body.Wait == false) return Results.Json(RunJson(started), JsonData.OutputDocument, statusCode: 202);
        var finished = await completion;
        return Results.Json(RunJson(finished), JsonData.OutputDocument);
    }

    private static async Task<IResult> GetSessionAsync(string id, IPersonaSessions sessions, CancellationToken cancellation)
    {
        try
        {
            var view = await sessions.GetAsync(id, cancellation);
            if (view.Persona is null && view.RunsStarted == 0 && view.Switches.Count == 0)
                return Problem(404, "session-not-found", "Session not found",
                    $"Session '{id}' has no persona and no runs yet. Start it with POST /sessions/{id}/persona or a run with \"session\": \"{id}\".");
            return Results.Json(SessionJson(view));
        }
        catch (ArgumentException invalid)
        {
            return Problem(400, "invalid-session-id", "Invalid session id", invalid.Message);
        }
    }

    private static async Task<IResult> SwitchPersonaAsync(string id, HttpContext http, IPersonaSessions sessions, SessionDirectory directory)
    {
        var (body, problem) = await ReadAsync<PersonaBody>(http);
        if (problem is not null) return problem;
        try
        {
            var view = await sessions.SwitchPersonaAsync(id, body!.Persona, body.ChatMode, http.RequestAborted);
            directory.Seen(id);
            return Results.Json(SessionJson(view));
        }
        catch (ArgumentException invalid)
        {
            return Problem(400, "invalid-persona", "Invalid persona switch", invalid.Message);
        }
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
    /// Reads a JSON body: a body over the size limit is 413, malformed JSON or a wrong field is 400 with the JSON path
    /// of the problem.
    /// </summary>
    private static async Task<(T? Body, IResult? Problem)> ReadAsync<T>(HttpContext http) where T : class
    {
        try
        {
            var body = await JsonSerializer.DeserializeAsync<T>(http.Request.Body, RequestJson, http.RequestAborted);
            return body is null
                ? (null, Problem(400, "malformed-body", "Malformed request body", "The body is JSON null; send a JSON object.", new() { ["path"] = "$" }))
                : (body, null);
        }
        catch (BadHttpRequestException tooLarge) when (tooLarge.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            var limit = http.RequestServices.GetRequiredService<NodeOptions>().MaxBodyBytes;
            return (null, Problem(413, "body-too-large", "Request body too large",
                $"The request body is larger than the limit of {limit} bytes (TTA_MAX_BODY_BYTES)."));
        }
        catch (JsonException malformed)
        {
            var detail = ClrTypeName().Replace(malformed.Message.Split(" Path:", 2)[0], m => m.Groups[1].Value switch
            {
                "Boolean" => "true or false",
                "String" => "a string",
                "Int32" or "Int64" or "Double" or "Decimal" => "a number",
                var other => other,
            });
            var path = malformed.Path ?? "$";
            var extensions = new Dictionary<string, object?> { ["path"] = path };
            if (malformed.LineNumber is { } line) extensions["line"] = line + 1;
            if (malformed.BytePositionInLine is { } position) extensions["position"] = position + 1;
            return (null, Problem(400, "malformed-body", "Malformed request body", $"{detail} (at {path})", extensions));
        }
    }

    private static Func<HttpContext, RequestDelegate, Task> BearerCheck(string token)
    {
        var expected = Encoding.UTF8.GetBytes(token);
        return (http, next) =>
        {
            if (http.Request.Path.StartsWithSegments("/healthz") || http.Request.Path.StartsWithSegments("/readyz")) return next(http);
            var header = http.Request.Headers.Authorization.ToString();
            var given = header.StartsWith("Bearer ", StringComparison.Ordinal) ? Encoding.UTF8.GetBytes(header[7..].Trim()) : [];
            if (CryptographicOperations.FixedTimeEquals(given, expected)) return next(http);
            http.Response.Headers.WWWAuthenticate = "Bearer";
            return Problem(401, "unauthorized", "Unauthorized",
                    header.Length == 0 ? "This node requires 'Authorization: Bearer <TTA_API_TOKEN>'." : "The bearer token is not this node's TTA_API_TOKEN.")
                .ExecuteAsync(http);
        };
    }

    public static IResult Problem(int status, string type, string title, string detail, Dictionary<string, object?>? extensions = null) =>
        Results.Problem(detail: detail, statusCode: status, title: title, type: ProblemTypeBase + type, extensions: extensions);

    public static JsonObject RunJson(RunRecord run)
    {
        var json = new JsonObject
        {
            ["runId"] = run.RunId,
            ["workflow"] = run.Workflow,
            ["status"] = run.Status.ToString().ToLowerInvariant(),
            ["output"] = JsonData.ToNode(run.Output),
            ["traceId"] = run.TraceId,
        };
        if (run.Error is { } error)
            json["error"] = new JsonObject { ["primitivePath"] = error.PrimitivePath, ["type"] = error.ErrorType, ["message"] = error.Message };
        if (run.Session is not null) json["session"] = run.Session;
        if (run.Persona is not null) json["persona"] = run.Persona;
        if (run.ChatMode is not null) json["chatmode"] = run.ChatMode;
        json["startedAt"] = run.StartedAt;
        if (run.FinishedAt is { } finished) json["finishedAt"] = finished;
        return json;
    }

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

    private static JsonArray ProblemsJson(IReadOnlyList<WorkflowProblem> problems) =>
        new(problems.Select(p => (JsonNode?)new JsonObject
        {
            ["file"] = p.At.File,
            ["line"] = p.At.Line,
            ["column"] = p.At.Column,
            ["message"] = p.Message,
        }).ToArray());

    [System.Text.RegularExpressions.GeneratedRegex(@"System\.(?:Nullable`1\[System\.)?(\w+)\]?")]
    private static partial System.Text.RegularExpressions.Regex ClrTypeName();

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
