namespace TtaActors.Telemetry;

/// <summary>
/// Every name users query: span names, span attributes, metric names and metric labels.
/// This is the contract of DESIGN.md section 4; dashboards depend on it, so names never change silently.
/// </summary>
public static partial class TelemetryNames
{
    /// <summary>Name of the one <c>ActivitySource</c> and the one <c>Meter</c>.</summary>
    public const string SourceName = "TtaActors";

    public static class Spans
    {
        public const string PrimitivePrefix = "primitive.";
        public const string RetryAttemptPrefix = "retry.attempt_";

        /// <summary>The root span of one run: <c>workflow.{workflow name}</c>; every primitive span of the run is below it.</summary>
        public const string WorkflowRunPrefix = "workflow.";
    }

    public static class Attributes
    {
        public const string PrimitiveName = "primitive.name";
        public const string PrimitiveType = "primitive.type";
        public const string PrimitiveStatus = "primitive.status";
        public const string PrimitivePath = "primitive.path";
        public const string WorkflowName = "workflow.name";
        public const string WorkflowId = "workflow.id";
        public const string WorkflowSessionId = "workflow.session_id";
        public const string WorkflowCorrelationId = "workflow.correlation_id";
        public const string WorkflowRunId = "workflow.run_id";
        public const string Persona = "persona";
        public const string ChatMode = "chatmode";
        public const string StepIndex = "step.index";
        public const string BranchIndex = "branch.index";
        public const string RouterRoute = "router.route";
        public const string RouterUsedDefault = "router.used_default";
        public const string RetryAttempt = "retry.attempt";
    }

    public static class Status
    {
        public const string Success = "success";
        public const string Error = "error";
    }

    public static class Metrics
    {
        public const string PrimitiveExecutionDuration = "primitive_execution_duration_seconds";
        public const string PrimitiveExecutions = "primitive_executions_total";
    }

    /// <summary>
    /// <c>tta_build_info</c>: a gauge of value 1 per workspace whose labels say what runs (the troubleshooting step
    /// <c>curl http://localhost:9464/metrics | grep tta_</c> finds it on every node).
    /// </summary>
    public static class BuildInfo
    {
        public const string Name = "tta_build_info";
        public const string Version = "version";
        public const string AkkaVersion = "akka_version";
        public const string DotnetVersion = "dotnet_version";
    }

    /// <summary>
    /// Process and .NET runtime metrics on the Prometheus endpoint, as the OpenTelemetry process and runtime
    /// instrumentation name them (on .NET 9 and later the runtime's own <c>System.Runtime</c> meter), in their
    /// Prometheus form. The dashboard's process row queries these.
    /// </summary>
    public static class ProcessMetrics
    {
        public const string CpuTime = "process_cpu_time_seconds_total";
        public const string MemoryUsage = "process_memory_usage_bytes";
        public const string MemoryVirtual = "process_memory_virtual_bytes";
        public const string ThreadCount = "process_thread_count";
        public const string GcCollections = "dotnet_gc_collections_total";
        public const string GcHeapTotalAllocated = "dotnet_gc_heap_total_allocated_bytes_total";
        public const string GcPauseTime = "dotnet_gc_pause_time_seconds_total";
        public const string ThreadPoolThreads = "dotnet_thread_pool_thread_count_total";
        public const string ThreadPoolQueueLength = "dotnet_thread_pool_queue_length_total";
        public const string ProcessMemoryWorkingSet = "dotnet_process_memory_working_set_bytes";
    }

    /// <summary>Per-run state held by the process, so that a leak is visible from outside; both return to zero when load settles.</summary>
    public static class Lifecycle
    {
        /// <summary>Runs started and not yet answered, by workflow (label <see cref="Labels.Workflow"/>).</summary>
        public const string WorkflowRunsActive = "workflow_runs_active";

        /// <summary>Runs held by composite primitives (each waiting for a child, a backoff or a lookup), summed over all.</summary>
        public const string PrimitiveDispatchesPending = "primitive_dispatches_pending";
    }

    /// <summary>The node's store of recent runs (for <c>GET /runs/{id}</c>).</summary>
    public static class RunStoreMetrics
    {
        /// <summary>Runs evicted from the store, by <c>reason</c> (<c>bytes</c> or <c>count</c>).</summary>
        public const string Evicted = "run_store_evicted_total";
    }

    /// <summary>Persona sessions (sharded, persistent entities): metrics and their labels.</summary>
    public static class Sessions
    {
        public const string PersonaSwitches = "persona_switches_total";
        public const string PersonaSessionsActive = "persona_sessions_active";
    }

    public static class Labels
    {
        public const string PrimitiveName = "primitive_name";
        public const string PrimitiveType = "primitive_type";
        public const string Status = "status";
        public const string Persona = "persona";
        public const string ServiceName = "service_name";
        public const string Exporter = "exporter";
        public const string Reason = "reason";
        public const string Outcome = "outcome";
        public const string ActorType = "actor_type";
        public const string MemberStatus = "status";
        public const string ShardRegion = "region";
        public const string FromPersona = "from_persona";
        public const string ToPersona = "to_persona";
        public const string ChatMode = "chatmode";
        public const string Workflow = "workflow";

