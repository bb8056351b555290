using System.Diagnostics;
using System.Text.Json.Nodes;
using TtaActors.Actors.Context;
using TtaActors.Actors.Execution;
using TtaActors.Actors.Sessions;
using TtaActors.Runtime.Hosting;
using TtaActors.Runtime.Workflows;

namespace TtaActors.Runtime.Runs;

/// <summary>Where a run is.</summary>
public enum RunStatus
{
    /// <summary>Started and not finished.</summary>
    Running,
    /// <summary>A durable run paused for a signal (an approval).</summary>
    Waiting,
    /// <summary>Finished with an output.</summary>
    Succeeded,
    /// <summary>Finished with a failure.</summary>
    Failed,
}

/// <summary>A request to run a registered workflow, optionally inside a persona session.</summary>
public sealed record RunRequest(string Workflow, JsonNode? Input, string? Session = null, string? Persona = null, string? ChatMode = null);

/// <summary>One run as the API reports it.</summary>
public sealed record RunRecord(string RunId, string Workflow, RunStatus Status, object? Output, WorkflowFailure? Error, string? TraceId,
    string? Session, string? Persona, string? ChatMode, DateTimeOffset StartedAt, DateTimeOffset? FinishedAt)
{
    /// <summary>LLM calls, tokens and cost of the finished run (null while it runs).</summary>
    public RunLlmUsage? Usage { get; init; }
}

/// <summary>The named workflow is not registered (or its file is invalid).</summary>
public sealed class WorkflowNotFoundException(string name, IReadOnlyList<string> registered, WorkflowSummary? invalid)
    : KeyNotFoundException(invalid is null
        ? $"No workflow named '{PersonaNames.Printable(name.Length > 200 ? name[..200] + "..." : name)}' is registered. Registered workflows: {(registered.Count == 0 ? "none" : string.Join(", ", registered))}."
        : $"Workflow '{name}' from {invalid.Source} cannot run: its file has {invalid.Problems.Count} problem(s). Fix them and restart the node.")
{
    /// <summary>The name asked for.</summary>
    public string Name { get; } = name;
    /// <summary>The workflow's file and its problems when the name is registered but its file is invalid; null when unknown.</summary>
    public WorkflowSummary? Invalid { get; } = invalid;
}

/// <summary>A field of a request (a JSON field, or the session id in a path) has a value the node refuses.</summary>
public sealed class InvalidFieldException(string field, string message) : ArgumentException($"{field}: {message}")
{
    /// <summary>The JSON field (<c>persona</c>, <c>chatmode</c>, <c>session</c>, <c>input</c>) or path parameter.</summary>
    public string Field { get; } = field;

    /// <summary>Refuses malformed session ids, personas and chat modes with the session rules of <see cref="PersonaNames"/>.</summary>
    public static void CheckNames(string? session, string? persona, string? chatMode, string sessionField = "session")
    {
        if (session is not null && PersonaNames.SessionIdProblem(session) is { } sessionProblem)
            throw new InvalidFieldException(sessionField, sessionProblem);
        if (persona is not null && PersonaNames.Problem("persona", persona) is { } personaProblem)
            throw new InvalidFieldException("persona", personaProblem);
        if (chatMode is not null && PersonaNames.Problem("chat mode", chatMode) is { } chatModeProblem)
            throw new InvalidFieldException("chatmode", chatModeProblem);
    }
}

/// <summary>
/// Starts runs of registered workflows, in a session when asked, and keeps the latest runs for
/// <c>GET /runs/{id}</c> in a <see cref="RunStore"/> bounded by count and bytes, so memory stays flat on a busy node.
/// With <paramref name="sessions"/> null (a host without persona sessions) a run asked for in a session is refused.
/// </summary>
public sealed partial class RunService(WorkflowRegistry registry, IPersonaSessions? sessions, TtaRuntimeOptions runtime)
{
    /// <summary>The deadline of each run; null lets runs take as long as they take.</summary>
    public TimeSpan? RunTimeout { get; init; }

    /// <summary>
    /// Ends the waits for durable runs' answers when the process stops (the runs themselves are journaled and go on).
    /// Runs of the graphs end when the host stops the graphs (<see cref="CodeWorkflowStartup"/>), with
    /// <see cref="Actors.Execution.WorkflowGraphStoppedException"/> naming where each was.
    /// </summary>
    public CancellationToken Stopping { get; init; }

    /// <summary>The runs kept for <c>GET /runs/{id}</c>.</summary>
    public RunStore Store { get; init; } = new(new RunStoreLimits());

