using System.Text.Json.Nodes;
using TtaActors.Actors.Context;
using TtaActors.Actors.Durable;
using TtaActors.Actors.Execution;
using TtaActors.Runtime.Durable;
using TtaActors.Runtime.Workflows;

namespace TtaActors.Runtime.Runs;

/// <summary>The durable side of the run service: runs of workflows with <c>durability: steps</c> go to their sharded entity.</summary>
public sealed partial class RunService
{
    /// <summary>The node's durable runs; null where there is no cluster and journal (then durable workflows cannot run).</summary>
    public DurableRuns? Durable { get; init; }

    private async Task<(RunRecord Started, Task<RunRecord> Completion)> StartDurableAsync(RegisteredWorkflow workflow, object? input,
        WorkflowContext context, RunId runId, RunRequest request)
    {
        if (Durable is not { } durable)
            throw new DurableRunRefusedException(new DurableRunReplies.Refused(runId.ToString(), DurableRunCodes.Unavailable,
                $"Workflow '{workflow.Name}' is durable (durability: steps) and runs only on a node ('tta node'), which has the journal " +
                "and the cluster its runs live in; start it there with POST /runs."));
        if (request.Session is not null)
            throw new InvalidFieldException("session",
                $"Workflow '{workflow.Name}' is durable; durable runs do not join persona sessions yet. Leave 'session' out (persona and chatmode are kept).");
        var view = await durable.StartAsync(workflow.Name, runId, input, context);
        var started = Record(view);
        Changed?.Invoke(started);
        return (started, CompleteDurableAsync(durable, view.RunId));
    }

    private async Task<RunRecord> CompleteDurableAsync(DurableRuns durable, string runId)
    {
        var finished = Record(await durable.CompletionAsync(runId, Stopping));
        Changed?.Invoke(finished);
        return finished;
    }

    /// <summary>A durable run's view as the record the API answers for every run.</summary>
    public static RunRecord Record(DurableRunReplies.View view) => new(view.RunId, view.Workflow, view.Status switch
        {
            "succeeded" => RunStatus.Succeeded,
            "failed" => RunStatus.Failed,
            "waiting" => RunStatus.Waiting,
            _ => RunStatus.Running,
        }, view.Output is null ? null : JsonNode.Parse(view.Output.Json),
        view.ErrorMessage is null ? null : new WorkflowFailure(view.ErrorPath ?? view.Workflow, view.ErrorType ?? "error", view.ErrorMessage),
        view.TraceId, null, view.Persona, view.ChatMode, view.StartedAt, view.FinishedAt);
}
