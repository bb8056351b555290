using System.Globalization;
using TtaActors.Actors.Context;
using TtaActors.Telemetry;

namespace TtaActors.Actors.Llm;

/// <summary>
/// Spending limits of one run, checked before every LLM call of the run (not only when it starts): a call whose
/// estimate would take the run past a limit is not sent and fails its step with <see cref="LlmBudgetExceededException"/>.
/// </summary>
public sealed record LlmBudget
{
    /// <summary>No limits.</summary>
    public static LlmBudget None { get; } = new();

    /// <summary><c>TTA_LLM_RUN_MAX_COST_USD</c>: the most a run may spend on LLM calls, in USD (null: no limit).</summary>
    public decimal? MaxRunCostUsd { get; init; }

    /// <summary><c>TTA_LLM_RUN_MAX_TOKENS</c>: the most input plus output tokens a run may use (null: no limit).</summary>
    public long? MaxRunTokens { get; init; }

    /// <summary>True when neither limit is set.</summary>
    public bool IsNone => MaxRunCostUsd is null && MaxRunTokens is null;
}

/// <summary>A call that would pass a budget; the message names the budget, what was spent so far and the call's estimate.</summary>
public sealed class LlmBudgetExceededException(string budget, string message) : Exception(message)
{
    /// <summary><c>run_cost</c>, <c>run_tokens</c> or <c>session_tokens</c>.</summary>
    public string Budget { get; } = budget;
}

/// <summary>What a run has spent so far and what the next call is estimated to add, checked against a budget.</summary>
internal static class LlmBudgetCheck
{
    public static void Check(LlmBudget budget, string step, string model, (long Tokens, decimal Cost) spent, long estimatedInput,
        long estimatedOutput, decimal? estimatedCost)
    {
        var estimate = estimatedInput + estimatedOutput;
        if (budget.MaxRunTokens is { } maxTokens && spent.Tokens + estimate > maxTokens)
        {
            throw Refuse(TelemetryNames.LlmBudgets.RunTokens, model, string.Create(CultureInfo.InvariantCulture,
                $"LLM step '{step}': the run's token budget of {maxTokens} tokens (TTA_LLM_RUN_MAX_TOKENS) would be passed: " +
                $"{spent.Tokens} tokens used so far, this call is estimated at {estimate} tokens ({estimatedInput} input + " +
                $"{estimatedOutput} output, from max_tokens) on {model}. The call was not sent."));
        }
        if (budget.MaxRunCostUsd is { } maxCost && spent.Cost + (estimatedCost ?? 0m) > maxCost)
        {
            throw Refuse(TelemetryNames.LlmBudgets.RunCost, model, string.Create(CultureInfo.InvariantCulture,
                $"LLM step '{step}': the run's cost limit of ${maxCost:0.######} (TTA_LLM_RUN_MAX_COST_USD) would be passed: " +
                $"${spent.Cost:0.######} spent so far, this call is estimated at ${estimatedCost ?? 0m:0.######} ({estimatedInput} input + " +
                $"{estimatedOutput} output tokens on {model}{(estimatedCost is null ? ", a model without a price" : "")}). The call was not sent."));
        }
    }

    /// <summary>
    /// The session's token budget: what the persona had used when the run began, plus what the run has used since, plus
    /// this call's estimate, must stay within it.
    /// </summary>
    public static void CheckSession(SessionTokenBudget? session, string step, string model, long runTokens, long estimatedInput, long estimatedOutput)
    {
        if (session is null) return;
        var estimate = estimatedInput + estimatedOutput;
        var used = session.UsedTokens + runTokens;
        if (used + estimate <= session.MaxTokens) return;
        throw Refuse(TelemetryNames.LlmSessionBudgets.SessionTokens, model, string.Create(CultureInfo.InvariantCulture,
            $"LLM step '{step}': session '{session.SessionId}''s token budget of {session.MaxTokens} tokens for persona '{session.Persona}' " +
            $"would be passed: {used} tokens used so far ({session.UsedTokens} before this run, {runTokens} in it), this call is estimated " +
            $"at {estimate} tokens ({estimatedInput} input + {estimatedOutput} output, from max_tokens) on {model}. The call was not sent."));
    }

    private static LlmBudgetExceededException Refuse(string budget, string model, string message)
    {
        TtaInstrumentation.LlmBudgetRefusals.Add(1, new KeyValuePair<string, object?>(TelemetryNames.LlmBudgets.BudgetLabel, budget),
            new KeyValuePair<string, object?>(TelemetryNames.LlmLabels.Model, LabelValueBound.Models.Bound(TelemetryNames.LlmLabels.Model, model)));
        return new LlmBudgetExceededException(budget, message);
    }
}
