using System.Diagnostics;
using System.Text.Json.Nodes;
using Akka.Actor;
using Akka.Hosting;
using Akka.Persistence.Query;
using Akka.Persistence.Sql.Query;
using Akka.Streams;
using Akka.Streams.Dsl;
using TtaActors.Actors.Context;
using TtaActors.Actors.Durable;
using TtaActors.Actors.Execution;
using TtaActors.Telemetry;
using static TtaActors.Actors.Durable.DurableRunReplies;

namespace TtaActors.Runtime.Durable;

/// <summary>One durable run as <c>GET /runs?status=</c> lists it, read from the journal's lifecycle events.</summary>
public sealed record DurableRunSummary(string RunId, string Workflow, string Status, DateTimeOffset StartedAt, DateTimeOffset UpdatedAt);

/// <summary>
/// Durable runs as the node API and the run service use them: every call goes through the shard region to the run's
/// entity, wherever in the cluster it lives, so any node answers for any run.
/// </summary>
public sealed class DurableRuns
{
    /// <summary>The most runs a list answers.</summary>
    public const int MaxListed = 1000;

    private readonly ActorSystem _system;
    private readonly ActorRegistry _registry;
    private readonly TimeSpan _askTimeout;
    private readonly TimeProvider _time;

    /// <param name="system">The node's actor system.</param>
    /// <param name="registry">Where the durable run shard region is registered.</param>
    /// <param name="askTimeout">How long a call waits for the run's entity; a default when null.</param>
    /// <param name="time">The clock a start's deadline is read from; the system clock when null.</param>
    public DurableRuns(ActorSystem system, ActorRegistry registry, TimeSpan? askTimeout = null, TimeProvider? time = null)
    {
        _system = system;
        _registry = registry;
        _askTimeout = askTimeout ?? TimeSpan.FromSeconds(10);
        _time = time ?? TimeProvider.System;
    }

    /// <summary>
    /// How long before the caller gives up a start must be journaled by (a fifth of the ask timeout, 2 s by default): the
    /// margin covers the answer's way back and the difference between the clocks of the node that asks and the node that
    /// hosts the run, so a start the caller was told failed never runs.
    /// </summary>
    public TimeSpan StartMargin => _askTimeout / 5;

    private IActorRef Region => _registry.Get<DurableRunRegion>();

    /// <summary>Whether <paramref name="runId"/> can be a run id (32 hex digits); anything else is no run.</summary>
    public static bool IsRunId(string runId) => runId.Length == 32 && runId.All(char.IsAsciiHexDigit);

    /// <summary>
    /// Starts a durable run: the run's root span <c>workflow.{name}</c> is made here (its context is journaled, so every
    /// later part of the run, on whatever node, is in the same trace), and the answer comes once the start is journaled.
    /// </summary>
    public async Task<View> StartAsync(string workflow, RunId runId, object? input, WorkflowContext context)
    {
        var previous = Activity.Current;
        Activity.Current = null;
        using var span = TtaInstrumentation.ActivitySource.StartActivity("workflow." + workflow);
        Activity.Current = previous;
        if (span is { IsAllDataRequested: true })
        {
            span.SetTag(TelemetryNames.Attributes.WorkflowName, workflow);
            span.SetTag(TelemetryNames.Attributes.WorkflowRunId, runId.ToString());
            span.SetTag(TelemetryNames.Attributes.WorkflowId, context.WorkflowId);
            span.SetTag("gen_ai.operation.name", "invoke_workflow");
            span.SetTag("gen_ai.workflow.name", workflow);
            span.SetTag("workflow.durability", "steps");
            if (context.Persona is not null) span.SetTag(TelemetryNames.Attributes.Persona, context.Persona);
            if (context.ChatMode is not null) span.SetTag(TelemetryNames.Attributes.ChatMode, context.ChatMode);
        }
        var parent = TraceParent.From(span);
        var start = new DurableRunCommands.Start(runId.ToString(), workflow, DurableJson.From(input), DurableJson.Context(context), parent.ToW3C(),
            parent.TraceState, context.Persona, context.ChatMode, _time.GetUtcNow() + _askTimeout - StartMargin);
        try
        {
            return await AskAsync<View>(start);
        }
        catch (Exception error)
        {
            span?.SetStatus(ActivityStatusCode.Error, error.Message);
            throw;
        }
    }

