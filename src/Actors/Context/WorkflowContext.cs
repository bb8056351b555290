using System.Collections.Immutable;

namespace TtaActors.Actors.Context;

/// <summary>One routing decision, appended to <see cref="WorkflowContext.RoutingHistory"/> by a router.</summary>
public sealed record RoutingDecision(string Route, bool UsedDefault, DateTimeOffset Timestamp);

/// <summary>One LLM call of a run: what it used and cost (null when the model has no price), for session totals.</summary>
public sealed record LlmCallRecord(string Provider, string Model, long InputTokens, long OutputTokens, decimal? CostUsd);

/// <summary>
/// The LLM use of a run: calls, tokens and cost summed over every call (an agent's chat calls and the workflows it ran as
/// tools included). <see cref="CostUsd"/> is null when no call had a price; <see cref="CostComplete"/> says whether every call had one.
/// </summary>
public sealed record RunLlmUsage(int Calls, long InputTokens, long OutputTokens, decimal? CostUsd, bool CostComplete)
{
    /// <summary>Input plus output tokens.</summary>
    public long TotalTokens => InputTokens + OutputTokens;

    /// <summary>The sums over <paramref name="calls"/>.</summary>
    public static RunLlmUsage Of(IReadOnlyCollection<LlmCallRecord> calls) => new(
        calls.Count,
        calls.Sum(c => c.InputTokens),
        calls.Sum(c => c.OutputTokens),
        calls.Any(c => c.CostUsd is not null) ? calls.Sum(c => c.CostUsd ?? 0m) : null,
        calls.All(c => c.CostUsd is not null));
}

/// <summary>
/// The token budget of the run's persona in its session, as the session admitted the run: the budget and what the
/// persona had used by then. Each LLM call of the run is checked against it (adding what the run has used since).
/// </summary>
public sealed record SessionTokenBudget(string SessionId, string Persona, long MaxTokens, long UsedTokens);

/// <summary>A named point in a run, with the time it was reached.</summary>
public sealed record Checkpoint(string Name, DateTimeOffset Timestamp);

/// <summary>
/// The immutable context of one run as seen by one primitive: identity, persona, workspace and what the run has
/// recorded so far. Every change returns a new context, so an envelope can share it without copying.
/// </summary>
/// <remarks>
/// Child contexts follow the original library: ids, persona, chat mode, workspace, tags and baggage are
/// inherited; the child's causation id is the parent's correlation id; state written in a child never
/// reaches the parent (contexts are values, so nothing written later can leak back or forward).
/// </remarks>
public sealed record WorkflowContext
{
    /// <summary>The workflow id the run carries (<c>workflow.id</c> on its spans); new for a fresh context unless given.</summary>
    public string WorkflowId { get; init; }
    /// <summary>The session the run belongs to (<c>workflow.session_id</c>, Langfuse's session); null outside a session.</summary>
    public string? SessionId { get; init; }
    /// <summary>Groups the runs and contexts that belong together (<c>workflow.correlation_id</c>); new for a fresh root context.</summary>
    public string CorrelationId { get; init; }
    /// <summary>The correlation id of the context this one was made from (see <see cref="CreateChild"/>); null for a root.</summary>
    public string? CausationId { get; init; }
    /// <summary>The persona the run acts as (the <c>persona</c> label, Langfuse's user); null for none.</summary>
    public string? Persona { get; init; }
    /// <summary>The chat mode of the run (the <c>chatmode</c> label and attribute).</summary>
    public string? ChatMode { get; init; }

    /// <summary>The workspace is the service name the run's telemetry is reported under.</summary>
    public string? Workspace { get; init; }

    /// <summary>Key/value pairs for tracing and templates: Langfuse trace metadata and <c>{{metadata.key}}</c> in workflow files. Inherited by children.</summary>
    public ImmutableDictionary<string, string> Metadata { get; init; } = ImmutableDictionary<string, string>.Empty;
    /// <summary>Values steps write for later steps of the same primitive (see <see cref="WithState"/>); never passed back to a parent.</summary>
    public ImmutableDictionary<string, object?> State { get; init; } = ImmutableDictionary<string, object?>.Empty;
    /// <summary>Tags of the run; they become the Langfuse trace's tags. Inherited by children.</summary>
    public ImmutableDictionary<string, string> Tags { get; init; } = ImmutableDictionary<string, string>.Empty;
    /// <summary>Values carried through the run for templates and user steps (<c>{{baggage.key}}</c> in workflow files). Inherited by children.</summary>
    public ImmutableDictionary<string, string> Baggage { get; init; } = ImmutableDictionary<string, string>.Empty;
    /// <summary>Timing checkpoints recorded so far (only when the run asked for them, see <see cref="Execution.RunOptions.RecordCheckpoints"/>).</summary>
    public ImmutableList<Checkpoint> Checkpoints { get; init; } = ImmutableList<Checkpoint>.Empty;
    /// <summary>Every routing decision of the run so far, oldest first (Router appends one per decision).</summary>
    public ImmutableList<RoutingDecision> RoutingHistory { get; init; } = ImmutableList<RoutingDecision>.Empty;

