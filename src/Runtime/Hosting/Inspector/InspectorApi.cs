using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using TtaActors.Actors.Primitives;
using TtaActors.Actors.Sessions;
using TtaActors.Runtime.Durable;
using TtaActors.Runtime.Hosting;
using TtaActors.Runtime.Node;
using TtaActors.Runtime.Runs;
using TtaActors.Runtime.Workflows;
using TtaActors.Telemetry;

namespace TtaActors.Runtime.Inspector;

/// <summary>
/// The run inspector: <c>GET /runs</c> (in-memory and durable runs, filtered), <c>GET /runs/feed</c> (every run start
/// and finish on this node as Server-Sent Events), the in-memory side of <c>GET /runs/{id}/events</c>, the read models
/// of the pages under <c>/ui/api/</c>, and the pages themselves under <c>/ui</c>.
/// </summary>
public static class InspectorApi
{
    /// <summary>Runs a list answers when no limit is given.</summary>
    public const int DefaultListLimit = 100;
    /// <summary>The largest list limit.</summary>
    public const int MaxListLimit = DurableRuns.MaxListed;

    /// <summary>Spans a trace answer holds at most; a larger trace says it was cut (<c>truncated</c>).</summary>
    public const int MaxTraceSpans = 5000;

    /// <summary>LLM spans the session view sums at most.</summary>
    public const int MaxSessionSpans = 10_000;

    /// <summary>The longest workflow filter.</summary>
    public const int MaxWorkflowFilterLength = 200;

    private static readonly string[] Statuses = ["running", "waiting", "failed", "succeeded"];