    /// <summary>The run's view; refused runs throw <see cref="Actors.Durable.DurableRunRefusedException"/>.</summary>
    public Task<View> GetAsync(string runId) => AskAsync<View>(new DurableRunCommands.Get(runId));

    /// <summary>Sends a signal to a waiting run; <paramref name="signalId"/> makes a repeat a duplicate. Refusals throw <see cref="Actors.Durable.DurableRunRefusedException"/>.</summary>
    public Task<SignalAccepted> SignalAsync(string runId, string name, string signalId, string? payloadJson) =>
        AskAsync<SignalAccepted>(new DurableRunCommands.Signal(runId, name, signalId, payloadJson));

    /// <summary>Events after <paramref name="after"/>; when there are none yet, the run holds the request up to <paramref name="wait"/>.</summary>
    public Task<Events> EventsAsync(string runId, long after, int max, TimeSpan wait) =>
        AskAsync<Events>(new DurableRunCommands.GetEvents(runId, after, max, (int)wait.TotalMilliseconds), _askTimeout + wait);

    /// <summary>Waits until the run has finished, following its events (so a run that moves to another node is followed).</summary>
    public async Task<View> CompletionAsync(string runId, CancellationToken cancellation)
    {
        long after = 0;
        while (true)
        {
            cancellation.ThrowIfCancellationRequested();
            Events events;
            try
            {
                events = await EventsAsync(runId, after, 1000, TimeSpan.FromSeconds(20));
            }
            catch (DurableRunRefusedException refused) when (refused.Code == DurableRunCodes.Unavailable)
            {
                // The run's node is being replaced; its entity comes back on another one.
                await Task.Delay(TimeSpan.FromSeconds(1), cancellation);
                continue;
            }
            if (events.Items.Count > 0) after = events.Items[^1].Id;
            if (events.Finished && events.Items.Count == 0) return await GetAsync(runId);
            if (events.Finished) continue;
        }
    }

    /// <summary>
    /// The durable runs of the whole cluster from the journal's lifecycle events (not from memory), so every node lists
    /// the same runs; at most <paramref name="limit"/>, the latest first.
    /// </summary>
    public async Task<IReadOnlyList<DurableRunSummary>> ListAsync(string? status, int limit, CancellationToken cancellation)
    {
        var runs = await ReadLifecycleAsync(cancellation);
        return runs.Values.Where(r => status is null || r.Status == status).OrderByDescending(r => r.UpdatedAt).Take(Math.Clamp(limit, 1, MaxListed)).ToList();
    }

    /// <summary>Wakes every run the journal shows unfinished: recovery at start-up and after a node was lost.</summary>
    public async Task<int> WakeUnfinishedAsync(CancellationToken cancellation)
    {
        var runs = await ReadLifecycleAsync(cancellation);
        var woken = 0;
        foreach (var run in runs.Values.Where(r => r.Status is "running" or "waiting"))
        {
            Region.Tell(new DurableRunCommands.Wake(run.RunId));
            woken++;
        }
        return woken;
    }

