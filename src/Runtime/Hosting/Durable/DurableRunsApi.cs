using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using TtaActors.Actors.Durable;
using TtaActors.Actors.Sessions;
using TtaActors.Runtime.Node;
using TtaActors.Runtime.Runs;

namespace TtaActors.Runtime.Durable;

/// <summary>
/// The durable-run endpoints of the node API (<c>GET /runs?status=</c> lists them with the in-memory runs, see
/// <see cref="Inspector.InspectorApi"/>): <c>POST /runs/{id}/signals/{name}</c> and
/// <c>GET /runs/{id}/events</c> (Server-Sent Events with AG-UI event types; <c>Last-Event-ID</c> resumes).
/// </summary>
public static class DurableRunsApi
{
    /// <summary>The longest signal id.</summary>
    public const int MaxSignalIdLength = 200;
    /// <summary>The deepest signal payload.</summary>
    public const int MaxPayloadDepth = 64;

    /// <summary>How long one event read is held by the run when nothing new has happened (then a keep-alive comment is sent).</summary>
    public static TimeSpan EventPollWait { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Maps the durable run endpoints (signals and events of <c>/runs/{id}</c>).</summary>
    public static WebApplication MapDurableRunsApi(this WebApplication app)
    {
        app.MapPost("/runs/{id}/signals/{name}", SignalAsync);
        app.MapGet("/runs/{id}/events", EventsAsync);
        return app;
    }

    /// <summary>A durable run for <c>GET /runs/{id}</c> on any node, or null when no durable run has this id.</summary>
    public static async Task<JsonObject?> FindAsync(IServiceProvider services, string id)
    {
        if (services.GetService<DurableRuns>() is not { } durable || !DurableRuns.IsRunId(id)) return null;
        try
        {
            return DurableRunJson.Of(await durable.GetAsync(id));
        }
        catch (DurableRunRefusedException refused) when (refused.Code == DurableRefusalCodes.NotFound)
        {
            return null;
        }
    }

    private static async Task<IResult> SignalAsync(string id, string name, HttpContext http, RunService local)
    {
        if (WaitForSignalPrimitive.SignalNameProblem(name) is { } problem) throw new InvalidFieldException("name", problem);
        var signalId = http.Request.Headers["Idempotency-Key"].ToString();
        if (signalId.Length > MaxSignalIdLength || signalId.Any(c => c < 0x21 || c > 0x7e))
            throw new InvalidFieldException("Idempotency-Key", $"The signal id has at most {MaxSignalIdLength} printable ASCII characters without spaces.");
        if (signalId.Length == 0) signalId = Guid.NewGuid().ToString("N");
        var payload = await ReadPayloadAsync(http);
        if (!DurableRuns.IsRunId(id)) throw NotFound(id);
        if (local.Get(id) is { } inMemory)
            throw new DurableRunRefusedException(new DurableRunReplies.Refused(id, DurableRefusalCodes.NotAwaited,
                $"Run {id} of '{inMemory.Record.Workflow}' is not durable (durability: none); only durable runs wait for signals.", []));
        var accepted = await Required(http).SignalAsync(id, name, signalId, payload);
        return Results.Json(new JsonObject
        {
            ["runId"] = accepted.RunId, ["signal"] = accepted.Name, ["signalId"] = accepted.SignalId, ["duplicate"] = accepted.Duplicate,
        }, statusCode: 202);
    }

    private static async Task EventsAsync(string id, HttpContext http)
    {
        if (!DurableRuns.IsRunId(id)) throw NotFound(id);
        if (http.RequestServices.GetService<RunService>()?.Get(id) is not null)
        {
            await Inspector.InspectorApi.StreamLocalEventsAsync(http, id);
            return;
        }
        var durable = Required(http);
        var after = 0L;
        var lastEventId = http.Request.Headers["Last-Event-ID"].ToString();
        if (lastEventId.Length > 0 && (!long.TryParse(lastEventId, out after) || after < 0))
            throw new InvalidFieldException("Last-Event-ID", "Last-Event-ID must be the id of an event of this stream (a whole number).");

        // The first read happens before any byte is sent, so an unknown run is a 404, not an empty stream.
        var events = await durable.EventsAsync(id, after, 200, TimeSpan.Zero);
        http.Response.ContentType = "text/event-stream";
        http.Response.Headers.CacheControl = "no-cache";
        http.Response.Headers["X-Accel-Buffering"] = "no";
        var body = http.Response.Body;
        while (!http.RequestAborted.IsCancellationRequested)
        {
            var text = new StringBuilder();
            foreach (var item in events.Items)
            {
                text.Append("id: ").Append(item.Id).Append('\n').Append("data: ").Append(item.Json).Append("\n\n");
                after = item.Id;
            }
            if (events.Finished && events.Items.Count == 0) return;
            if (events.Items.Count == 0) text.Append(": keep-alive\n\n");
            await body.WriteAsync(Encoding.UTF8.GetBytes(text.ToString()), http.RequestAborted);
            await body.FlushAsync(http.RequestAborted);
            try
            {
                events = await durable.EventsAsync(id, after, 200, events.Finished ? TimeSpan.Zero : EventPollWait);
            }
            catch (DurableRunRefusedException refused) when (refused.Code == DurableRunCodes.Unavailable)
            {
                // The run is moving to another node; the stream goes on from the same event once it is back.
                events = new DurableRunReplies.Events(id, [], false);
            }
        }
    }

    private static async Task<string?> ReadPayloadAsync(HttpContext http)
    {
        Node.NodeApi.LimitBody(http);
        using var buffer = new MemoryStream();
        await http.Request.Body.CopyToAsync(buffer, http.RequestAborted);
        if (buffer.Length == 0) return null;
        try
        {
            using var document = JsonDocument.Parse(buffer.ToArray(), new JsonDocumentOptions { MaxDepth = MaxPayloadDepth });
            return document.RootElement.GetRawText();
        }
        catch (JsonException malformed)
        {
            throw new MalformedBodyException(
                $"The signal's body is not JSON ({malformed.Message.Split(" LineNumber:", 2)[0]}); send the step's output as JSON, or no body for null.",
                malformed.Path ?? "$", malformed.LineNumber + 1, malformed.BytePositionInLine + 1);
        }
    }

    private static DurableRuns Required(HttpContext http) =>
        http.RequestServices.GetService<DurableRuns>()
        ?? throw new DurableRunRefusedException(new DurableRunReplies.Refused("", DurableRunCodes.Unavailable, "This node runs no durable runs."));

    private static DurableRunRefusedException NotFound(string id) =>
        new(new DurableRunReplies.Refused(id, DurableRefusalCodes.NotFound,
            $"No durable run '{PersonaNames.Printable(id.Length > 64 ? id[..64] + "..." : id)}': run ids are 32 hexadecimal digits, as POST /runs answers them."));

    /// <summary>The Problem Details of a durable run's refusal.</summary>
    public static NodeProblem Problem(DurableRunRefusedException refused) => refused.Code switch
    {
        DurableRefusalCodes.NotFound => new(404, "run-not-found", "Run not found", refused.Message),
        DurableRefusalCodes.Finished => new(409, "run-finished", "Run finished", refused.Message),
        DurableRefusalCodes.NotAwaited => new(409, "signal-not-awaited", "Signal not awaited", refused.Message,
            new() { ["awaitedSignals"] = refused.Refused.AwaitedSignals ?? [] }),
        DurableRefusalCodes.AlreadyStarted => new(409, "run-already-started", "Run already started", refused.Message),
        DurableRefusalCodes.JournalUnavailable => new(503, "journal-unavailable", "Journal unavailable", refused.Message),
        DurableRefusalCodes.NotReady => new(503, "node-not-ready", "Node not ready", refused.Message),
        DurableRefusalCodes.StartExpired => new(503, "run-start-expired", "Run start expired", refused.Message),
        DurableRefusalCodes.UnknownWorkflow => new(503, "durable-workflow-missing", "Durable workflow missing on a node", refused.Message),
        _ => new(503, "durable-runs-unavailable", "Durable runs unavailable", refused.Message),
    };
}