        /// <summary>The label whose values were folded, on <c>telemetry_label_values_folded_total</c>.</summary>
        public const string Label = "label";
    }

    /// <summary>The telemetry pipeline's own metrics (spans exported and dropped per exporter, queue, export latency).</summary>
    public static class PipelineMetrics
    {
        public const string SpansExported = "telemetry_spans_exported_total";
        public const string SpansDropped = "telemetry_spans_dropped_total";
        public const string QueueDepth = "telemetry_queue_depth";
        public const string ExporterBacklog = "telemetry_exporter_backlog_spans";
        public const string QueueBytes = "telemetry_queue_bytes";
        public const string ExporterBacklogBytes = "telemetry_exporter_backlog_bytes";
        public const string ExportRetries = "telemetry_export_retries_total";
        public const string ExportDuration = "telemetry_export_duration_seconds";

        /// <summary>Label values beyond a label's bound that were written as the overflow value instead.</summary>
        public const string LabelValuesFolded = "telemetry_label_values_folded_total";
    }

    /// <summary>Actor-system metrics, labelled by actor type (never by actor path, which is unbounded).</summary>
    public static class ActorMetrics
    {
        public const string MessagesReceived = "akka_actor_messages_received_total";
        public const string MailboxDepth = "akka_actor_mailbox_depth";
        public const string Restarts = "akka_actor_restarts_total";
        public const string LiveActors = "akka_actors_live";
        public const string ClusterMembers = "akka_cluster_members";
        public const string ShardedEntities = "akka_sharding_entities";
    }

    /// <summary>
    /// Names of the rest of the primitive catalog (Fallback, Timeout, Conditional, Switch, Saga, CircuitBreaker, Cache,
    /// Mock): the span attributes that explain each decision, and the catalog's own instruments.
    /// </summary>
    public static class Catalog
    {
        public static class Attributes
        {
            public const string FallbackUsed = "fallback.used";
            public const string TimeoutExpired = "timeout.expired";
            public const string ConditionalBranch = "conditional.branch";
            public const string SwitchCase = "switch.case";
            public const string SwitchKey = "switch.key";
            public const string SagaCompensated = "saga.compensated";
            public const string SagaCompensationError = "saga.compensation_error";
            public const string CircuitState = "circuit.state";
            public const string CircuitFromState = "circuit.from_state";
            public const string CircuitToState = "circuit.to_state";
            public const string CacheHit = "cache.hit";
            public const string MockCall = "mock.call";
        }

        public static class Events
        {
            /// <summary>Span event on the run that moved a circuit breaker from one state to another.</summary>
            public const string CircuitTransition = "circuit.transition";
        }

        /// <summary>Values of <see cref="Attributes.ConditionalBranch"/> and <see cref="Attributes.SwitchCase"/>.</summary>
        public static class Branches
        {
            public const string Then = "then";
            public const string Else = "else";
            public const string Default = "default";
            public const string PassThrough = "passthrough";
        }

        public static class Metrics
        {
            /// <summary>Gauge: 0 closed, 1 half-open, 2 open (ordered by severity, so <c>max</c> shows the worst).</summary>
            public const string CircuitBreakerState = "circuit_breaker_state";
            public const string CircuitBreakerTransitions = "circuit_breaker_transitions_total";
            public const string CacheHits = "cache_hits_total";
            public const string CacheMisses = "cache_misses_total";

            /// <summary>Answers of inner runs that came back after their Timeout had expired, and were discarded.</summary>
            public const string TimeoutLateResults = "timeout_late_results_total";
        }

        public static class Labels
        {
            public const string FromState = "from_state";
            public const string ToState = "to_state";
        }
    }

    /// <summary>OpenTelemetry GenAI semantic conventions: the <c>chat {model}</c> span and its attributes.</summary>
    public static class GenAi
    {
        public const string ChatOperation = "chat";
        public const string OperationName = "gen_ai.operation.name";
        public const string ProviderName = "gen_ai.provider.name";
        public const string RequestModel = "gen_ai.request.model";
        public const string RequestTemperature = "gen_ai.request.temperature";
        public const string RequestMaxTokens = "gen_ai.request.max_tokens";
        public const string ResponseModel = "gen_ai.response.model";
        public const string ResponseId = "gen_ai.response.id";
        public const string ResponseFinishReasons = "gen_ai.response.finish_reasons";
        public const string UsageInputTokens = "gen_ai.usage.input_tokens";
        public const string UsageOutputTokens = "gen_ai.usage.output_tokens";
        public const string UsageCachedInputTokens = "gen_ai.usage.cache_read.input_tokens";

        /// <summary>Cost of the call in USD; absent when the model has no price in the catalog.</summary>
        public const string UsageCost = "gen_ai.usage.cost";
        public const string TokenType = "gen_ai.token.type";
        public const string ErrorType = "error.type";

        /// <summary>Seconds from sending a streamed request to its first content chunk.</summary>
        public const string TimeToFirstToken = "gen_ai.response.time_to_first_chunk";