    /// <summary>
    /// Starts a run and returns its record (still running) and the task that completes with its final record.
    /// <paramref name="cancellation"/> (the caller going away) can stop the request before the session admits the run;
    /// once admitted, the run and its completion in the session go on whatever the caller does.
    /// </summary>
    public async Task<(RunRecord Started, Task<RunRecord> Completion)> StartAsync(RunRequest request, CancellationToken cancellation = default)
    {
        InvalidFieldException.CheckNames(request.Session, request.Persona, request.ChatMode);
        if (!registry.TryGet(request.Workflow, out var workflow))
            throw new WorkflowNotFoundException(request.Workflow,
                registry.List().Where(w => w.Valid).Select(w => w.Name).ToList(), registry.FindInvalid(request.Workflow));

        object? input;
        try
        {
            input = workflow.AdaptInput(request.Input);
        }
        catch (ArgumentException invalid) when (invalid is not InvalidFieldException)
        {
            throw new InvalidFieldException("input", invalid.Message);
        }
        var runId = RunId.New();
        // The run id is also the correlation id every primitive span carries, so the run inspector finds a running run's
        // trace by the id POST /runs answered, before its root span (tagged workflow.run_id) has ended.
        var context = WorkflowContext.Create(workflowId: workflow.Name, persona: request.Persona, chatMode: request.ChatMode,
            workspace: runtime.ServiceName) with { CorrelationId = runId.ToString() };
        if (workflow.Durable is not null) return await StartDurableAsync(workflow, input, context, runId, request);
        if (request.Session is { } session)
        {
            var personaSessions = sessions ?? throw new InvalidFieldException("session",
                $"this host has no persona sessions to run '{session}' in (they need AddPersonaSessions on a cluster node); leave 'session' out or run it on a node.");
            if (request.Persona is { } persona) await personaSessions.SwitchPersonaAsync(session, persona, request.ChatMode, cancellation);
            context = await AdmitAsync(personaSessions, session, workflow.Name, runId, context);
        }

        var started = new RunRecord(runId.ToString(), workflow.Name, RunStatus.Running, null, null, null, request.Session, context.Persona,
            context.ChatMode, DateTimeOffset.UtcNow, null);
        Started(started, RunStore.JsonBytes(request.Input));
        return (started, CompleteAsync(workflow, input, context, started, runId));
    }

    /// <summary>
    /// Keeps a started run for <c>GET /runs</c> and the live feed. <c>tta demo --hold</c> calls it (and
    /// <see cref="Finished"/>) for the runs it drives itself, so the inspector shows them like runs started over the API.
    /// </summary>
    public void Started(RunRecord started, long inputBytes)
    {
        Store.Started(started, inputBytes);
        Changed?.Invoke(started);
    }

    /// <summary>Replaces a started run by its final record, built from the run's result, and returns that record.</summary>
    public RunRecord Finished(RunRecord started, WorkflowRunResult result)
    {
        var (output, failure) = OutputOf(started.Workflow, result);
        var finished = started with
        {
            Status = failure is null ? RunStatus.Succeeded : RunStatus.Failed,
            Output = output,
            Error = failure,
            TraceId = result.TraceId,
            FinishedAt = DateTimeOffset.UtcNow,
            Usage = result.LlmUsage,
        };
        Store.Finished(finished);
        Changed?.Invoke(finished);
        return finished;
    }

    /// <summary>The stored run <paramref name="runId"/>; null when unknown or evicted.</summary>
    public StoredRun? Get(string runId) => Store.Get(runId);

    /// <summary>Raised when a run this node started starts or finishes (in-memory and durable), for the live run feed.</summary>
    public event Action<RunRecord>? Changed;

    /// <summary>
    /// Begins the run in its session without the caller's cancellation: an admission the caller stopped waiting for
    /// would leave a run begun and never finished. When the session does not answer, it may still have admitted the
    /// run, so the run is closed there as failed before the error goes back.
    /// </summary>
    private static async Task<WorkflowContext> AdmitAsync(IPersonaSessions sessions, string session, string workflow, RunId runId,
        WorkflowContext context)
    {
        try
        {
            return await sessions.BeginRunAsync(session, workflow, runId, context, CancellationToken.None);
        }
        catch (TimeoutException)
        {
            _ = CloseUnansweredAsync(sessions, session, runId);
            throw;
        }
    }

    private static async Task CloseUnansweredAsync(IPersonaSessions sessions, string session, RunId runId)
    {
        try
        {
            await sessions.CompleteRunAsync(session, new SessionRunOutcome(runId, false, 0, 0, null), CancellationToken.None);
        }
        catch (Exception error) when (error is PersonaSessionRefusedException or TimeoutException)
        {
            // Refused: the session never admitted it. Timeout: the session is unreachable; it has no open run to close.
        }
    }

    private async Task<RunRecord> CompleteAsync(RegisteredWorkflow workflow, object? input, WorkflowContext context, RunRecord started, RunId runId)
    {
        // Each run is its own trace (and Langfuse trace): it must not become a child of the HTTP request's activity,
        // which is not exported and, unsampled, would keep the run from being recorded. The change stays in this method.
        Activity.Current = null;
        var result = await workflow.Graph.RunAsync(input, context, new RunOptions { Timeout = RunTimeout, RunId = runId });
        var finished = Finished(started, result);
        // A run in a session was admitted by the sessions (StartAsync refuses one without them).
        if (started.Session is { } session && sessions is not null)
        {
            var calls = result.Context.LlmCalls;
            var cost = calls.Any(c => c.CostUsd is not null) ? calls.Sum(c => c.CostUsd ?? 0m) : (decimal?)null;
            await sessions.CompleteRunAsync(session,
                new SessionRunOutcome(runId, finished.Error is null, calls.Sum(c => c.InputTokens), calls.Sum(c => c.OutputTokens), cost),
                CancellationToken.None);
        }
        return finished;
    }

    /// <summary>The output as the JSON every reader gets (one conversion, see <see cref="JsonData.ToOutput"/>), or why there is none.</summary>
    private static (JsonNode? Output, WorkflowFailure? Failure) OutputOf(string workflow, WorkflowRunResult result)
    {
        if (result.Failure is { } failed) return (null, failed);
        try
        {
            return (JsonData.ToOutput(result.Output), null);
        }
        catch (RunOutputException error)
        {
            return (null, WorkflowFailure.From(workflow, error));
        }
    }

}
