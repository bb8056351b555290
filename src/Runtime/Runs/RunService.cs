using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json.Nodes;
using TtaActors.Actors.Context;
using TtaActors.Actors.Execution;
using TtaActors.Actors.Sessions;
using TtaActors.Runtime.Hosting;
using TtaActors.Runtime.Workflows;

namespace TtaActors.Runtime.Runs;

public enum RunStatus
{
    Running,
    Succeeded,
    Failed,
}

/// <summary>A request to run a registered workflow, optionally inside a persona session.</summary>
public sealed record RunRequest(string Workflow, JsonNode? Input, string? Session = null, string? Persona = null, string? ChatMode = null);

/// <summary>One run as the API reports it.</summary>
public sealed record RunRecord(string RunId, string Workflow, RunStatus Status, object? Output, WorkflowFailure? Error, string? TraceId,
    string? Session, string? Persona, string? ChatMode, DateTimeOffset StartedAt, DateTimeOffset? FinishedAt);

/// <summary>The named workflow is not registered (or its file is invalid).</summary>
public sealed class WorkflowNotFoundException(string name, IReadOnlyList<string> registered, WorkflowSummary? invalid)
    : KeyNotFoundException(invalid is null
        ? $"No workflow named '{name}' is registered. Registered workflows: {(registered.Count == 0 ? "none" : string.Join(", ", registered))}."
        : $"Workflow '{name}' from {invalid.Source} cannot run: its file has {invalid.Problems.Count} problem(s). Fix them and restart the node.")
{
    public string Name { get; } = name;
    public WorkflowSummary? Invalid { get; } = invalid;
}

/// <summary>
/// Starts runs of registered workflows, in a session when asked, and keeps the latest runs for
/// <c>GET /runs/{id}</c> (a bounded number, so memory stays flat on a busy node).
/// </summary>
public sealed class RunService(WorkflowRegistry registry, IPersonaSessions sessions, TtaRuntimeOptions runtime)
{
    public const int RetainedRuns = 10_000;

    private readonly ConcurrentDictionary<string, RunRecord> _runs = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _order = new();

    /// <summary>The deadline of each run; null lets runs take as long as they take.</summary>
    public TimeSpan? RunTimeout { get; init; }

    /// <summary>Cancels every run when the process stops.</summary>
    public CancellationToken Stopping { get; init; }

    /// <summary>Starts a run and returns its record (still running) and the task that completes with its final record.</summary>
    public async Task<(RunRecord Started, Task<RunRecord> Completion)> StartAsync(RunRequest request, CancellationToken cancellation = default)
    {
        if (!registry.TryGet(request.Workflow, out var workflow))
            throw new WorkflowNotFoundException(request.Workflow,
                registry.List().Where(w => w.Valid).Select(w => w.Name).ToList(), registry.FindInvalid(request.Workflow));

        var input = workflow.AdaptInput(request.Input);
        var runId = RunId.New();
        var context = WorkflowContext.Create(workflowId: workflow.Name, persona: request.Persona, chatMode: request.ChatMode,
            workspace: runtime.ServiceName);
        if (request.Session is { } session)
        {
            if (request.Persona is { } persona) await sessions.SwitchPersonaAsync(session, persona, request.ChatMode, cancellation);
            context = await sessions.BeginRunAsync(session, workflow.Name, runId, context, cancellation);
        }

        var started = new RunRecord(runId.ToString(), workflow.Name, RunStatus.Running, null, null, null, request.Session, context.Persona,
            context.ChatMode, DateTimeOffset.UtcNow, null);
        Remember(started);
        return (started, CompleteAsync(workflow, input, context, started, runId));
    }

    public RunRecord? Get(string runId) => _runs.TryGetValue(runId, out var record) ? record : null;

    private async Task<RunRecord> CompleteAsync(RegisteredWorkflow workflow, object? input, WorkflowContext context, RunRecord started, RunId runId)
    {
        // Each run is its own trace (and Langfuse trace): it must not become a child of the HTTP request's activity,
        // which is not exported and, unsampled, would keep the run from being recorded. The change stays in this method.
        Activity.Current = null;
        var result = await workflow.Graph.RunAsync(input, context, new RunOptions { Timeout = RunTimeout, Cancellation = Stopping });
        var (output, failure) = OutputOf(workflow.Name, result);
        var finished = started with
        {
            Status = failure is null ? RunStatus.Succeeded : RunStatus.Failed,
            Output = output,
            Error = failure,
            TraceId = result.TraceId,
            FinishedAt = DateTimeOffset.UtcNow,
        };
        _runs[finished.RunId] = finished;
        if (started.Session is { } session)
        {
            var calls = result.Context.LlmCalls;
            var cost = calls.Any(c => c.CostUsd is not null) ? calls.Sum(c => c.CostUsd ?? 0m) : (decimal?)null;
            await sessions.CompleteRunAsync(session,
                new SessionRunOutcome(runId, failure is null, calls.Sum(c => c.InputTokens), calls.Sum(c => c.OutputTokens), cost),
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

    private void Remember(RunRecord record)
    {
        _runs[record.RunId] = record;
        _order.Enqueue(record.RunId);
        while (_order.Count > RetainedRuns && _order.TryDequeue(out var oldest)) _runs.TryRemove(oldest, out _);
    }
}