    private async Task<Dictionary<string, DurableRunSummary>> ReadLifecycleAsync(CancellationToken cancellation)
    {
        var journal = PersistenceQuery.Get(_system).ReadJournalFor<SqlReadJournal>(SqlReadJournal.Identifier);
        var events = await journal.CurrentEventsByTag(DurableRunActor.LifecycleTag, Offset.NoOffset())
            .RunWith(Sink.Seq<EventEnvelope>(), _system.Materializer());
        var runs = new Dictionary<string, DurableRunSummary>(StringComparer.Ordinal);
        foreach (var envelope in events)
        {
            cancellation.ThrowIfCancellationRequested();
            var runId = envelope.PersistenceId.StartsWith(DurableRunActor.PersistenceIdPrefix, StringComparison.Ordinal)
                ? envelope.PersistenceId[DurableRunActor.PersistenceIdPrefix.Length..]
                : envelope.PersistenceId;
            runs.TryGetValue(runId, out var known);
            runs[runId] = envelope.Event switch
            {
                DurableRunEvents.RunStarted started => new DurableRunSummary(runId, started.Workflow, "running", started.At, started.At),
                DurableRunEvents.WaitStarted wait when known is not null => known with { Status = "waiting", UpdatedAt = wait.At },
                DurableRunEvents.SignalReceived signal when known is not null => known with { Status = "running", UpdatedAt = signal.At },
                DurableRunEvents.RunSucceeded done when known is not null => known with { Status = "succeeded", UpdatedAt = done.At },
                DurableRunEvents.RunFailed failed when known is not null => known with { Status = "failed", UpdatedAt = failed.At },
                _ => known!,
            };
            if (runs[runId] is null) runs.Remove(runId);
        }
        return runs;
    }

    private async Task<T> AskAsync<T>(DurableRunCommands.ICommand command, TimeSpan? timeout = null)
    {
        object answer;
        try
        {
            answer = await Region.Ask<object>(command, timeout ?? _askTimeout);
        }
        catch (AskTimeoutException)
        {
            var waited = (timeout ?? _askTimeout).TotalSeconds;
            throw new DurableRunRefusedException(new Refused(command.RunId, DurableRunCodes.Unavailable, command is DurableRunCommands.Start
                ? $"Durable run {command.RunId} was not started: it did not answer within {waited:0} s (its node or the journal is not reachable " +
                  "right now; a lost node's runs move to the survivors within about 30 s). A start that reaches the run or is journaled after " +
                  "this answer executes nothing. Start it again."
                : $"Durable run {command.RunId} did not answer within {waited:0} s: its node or the journal is not " +
                  "reachable right now (a lost node's runs move to the survivors within about 30 s). Retry."));
        }
        return answer switch
        {
            T typed => typed,
            Refused refused => throw new DurableRunRefusedException(refused),
            _ => throw new InvalidOperationException($"Unexpected answer {answer.GetType().Name} from durable run {command.RunId}."),
        };
    }
}

/// <summary>Refusal codes the facade adds to those of the entity (<see cref="DurableRefusalCodes"/>).</summary>
public static class DurableRunCodes
{
    /// <summary>The run's entity did not answer in time.</summary>
    public const string Unavailable = "unavailable";
}

/// <summary>A durable run as the API shows it (the same fields as an in-memory run, plus the awaited signals).</summary>
public static class DurableRunJson
{
    /// <summary>The JSON of a run's view.</summary>
    public static JsonObject Of(View view) => new()
    {
        ["runId"] = view.RunId,
        ["workflow"] = view.Workflow,
        ["status"] = view.Status,
        ["durability"] = "steps",
        ["output"] = view.Output is null ? null : JsonNode.Parse(view.Output.Json),
        ["traceId"] = view.TraceId,
        ["error"] = view.ErrorMessage is null
            ? null
            : new JsonObject { ["primitivePath"] = view.ErrorPath, ["type"] = view.ErrorType, ["message"] = view.ErrorMessage },
        ["persona"] = view.Persona,
        ["chatmode"] = view.ChatMode,
        ["startedAt"] = view.StartedAt,
        ["finishedAt"] = view.FinishedAt,
        ["stepsCompleted"] = view.StepsCompleted,
        ["awaitedSignals"] = new JsonArray(view.AwaitedSignals.Select(s => (JsonNode?)JsonValue.Create(s)).ToArray()),
        ["lastEventId"] = view.LastEventId,
    };
}