        public const string ClientTokenUsage = "gen_ai.client.token.usage";
        public const string ClientOperationDuration = "gen_ai.client.operation.duration";
    }

    /// <summary>Attributes Langfuse reads from OpenTelemetry spans (trace-level ones go on every span of a run).</summary>
    public static class Langfuse
    {
        public const string TraceName = "langfuse.trace.name";
        public const string UserId = "langfuse.user.id";
        public const string SessionId = "langfuse.session.id";
        public const string TraceTags = "langfuse.trace.tags";
        public const string TraceMetadataChatMode = "langfuse.trace.metadata.chatmode";
        public const string TraceMetadataWorkspace = "langfuse.trace.metadata.workspace";
        public const string TraceMetadataPrefix = "langfuse.trace.metadata.";
        public const string ObservationType = "langfuse.observation.type";
        public const string ObservationInput = "langfuse.observation.input";
        public const string ObservationOutput = "langfuse.observation.output";
        public const string ObservationCostDetails = "langfuse.observation.cost_details";
        public const string ObservationUsageDetails = "langfuse.observation.usage_details";
        public const string ObservationCompletionStartTime = "langfuse.observation.completion_start_time";
        public const string ObservationMetadataPrefix = "langfuse.observation.metadata.";
        public const string GenerationType = "generation";

        /// <summary>The Langfuse prompt (name and version) a generation used, so Langfuse links it to that prompt version.</summary>
        public const string ObservationPromptName = "langfuse.observation.prompt.name";
        public const string ObservationPromptVersion = "langfuse.observation.prompt.version";

        /// <summary>The run's input and output on its root span, under the capture policy.</summary>
        public const string TraceInput = "langfuse.trace.input";
        public const string TraceOutput = "langfuse.trace.output";

        /// <summary>The OpenTelemetry names of user and session, beside <see cref="UserId"/> and <see cref="SessionId"/> on the root span.</summary>
        public const string OtelUserId = "user.id";
        public const string OtelSessionId = "session.id";
    }

    public static class LlmMetrics
    {
        public const string Tokens = "llm_tokens_total";
        public const string CostUsd = "llm_cost_usd_total";
        public const string RequestDuration = "llm_request_duration_seconds";

        /// <summary>Calls whose model has no price in the cost catalog, so no cost was reported for them.</summary>
        public const string CostUnknown = "llm_cost_unknown_total";
        public const string TimeToFirstToken = "llm_time_to_first_token_seconds";
    }

    public static class LlmLabels
    {
        public const string Model = "model";
        public const string Provider = "provider";
        public const string TokenType = "token_type";
        public const string Input = "input";
        public const string Output = "output";
    }

    // ---- issue 15 (agents and tools, budgets): names added by branch i15-agents ----

    /// <summary>GenAI conventions for agents and tools: the <c>invoke_agent {name}</c> and <c>execute_tool {tool}</c> spans.</summary>
    public static class GenAiAgents
    {
        public const string InvokeAgentOperation = "invoke_agent";
        public const string ExecuteToolOperation = "execute_tool";
        public const string AgentName = "gen_ai.agent.name";
        public const string ToolName = "gen_ai.tool.name";
        public const string ToolCallId = "gen_ai.tool.call.id";
        public const string ToolType = "gen_ai.tool.type";
        public const string ToolDescription = "gen_ai.tool.description";

        /// <summary>The tool's arguments and result as JSON, under the capture policy (opt-in content attributes of the conventions).</summary>
        public const string ToolCallArguments = "gen_ai.tool.call.arguments";
        public const string ToolCallResult = "gen_ai.tool.call.result";

        /// <summary>Values of <see cref="ToolType"/>: code the agent runs itself (C# functions, workflows) or a call to another service (http tools).</summary>
        public const string FunctionToolType = "function";
        public const string ExtensionToolType = "extension";

        /// <summary>Langfuse observation types of the agent and tool spans (chat calls are <see cref="Langfuse.GenerationType"/>).</summary>
        public const string LangfuseAgentType = "agent";
        public const string LangfuseToolType = "tool";

        /// <summary>
        /// Agent steps and tool calls are recorded in <see cref="GenAi.ClientOperationDuration"/> with their
        /// <see cref="GenAi.OperationName"/> (<c>invoke_agent</c>, <c>execute_tool</c>) and this name label (bounded).
        /// </summary>
        public const string DurationNameNote = "gen_ai.client.operation.duration";
    }

    /// <summary>Spending limits of LLM calls, checked before every call.</summary>
    public static class LlmBudgets
    {
        /// <summary>Calls refused because they would pass a budget, labelled <c>budget</c> (<c>run_cost</c> or <c>run_tokens</c>).</summary>
        public const string Refused = "llm_budget_refusals_total";
        public const string BudgetLabel = "budget";
        public const string RunCost = "run_cost";
        public const string RunTokens = "run_tokens";
    }
    // ---- end of issue 15 names ----

    /// <summary>Label value used when a run carries no persona, so the label is never missing.</summary>
    public const string NoPersona = "none";

    /// <summary>The value a caller-supplied label takes once its bound of distinct values is reached.</summary>
    public const string Overflow = "_other";
}
