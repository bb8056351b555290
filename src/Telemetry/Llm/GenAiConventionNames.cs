namespace TtaActors.Telemetry;

public static partial class TelemetryNames
{
    // ---- issue 15 (conventions, rate limits, session budgets): names added by branch i15-conv ----

    /// <summary>
    /// GenAI convention names whose use depends on <c>OTEL_SEMCONV_STABILITY_OPT_IN</c> (see
    /// <see cref="Llm.GenAiConventions"/>), and the run-level ones every mode emits.
    /// </summary>
    public static class GenAiConventions
    {
        /// <summary>The environment variable that selects the conventions' version.</summary>
        public const string StabilityOptInVariable = "OTEL_SEMCONV_STABILITY_OPT_IN";
        /// <summary>The value in <see cref="StabilityOptInVariable"/> that selects the latest experimental conventions.</summary>
        public const string LatestExperimentalOptIn = "gen_ai_latest_experimental";

        /// <summary>The session id of the run, on chat and agent spans in every mode.</summary>
        public const string ConversationId = "gen_ai.conversation.id";

        /// <summary>The run's root span: <c>gen_ai.operation.name = invoke_workflow</c> and the workflow's name, in every mode.</summary>
        public const string InvokeWorkflowOperation = "invoke_workflow";
        /// <summary>The workflow's name on the run's root span.</summary>
        public const string WorkflowName = "gen_ai.workflow.name";

        /// <summary>v1.36 and before (the default): the provider under its old name, beside <see cref="GenAi.ProviderName"/>.</summary>
        public const string System = "gen_ai.system";

        /// <summary>v1.36 and before (the default): content as span events, each with one attribute holding the text.</summary>
        public const string PromptEvent = "gen_ai.content.prompt";
        /// <summary>v1.36: the attribute of <see cref="PromptEvent"/> holding the prompt.</summary>
        public const string PromptAttribute = "gen_ai.prompt";
        /// <summary>v1.36: the span event holding the completion.</summary>
        public const string CompletionEvent = "gen_ai.content.completion";
        /// <summary>v1.36: the attribute of <see cref="CompletionEvent"/> holding the completion.</summary>
        public const string CompletionAttribute = "gen_ai.completion";

        /// <summary>With the opt-in: content as span attributes holding the conventions' JSON message arrays.</summary>
        public const string InputMessages = "gen_ai.input.messages";
        /// <summary>With the opt-in: the completion as the conventions' JSON message array.</summary>
        public const string OutputMessages = "gen_ai.output.messages";
        /// <summary>With the opt-in: the system prompt as a JSON array of parts.</summary>
        public const string SystemInstructions = "gen_ai.system_instructions";

        /// <summary>With the opt-in: agent and tool durations get their own histograms (by default they go to <see cref="GenAi.ClientOperationDuration"/>).</summary>
        public const string InvokeAgentDuration = "gen_ai.invoke_agent.duration";
        /// <summary>With the opt-in: histogram of tool call time, in seconds.</summary>
        public const string ExecuteToolDuration = "gen_ai.execute_tool.duration";
    }

    /// <summary>Client-side rate limits of LLM calls (requests and tokens per minute) and the provider's own 429 answers.</summary>
    public static class LlmRateLimits
    {
        /// <summary>Seconds a call waited before it was sent (for a local limit or a provider's Retry-After), labelled provider, model, reason.</summary>
        public const string WaitSeconds = "llm_rate_limit_wait_seconds";

        /// <summary>Calls that had to wait or were refused, labelled provider, model, reason.</summary>
        public const string Limited = "llm_rate_limited_total";

        /// <summary>The label saying which limit made the call wait.</summary>
        public const string ReasonLabel = "reason";

        /// <summary>Values of <see cref="ReasonLabel"/>.</summary>
        public const string RequestsPerMinute = "requests_per_minute";
        /// <summary>Value of <see cref="ReasonLabel"/>: the local tokens-per-minute limit.</summary>
        public const string TokensPerMinute = "tokens_per_minute";
        /// <summary>Value of <see cref="ReasonLabel"/>: the provider answered HTTP 429.</summary>
        public const string Provider429 = "provider_429";

        /// <summary>The span event on <c>chat {model}</c> for each wait, with the reason and the seconds waited.</summary>
        public const string WaitEvent = "llm.rate_limit.wait";
        /// <summary>Attribute of <see cref="WaitEvent"/>: the reason (a value of <see cref="ReasonLabel"/>).</summary>
        public const string WaitReasonAttribute = "llm.rate_limit.reason";
        /// <summary>Attribute of <see cref="WaitEvent"/>: seconds waited.</summary>
        public const string WaitSecondsAttribute = "llm.rate_limit.wait_seconds";
        /// <summary>Attribute of <see cref="WaitEvent"/>: the retry attempt after a 429.</summary>
        public const string RetryAttemptAttribute = "llm.rate_limit.retry_attempt";
    }

    /// <summary>The session budget checked before each LLM call, beside <see cref="LlmBudgets.RunCost"/> and <see cref="LlmBudgets.RunTokens"/>.</summary>
    public static class LlmSessionBudgets
    {
        /// <summary>Value of <see cref="LlmBudgets.BudgetLabel"/>: the session's token budget.</summary>
        public const string SessionTokens = "session_tokens";
    }
    // ---- end of i15-conv names ----
}