    /// <summary>How long a stream waits for news before it sends a keep-alive comment.</summary>
    public static TimeSpan KeepAlive { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Registers the span store (on the telemetry pipeline, as the exporter <c>ui</c>) and the run feed.</summary>
    public static IServiceCollection AddTtaInspector(this IServiceCollection services, SpanStoreLimits limits)
    {
        services.AddSingleton(new SpanStore(limits));
        services.AddTtaSpanExporter(SpanStoreExporter.ExporterName, sp => new SpanStoreExporter(sp.GetRequiredService<SpanStore>()));
        services.AddSingleton(sp => new RunFeed(sp.GetRequiredService<RunService>()));
        return services;
    }

    /// <summary>
    /// Maps the inspector pages under <c>/ui</c> and their API under <c>/ui/api/</c>. <paramref name="apiToken"/> is the
    /// token the app's API enforces (null: none), so <c>/ui?token=TOKEN</c> sets the browser's cookie exactly when one is needed.
    /// </summary>
    public static WebApplication MapTtaInspector(this WebApplication app, string? apiToken)
    {
        app.MapGet("/runs", ListAsync);
        app.MapGet("/runs/feed", FeedAsync);
        app.MapGet("/ui/api/trace/{id}", TraceAsync);
        app.MapGet("/ui/api/sessions/{id}", SessionAsync);
        app.MapGet("/ui/api/workflows", Workflows);
        InspectorAssets.Map(app, apiToken);
        return app;
    }

    private static async Task<IResult> ListAsync(HttpContext http, RunService runs, string? status, string? workflow, string? persona, int? limit)
    {
        if (status is not null && !Statuses.Contains(status))
            throw new InvalidFieldException("status", $"'{Short(status)}' is not a run status; use one of {string.Join(", ", Statuses)}.");
        if (limit is < 1 or > MaxListLimit) throw new InvalidFieldException("limit", $"limit must be between 1 and {MaxListLimit}.");
        if (workflow is { Length: > MaxWorkflowFilterLength })
            throw new InvalidFieldException("workflow", $"A workflow name to filter by has at most {MaxWorkflowFilterLength} characters.");
        InvalidFieldException.CheckNames(null, persona, null);
        var max = limit ?? DefaultListLimit;
        var rows = runs.Store.Recent(r => Matches(r, status, workflow, persona), max)
            .Select(r => (r.Record.StartedAt, Json: RowJson(r.Record, false))).ToList();
        if (http.RequestServices.GetService<DurableRuns>() is { } durable)
        {
            foreach (var summary in await durable.ListAsync(status, max, http.RequestAborted))
            {
                if (workflow is not null && summary.Workflow != workflow) continue;
                JsonObject row;
                if (persona is not null)
                {
                    var record = RunService.Record(await durable.GetAsync(summary.RunId));
                    if (record.Persona != persona) continue;
                    row = RowJson(record, true);
                }
                else
                {
                    row = new JsonObject
                    {
                        ["runId"] = summary.RunId, ["workflow"] = summary.Workflow, ["status"] = summary.Status, ["durable"] = true,
                        ["startedAt"] = summary.StartedAt,
                    };
                    if (summary.Status is "succeeded" or "failed")
                        row["durationMs"] = (summary.UpdatedAt - summary.StartedAt).TotalMilliseconds;
                }
                row["updatedAt"] = summary.UpdatedAt;
                rows.Add((summary.StartedAt, row));
            }
        }
        return Results.Json(new JsonObject
        {
            ["runs"] = new JsonArray(rows.OrderByDescending(r => r.StartedAt).Take(max).Select(r => (JsonNode?)r.Json).ToArray()),
        });
    }

    private static bool Matches(RunRecord run, string? status, string? workflow, string? persona) =>
        (status is null || Status(run.Status) == status) && (workflow is null || run.Workflow == workflow) && (persona is null || run.Persona == persona);

    /// <summary>One run as the runs list and the feed show it.</summary>
    public static JsonObject RowJson(RunRecord run, bool durable)
    {
        var row = new JsonObject
        {
            ["runId"] = run.RunId, ["workflow"] = run.Workflow, ["status"] = Status(run.Status), ["durable"] = durable,
            ["persona"] = run.Persona, ["chatmode"] = run.ChatMode, ["session"] = run.Session, ["startedAt"] = run.StartedAt,
            ["finishedAt"] = run.FinishedAt, ["traceId"] = run.TraceId,
        };
        if (run.FinishedAt is { } finished) row["durationMs"] = (finished - run.StartedAt).TotalMilliseconds;
        if (run.Usage is { } usage)
        {
            row["tokens"] = usage.TotalTokens;
            row["costUsd"] = usage.CostUsd;
        }
        if (run.Error is { } error) row["error"] = new JsonObject { ["primitivePath"] = error.PrimitivePath, ["type"] = error.ErrorType, ["message"] = error.Message };
        return row;
    }

    private static string Status(RunStatus status) => status.ToString().ToLowerInvariant();

    private static async Task FeedAsync(HttpContext http, RunFeed feed, RunService runs)
    {
        using var subscription = feed.Subscribe()
            ?? throw new FeedFullException($"{RunFeed.MaxSubscribers} clients are following GET /runs/feed already; close one, or poll GET /runs.");
        StartStream(http);
        var body = http.Response.Body;
        await body.WriteAsync(": feed\n\n"u8.ToArray(), http.RequestAborted);
        await body.FlushAsync(http.RequestAborted);
        var reader = subscription.Reader;
        while (!http.RequestAborted.IsCancellationRequested)
        {
            var text = new StringBuilder();
            using (var wait = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted))
            {
                wait.CancelAfter(KeepAlive);
                try
                {
                    await reader.WaitToReadAsync(wait.Token);
                }
                catch (OperationCanceledException) when (!http.RequestAborted.IsCancellationRequested)
                {
                    text.Append(": keep-alive\n\n");
                }
            }
            while (reader.TryRead(out var run))
                text.Append("event: run\ndata: ").Append(RowJson(run, durable: runs.Get(run.RunId) is null).ToJsonString()).Append("\n\n");
            await body.WriteAsync(Encoding.UTF8.GetBytes(text.ToString()), http.RequestAborted);
            await body.FlushAsync(http.RequestAborted);
        }
    }