    /// <summary>The LLM calls made in the run so far; like routing decisions, they belong to the whole run.</summary>
    public ImmutableList<LlmCallRecord> LlmCalls { get; init; } = ImmutableList<LlmCallRecord>.Empty;

    /// <summary>The session's token budget for this run (null: the run is in no session, or its persona has no budget).</summary>
    public SessionTokenBudget? SessionBudget { get; init; }

    /// <summary>A fresh root context with new ids.</summary>
    public WorkflowContext() : this(NewId())
    {
    }

    /// <summary>Generates each id once: a new id costs a read of the OS random source (a system call on Linux).</summary>
    private WorkflowContext(string workflowId)
    {
        WorkflowId = workflowId;
        CorrelationId = NewId();
    }

    /// <summary>A fresh root context.</summary>
    public static WorkflowContext Create(string? workflowId = null, string? sessionId = null, string? persona = null,
        string? chatMode = null, string? workspace = null) => new(workflowId ?? NewId())
    {
        SessionId = sessionId,
        Persona = persona,
        ChatMode = chatMode,
        Workspace = workspace,
    };

    /// <summary>The context a nested primitive runs in: same identity, causation pointing at this context.</summary>
    public WorkflowContext CreateChild() => this with { CausationId = CorrelationId };

    /// <summary>This context with <paramref name="key"/> set to <paramref name="value"/> in <see cref="State"/>.</summary>
    public WorkflowContext WithState(string key, object? value) => this with { State = State.SetItem(key, value) };

    /// <summary>This context with the tag <paramref name="key"/> set to <paramref name="value"/>.</summary>
    public WorkflowContext WithTag(string key, string value) => this with { Tags = Tags.SetItem(key, value) };

    /// <summary>This context with the baggage item <paramref name="key"/> set to <paramref name="value"/>.</summary>
    public WorkflowContext WithBaggage(string key, string value) => this with { Baggage = Baggage.SetItem(key, value) };

    /// <summary>This context with the metadata entry <paramref name="key"/> set to <paramref name="value"/>.</summary>
    public WorkflowContext WithMetadata(string key, string value) => this with { Metadata = Metadata.SetItem(key, value) };

    /// <summary>This context acting as <paramref name="persona"/> in <paramref name="chatMode"/>.</summary>
    public WorkflowContext WithPersona(string persona, string? chatMode) => this with { Persona = persona, ChatMode = chatMode };

    /// <summary>This context with the checkpoint <paramref name="name"/> reached at <paramref name="at"/> appended.</summary>
    public WorkflowContext WithCheckpoint(string name, DateTimeOffset at) =>
        this with { Checkpoints = Checkpoints.Add(new Checkpoint(name, at)) };

    /// <summary>This context with <paramref name="decision"/> appended to <see cref="RoutingHistory"/>.</summary>
    public WorkflowContext WithRoutingDecision(RoutingDecision decision) =>
        this with { RoutingHistory = RoutingHistory.Add(decision) };

    /// <summary>This context with <paramref name="call"/> appended to <see cref="LlmCalls"/>.</summary>
    public WorkflowContext WithLlmCall(LlmCallRecord call) => this with { LlmCalls = LlmCalls.Add(call) };

    /// <summary>
    /// Takes over what a nested primitive recorded that belongs to the whole run (routing decisions and
    /// checkpoints and LLM calls added since it was handed <paramref name="dispatched"/>), and nothing else: the child's state
    /// stays with the child.
    /// </summary>
    public WorkflowContext AbsorbRecords(WorkflowContext child, WorkflowContext dispatched)
    {
        var newRoutes = child.RoutingHistory.Count - dispatched.RoutingHistory.Count;
        var newCheckpoints = child.Checkpoints.Count - dispatched.Checkpoints.Count;
        var newCalls = child.LlmCalls.Count - dispatched.LlmCalls.Count;
        if (newRoutes <= 0 && newCheckpoints <= 0 && newCalls <= 0) return this;
        return this with
        {
            RoutingHistory = newRoutes > 0
                ? RoutingHistory.AddRange(child.RoutingHistory.GetRange(dispatched.RoutingHistory.Count, newRoutes))
                : RoutingHistory,
            Checkpoints = newCheckpoints > 0
                ? Checkpoints.AddRange(child.Checkpoints.GetRange(dispatched.Checkpoints.Count, newCheckpoints))
                : Checkpoints,
            LlmCalls = newCalls > 0 ? LlmCalls.AddRange(child.LlmCalls.GetRange(dispatched.LlmCalls.Count, newCalls)) : LlmCalls,
        };
    }

    private static string NewId() => RandomIds.NewGuid().ToString("N");
}