    /// <summary>
    /// <c>GET /runs/{id}/events</c> of an in-memory run: the events known now, then each new batch of its spans as the
    /// span store receives it, until the run has finished (<see cref="InspectorEvents"/>).
    /// </summary>
    public static async Task StreamLocalEventsAsync(HttpContext http, string runId)
    {
        var runs = http.RequestServices.GetRequiredService<RunService>();
        var store = http.RequestServices.GetRequiredService<SpanStore>();
        var sent = 0L;
        var lastEventId = http.Request.Headers["Last-Event-ID"].ToString();
        if (lastEventId.Length > 0 && (!long.TryParse(lastEventId, out sent) || sent < 0))
            throw new InvalidFieldException("Last-Event-ID", "Last-Event-ID must be the id of an event of this stream (a whole number).");
        StartStream(http);
        var body = http.Response.Body;
        var quietAfterFinish = false;
        while (!http.RequestAborted.IsCancellationRequested)
        {
            var changed = store.Changed;
            if (runs.Get(runId) is not { } stored) return;
            var (events, complete) = InspectorEvents.Of(stored, TraceOf(store, stored.Record));
            var items = events.ToList();
            // A finished run whose spans did not come (tracing off, dropped or evicted) still ends its stream.
            if (!complete && quietAfterFinish && stored.Record.Status is RunStatus.Succeeded or RunStatus.Failed)
            {
                items.Add(InspectorEvents.Finish(stored));
                complete = true;
            }
            var text = new StringBuilder();
            for (var i = (int)Math.Min(sent, items.Count); i < items.Count; i++)
                text.Append("id: ").Append(i + 1).Append("\ndata: ").Append(items[i].ToJsonString()).Append("\n\n");
            sent = Math.Max(sent, items.Count);
            if (text.Length > 0)
            {
                await body.WriteAsync(Encoding.UTF8.GetBytes(text.ToString()), http.RequestAborted);
                await body.FlushAsync(http.RequestAborted);
            }
            if (complete) return;
            var woke = await Task.WhenAny(changed, Task.Delay(KeepAlive, http.RequestAborted));
            if (woke != changed)
            {
                quietAfterFinish = runs.Get(runId)?.Record.Status is RunStatus.Succeeded or RunStatus.Failed;
                await body.WriteAsync(": keep-alive\n\n"u8.ToArray(), http.RequestAborted);
                await body.FlushAsync(http.RequestAborted);
            }
        }
    }

    private static StoredTrace? TraceOf(SpanStore store, RunRecord run) =>
        (run.TraceId ?? store.TraceIdOfRun(run.RunId)) is { } traceId ? store.Trace(traceId) : null;

    /// <summary>The spans of a run (by run id, in-memory or durable) or of a trace (by trace id), ordered by start.</summary>
    private static async Task<IResult> TraceAsync(string id, HttpContext http, RunService runs, SpanStore store)
    {
        if (id.Length != 32 || !id.All(char.IsAsciiHexDigit))
            throw new InvalidFieldException("id", "A run id or trace id is 32 hexadecimal digits.");
        var traceId = runs.Get(id)?.Record.TraceId ?? store.TraceIdOfRun(id);
        if (traceId is null && await DurableRunsApi.FindAsync(http.RequestServices, id) is { } durable) traceId = (string?)durable["traceId"];
        traceId ??= id;
        var trace = store.Trace(traceId);
        var spans = (trace?.Spans ?? []).OrderBy(s => s.Start).Take(MaxTraceSpans).Select(SpanJson).ToArray();
        return Results.Json(new JsonObject
        {
            ["traceId"] = traceId,
            ["spans"] = new JsonArray(spans),
            ["truncated"] = (trace?.Spans.Count ?? 0) > MaxTraceSpans,
            ["evictedTraces"] = store.EvictedTraces,
        });
    }

    private static JsonNode SpanJson(StoredSpan span)
    {
        var attributes = new JsonObject();
        foreach (var attribute in span.Attributes) attributes[attribute.Key] = attribute.Value;
        return new JsonObject
        {
            ["spanId"] = span.SpanId, ["parentSpanId"] = span.ParentSpanId, ["name"] = span.Name, ["kind"] = span.Kind,
            ["start"] = span.Start, ["durationMs"] = span.Duration.TotalMilliseconds, ["status"] = span.Status,
            ["statusDescription"] = span.StatusDescription, ["attributes"] = attributes,
            ["events"] = new JsonArray(span.Events.Select(e =>
            {
                var eventAttributes = new JsonObject();
                foreach (var attribute in e.Attributes) eventAttributes[attribute.Key] = attribute.Value;
                return (JsonNode?)new JsonObject { ["name"] = e.Name, ["at"] = e.At, ["attributes"] = eventAttributes };
            }).ToArray()),
        };
    }

    /// <summary>A session for its page: the session view, its runs on this node, and tokens and cost by persona and by model.</summary>
    private static async Task<IResult> SessionAsync(string id, RunService runs, SpanStore store, IPersonaSessions sessions, CancellationToken cancellation)
    {
        InvalidFieldException.CheckNames(id, null, null);
        var view = await sessions.GetAsync(id, cancellation);
        var sessionRuns = runs.Store.Recent(r => r.Session == id, MaxListLimit);
        var calls = store.Find(s => s.Attribute(TelemetryNames.GenAi.UsageInputTokens) is not null
                                    && s.Attribute(TelemetryNames.Attributes.WorkflowSessionId) == id, MaxSessionSpans);
        return Results.Json(new JsonObject
        {
            ["session"] = NodeApi.SessionJson(view),
            ["runs"] = new JsonArray(sessionRuns.Select(r => (JsonNode?)RowJson(r.Record, false)).ToArray()),
            ["byPersona"] = Totals(calls, s => s.Attribute(TelemetryNames.Attributes.Persona) ?? "(none)"),
            ["byModel"] = Totals(calls, s => s.Attribute(TelemetryNames.GenAi.ResponseModel) ?? s.Attribute(TelemetryNames.GenAi.RequestModel) ?? "(unknown)"),
        });
    }

    private static JsonArray Totals(IReadOnlyList<StoredSpan> calls, Func<StoredSpan, string> key) =>
        new(calls.GroupBy(key).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => (JsonNode?)new JsonObject
        {
            ["key"] = g.Key,
            ["calls"] = g.Count(),
            ["inputTokens"] = g.Sum(s => Number(s.Attribute(TelemetryNames.GenAi.UsageInputTokens))),
            ["outputTokens"] = g.Sum(s => Number(s.Attribute(TelemetryNames.GenAi.UsageOutputTokens))),
            ["costUsd"] = g.Sum(s => Decimal(s.Attribute(TelemetryNames.GenAi.UsageCost))),
        }).ToArray());

    private static long Number(string? text) => long.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, out var value) ? value : 0;

    private static decimal Decimal(string? text) =>
        decimal.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var value) ? value : 0m;

    /// <summary>Every registered workflow as a tree of its primitives, and every invalid file with its problems.</summary>
    private static IResult Workflows(WorkflowRegistry registry)
    {
        var list = new JsonArray();
        foreach (var summary in registry.List())
        {
            var json = new JsonObject
            {
                ["name"] = summary.Name, ["source"] = summary.Source, ["description"] = summary.Description, ["valid"] = summary.Valid,
                ["problems"] = NodeApi.ProblemsJson(summary.Problems),
            };
            if (summary.Valid && registry.TryGet(summary.Name, out var workflow))
            {
                json["durable"] = workflow.Durable is not null;
                json["graph"] = GraphJson(workflow.Graph.Definition, 0);
            }
            list.Add(json);
        }
        return Results.Json(new JsonObject { ["workflows"] = list });
    }

    /// <summary>Definitions nest as deep as their files allow; the page shows at most this many levels.</summary>
    public const int MaxGraphDepth = 64;

    private static JsonObject GraphJson(Primitive primitive, int depth) => new()
    {
        ["name"] = primitive.DisplayName,
        ["type"] = primitive.TypeName,
        ["children"] = depth >= MaxGraphDepth ? new JsonArray()
            : new JsonArray(primitive.Children.Select(c => (JsonNode?)GraphJson(c, depth + 1)).ToArray()),
    };

    private static void StartStream(HttpContext http)
    {
        http.Response.ContentType = "text/event-stream";
        http.Response.Headers.CacheControl = "no-cache";
        http.Response.Headers["X-Accel-Buffering"] = "no";
    }

    private static string Short(string text) => PersonaNames.Printable(text.Length > 40 ? text[..40] + "..." : text);
}

/// <summary>Too many clients follow the run feed at once (503, try again later).</summary>
public sealed class FeedFullException(string message) : Exception(message);
