namespace TtaActors.Telemetry;

/// <summary>
/// Every name users query: span names, span attributes, metric names and metric labels.
/// This is the contract of DESIGN.md section 4; dashboards depend on it, so names never change silently.
/// </summary>
public static partial class TelemetryNames
{
    /// <summary>Name of the one <c>ActivitySource</c> and the one <c>Meter</c>.</summary>
    public const string SourceName = "TtaActors";

    /// <summary>Span names (or their prefixes, completed by a primitive's or workflow's name).</summary>
    public static class Spans
    {
        /// <summary>Every primitive execution is a span <c>primitive.{Name}</c>; the name defaults to the primitive's type.</summary>
        public const string PrimitivePrefix = "primitive.";

        /// <summary>Each Retry attempt is a child span <c>retry.attempt_{n}</c> (n from 0) around the inner primitive's span.</summary>
        public const string RetryAttemptPrefix = "retry.attempt_";

        /// <summary>The root span of one run: <c>workflow.{workflow name}</c>; every primitive span of the run is below it.</summary>
        public const string WorkflowRunPrefix = "workflow.";
    }

    /// <summary>Attributes on primitive and workflow spans.</summary>
    public static class Attributes
    {
        /// <summary>The primitive's name (its type name unless the user named it).</summary>
        public const string PrimitiveName = "primitive.name";

        /// <summary>The primitive's type, e.g. <c>SequentialPrimitive</c>.</summary>
        public const string PrimitiveType = "primitive.type";

        /// <summary>Outcome of the execution: <see cref="Status.Success"/> or <see cref="Status.Error"/>.</summary>
        public const string PrimitiveStatus = "primitive.status";

        /// <summary>The primitive's position in the workflow tree, as the path failures name.</summary>
        public const string PrimitivePath = "primitive.path";

        /// <summary>The workflow's name, on the run's root span.</summary>
        public const string WorkflowName = "workflow.name";

        /// <summary>The workflow id of the run's context.</summary>
        public const string WorkflowId = "workflow.id";

        /// <summary>The session id of the run's context (the persona session or caller session the run belongs to).</summary>
        public const string WorkflowSessionId = "workflow.session_id";

        /// <summary>The correlation id of the run's context, shared by all runs a caller groups together.</summary>
        public const string WorkflowCorrelationId = "workflow.correlation_id";

        /// <summary>The run's id, on the run's root span.</summary>
        public const string WorkflowRunId = "workflow.run_id";

        /// <summary>
        /// The name of the trace a run belongs to: its own workflow's name, or for a run nested in another (a workflow
        /// called as an agent's tool) the outer run's. On a run's root span and its LLM, agent and tool spans.
        /// </summary>
        public const string WorkflowTraceName = "workflow.trace_name";

        /// <summary>The workspace (service name) the run's context names, on the spans that carry <see cref="WorkflowTraceName"/>.</summary>
        public const string WorkflowWorkspace = "workflow.workspace";

        /// <summary>
        /// The run's input on its root span, as the capture policy records content (text as is, anything else as JSON,
        /// truncated and redacted; absent when capture is off).
        /// </summary>
        public const string WorkflowInput = "workflow.input";

        /// <summary>The output of a run that succeeded, on its root span, recorded like <see cref="WorkflowInput"/>.</summary>
        public const string WorkflowOutput = "workflow.output";

        /// <summary>The run's tags as strings (<c>key:value</c>, or <c>key</c> when the value is empty, ordered by key), on every span of a run that has tags.</summary>
        public const string WorkflowTags = "workflow.tags";

        /// <summary>The persona the run acts as (bounded; <see cref="NoPersona"/> when none).</summary>
        public const string Persona = "persona";

        /// <summary>The chat mode of the run's context.</summary>
        public const string ChatMode = "chatmode";

        /// <summary>Index (from 0) of a Sequential's step.</summary>
        public const string StepIndex = "step.index";

        /// <summary>Index (from 0) of a Parallel's branch.</summary>
        public const string BranchIndex = "branch.index";

        /// <summary>The route a Router took.</summary>
        public const string RouterRoute = "router.route";

        /// <summary>True when the Router's selector named no known route and the default route ran.</summary>
        public const string RouterUsedDefault = "router.used_default";

        /// <summary>The attempt number (from 0) on a Retry attempt span.</summary>
        public const string RetryAttempt = "retry.attempt";
    }

    /// <summary>Values of <see cref="Attributes.PrimitiveStatus"/> and of the <see cref="Labels.Status"/> label.</summary>
    public static class Status
    {
        /// <summary>The execution answered a result.</summary>
        public const string Success = "success";

        /// <summary>The execution failed (the exception is recorded as a span event).</summary>
        public const string Error = "error";
    }

    /// <summary>The primitive execution instruments, labelled by <see cref="Labels"/>.</summary>
    public static class Metrics
    {
        /// <summary>Histogram of primitive execution time, in seconds.</summary>
        public const string PrimitiveExecutionDuration = "primitive_execution_duration_seconds";

        /// <summary>Counter of primitive executions, by name, type, status, persona and service.</summary>
        public const string PrimitiveExecutions = "primitive_executions_total";
    }

    /// <summary>
    /// <c>tta_build_info</c>: a gauge of value 1 per workspace whose labels say what runs (the troubleshooting step
    /// <c>curl http://localhost:9464/metrics | grep tta_</c> finds it on every node).
    /// </summary>
    public static class BuildInfo
    {
        /// <summary>The gauge's name.</summary>
        public const string Name = "tta_build_info";

        /// <summary>Label: the TtaActors version (informational version of the assembly).</summary>
        public const string Version = "version";

        /// <summary>Label: the Akka.NET version in use.</summary>
        public const string AkkaVersion = "akka_version";

        /// <summary>Label: the .NET runtime version.</summary>
        public const string DotnetVersion = "dotnet_version";
    }

    /// <summary>
    /// Process and .NET runtime metrics on the Prometheus endpoint, as the OpenTelemetry process and runtime
    /// instrumentation name them (on .NET 9 and later the runtime's own <c>System.Runtime</c> meter), in their
    /// Prometheus form. The dashboard's process row queries these.
    /// </summary>
    public static class ProcessMetrics
    {
        /// <summary>CPU seconds the process used, by CPU mode.</summary>
        public const string CpuTime = "process_cpu_time_seconds_total";

        /// <summary>Physical memory in use by the process, in bytes.</summary>
        public const string MemoryUsage = "process_memory_usage_bytes";

        /// <summary>Virtual memory committed by the process, in bytes.</summary>
        public const string MemoryVirtual = "process_memory_virtual_bytes";

        /// <summary>Threads of the process.</summary>
        public const string ThreadCount = "process_thread_count";

        /// <summary>Garbage collections, by generation.</summary>
        public const string GcCollections = "dotnet_gc_collections_total";

        /// <summary>Bytes allocated on the managed heap since the process started.</summary>
        public const string GcHeapTotalAllocated = "dotnet_gc_heap_total_allocated_bytes_total";

        /// <summary>Seconds the process spent paused for garbage collection.</summary>
        public const string GcPauseTime = "dotnet_gc_pause_time_seconds_total";

        /// <summary>Threads of the .NET thread pool.</summary>
        public const string ThreadPoolThreads = "dotnet_thread_pool_thread_count_total";

        /// <summary>Work items queued to the .NET thread pool and not yet started.</summary>
        public const string ThreadPoolQueueLength = "dotnet_thread_pool_queue_length_total";

        /// <summary>Working set of the process, in bytes, as the .NET runtime reports it.</summary>
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
        /// <summary>Counter of persona switches, labelled <see cref="Labels.FromPersona"/>, <see cref="Labels.ToPersona"/> and <see cref="Labels.ChatMode"/>.</summary>
        public const string PersonaSwitches = "persona_switches_total";

        /// <summary>Persona session entities alive on this node.</summary>
        public const string PersonaSessionsActive = "persona_sessions_active";
    }

    /// <summary>Metric label names (Prometheus form). Values from callers are bounded and fold into <see cref="Overflow"/>.</summary>
    public static class Labels
    {
        /// <summary>The primitive's name.</summary>
        public const string PrimitiveName = "primitive_name";

        /// <summary>The primitive's type.</summary>
        public const string PrimitiveType = "primitive_type";

        /// <summary>Outcome: <see cref="TelemetryNames.Status.Success"/> or <see cref="TelemetryNames.Status.Error"/>.</summary>
        public const string Status = "status";

        /// <summary>The run's persona (<see cref="NoPersona"/> when none).</summary>
        public const string Persona = "persona";

        /// <summary>The workspace's service name, e.g. <c>tta-dev-copilot</c>.</summary>
        public const string ServiceName = "service_name";

        /// <summary>The telemetry exporter (e.g. <c>otlp</c>, <c>langfuse</c>) on the pipeline's metrics.</summary>
        public const string Exporter = "exporter";

        /// <summary>Why something was dropped, refused or evicted.</summary>
        public const string Reason = "reason";

        /// <summary>How an operation ended, where success and error are not enough.</summary>
        public const string Outcome = "outcome";

        /// <summary>The actor's type (never its path, which is unbounded).</summary>
        public const string ActorType = "actor_type";

        /// <summary>Cluster member status (<c>up</c>, <c>joining</c>, ...) on <see cref="ActorMetrics.ClusterMembers"/>.</summary>
        public const string MemberStatus = "status";

        /// <summary>The shard region's type name on <see cref="ActorMetrics.ShardedEntities"/>.</summary>
        public const string ShardRegion = "region";

        /// <summary>The persona a session switched from.</summary>
        public const string FromPersona = "from_persona";

        /// <summary>The persona a session switched to.</summary>
        public const string ToPersona = "to_persona";

        /// <summary>The chat mode of the session or run.</summary>
        public const string ChatMode = "chatmode";

        /// <summary>The workflow's name.</summary>
        public const string Workflow = "workflow";

        /// <summary>The label whose values were folded, on <c>telemetry_label_values_folded_total</c>.</summary>
        public const string Label = "label";
    }

    /// <summary>The telemetry pipeline's own metrics (spans exported and dropped per exporter, queue, export latency).</summary>
    public static class PipelineMetrics
    {
        /// <summary>Spans an exporter delivered, by exporter.</summary>
        public const string SpansExported = "telemetry_spans_exported_total";

        /// <summary>Spans given up on, by exporter and reason (<c>queue_full</c>, <c>backlog_full</c>, <c>retries_exhausted</c>, <c>shutdown</c>).</summary>
        public const string SpansDropped = "telemetry_spans_dropped_total";

        /// <summary>Spans waiting in the telemetry actor's queue.</summary>
        public const string QueueDepth = "telemetry_queue_depth";

        /// <summary>Spans waiting for one exporter, by exporter.</summary>
        public const string ExporterBacklog = "telemetry_exporter_backlog_spans";

        /// <summary>Estimated bytes of the spans in the queue (the queue is bounded by bytes as well as by count).</summary>
        public const string QueueBytes = "telemetry_queue_bytes";

        /// <summary>Estimated bytes of the spans waiting for one exporter, by exporter.</summary>
        public const string ExporterBacklogBytes = "telemetry_exporter_backlog_bytes";

        /// <summary>Export attempts retried after a transient error, by exporter.</summary>
        public const string ExportRetries = "telemetry_export_retries_total";

        /// <summary>Histogram of one batch export's time, in seconds, by exporter.</summary>
        public const string ExportDuration = "telemetry_export_duration_seconds";

        /// <summary>Label values beyond a label's bound that were written as the overflow value instead.</summary>
        public const string LabelValuesFolded = "telemetry_label_values_folded_total";
    }

    /// <summary>Actor-system metrics, labelled by actor type (never by actor path, which is unbounded).</summary>
    public static class ActorMetrics
    {
        /// <summary>Messages taken from instrumented mailboxes, by actor type.</summary>
        public const string MessagesReceived = "akka_actor_messages_received_total";

        /// <summary>Messages waiting in instrumented mailboxes, by actor type.</summary>
        public const string MailboxDepth = "akka_actor_mailbox_depth";

        /// <summary>Actor restarts by their supervisor, by actor type.</summary>
        public const string Restarts = "akka_actor_restarts_total";

        /// <summary>Live actors with an instrumented mailbox, by actor type.</summary>
        public const string LiveActors = "akka_actors_live";

        /// <summary>Cluster members as this node sees them, by member status.</summary>
        public const string ClusterMembers = "akka_cluster_members";

        /// <summary>Sharded entities hosted on this node, by shard region.</summary>
        public const string ShardedEntities = "akka_sharding_entities";
    }

    /// <summary>
    /// Names of the rest of the primitive catalog (Fallback, Timeout, Conditional, Switch, Saga, CircuitBreaker, Cache,
    /// Mock): the span attributes that explain each decision, and the catalog's own instruments.
    /// </summary>
    public static class Catalog
    {
        /// <summary>Span attributes of the catalog primitives.</summary>
        public static class Attributes
        {
            /// <summary>True when a Fallback's primary failed and its fallback ran.</summary>
            public const string FallbackUsed = "fallback.used";

            /// <summary>True when a Timeout's inner run did not answer in time.</summary>
            public const string TimeoutExpired = "timeout.expired";

            /// <summary>The branch a Conditional took (one of <see cref="Branches"/>).</summary>
            public const string ConditionalBranch = "conditional.branch";

            /// <summary>The case a Switch ran: its key, <see cref="Branches.Default"/> or <see cref="Branches.PassThrough"/>.</summary>
            public const string SwitchCase = "switch.case";

            /// <summary>The key the Switch's selector returned.</summary>
            public const string SwitchKey = "switch.key";

            /// <summary>True when a Saga's forward step failed and its compensation ran.</summary>
            public const string SagaCompensated = "saga.compensated";

            /// <summary>The error of a Saga's compensation, recorded rather than raised.</summary>
            public const string SagaCompensationError = "saga.compensation_error";

            /// <summary>The circuit breaker's state when the run arrived (<c>closed</c>, <c>half_open</c>, <c>open</c>).</summary>
            public const string CircuitState = "circuit.state";

            /// <summary>On a transition event: the state the breaker left.</summary>
            public const string CircuitFromState = "circuit.from_state";

            /// <summary>On a transition event: the state the breaker entered.</summary>
            public const string CircuitToState = "circuit.to_state";

            /// <summary>True when a Cache answered from its store without running the inner primitive.</summary>
            public const string CacheHit = "cache.hit";

            /// <summary>The number of the call a Mock received, in order of arrival.</summary>
            public const string MockCall = "mock.call";
        }

        /// <summary>Span event names of the catalog primitives.</summary>
        public static class Events
        {
            /// <summary>Span event on the run that moved a circuit breaker from one state to another.</summary>
            public const string CircuitTransition = "circuit.transition";
        }

        /// <summary>Values of <see cref="Attributes.ConditionalBranch"/> and <see cref="Attributes.SwitchCase"/>.</summary>
        public static class Branches
        {
            /// <summary>The Conditional's condition held.</summary>
            public const string Then = "then";

            /// <summary>The Conditional's condition did not hold and its else branch ran.</summary>
            public const string Else = "else";

            /// <summary>No Switch case matched and the default ran.</summary>
            public const string Default = "default";

            /// <summary>Nothing matched and there was no else or default, so the input passed through unchanged.</summary>
            public const string PassThrough = "passthrough";
        }

        /// <summary>Instruments of the catalog primitives.</summary>
        public static class Metrics
        {
            /// <summary>Gauge: 0 closed, 1 half-open, 2 open (ordered by severity, so <c>max</c> shows the worst).</summary>
            public const string CircuitBreakerState = "circuit_breaker_state";

            /// <summary>Counter of circuit breaker transitions, labelled <see cref="Labels.FromState"/> and <see cref="Labels.ToState"/>.</summary>
            public const string CircuitBreakerTransitions = "circuit_breaker_transitions_total";

            /// <summary>Cache lookups answered from the store.</summary>
            public const string CacheHits = "cache_hits_total";

            /// <summary>Cache lookups that ran the inner primitive.</summary>
            public const string CacheMisses = "cache_misses_total";

            /// <summary>Answers of inner runs that came back after their Timeout had expired, and were discarded.</summary>
            public const string TimeoutLateResults = "timeout_late_results_total";
        }

        /// <summary>Labels of the catalog's instruments.</summary>
        public static class Labels
        {
            /// <summary>The state a circuit breaker left.</summary>
            public const string FromState = "from_state";

            /// <summary>The state a circuit breaker entered.</summary>
            public const string ToState = "to_state";
        }
    }

    /// <summary>OpenTelemetry GenAI semantic conventions: the <c>chat {model}</c> span and its attributes.</summary>
    public static class GenAi
    {
        /// <summary>Value of <see cref="OperationName"/> for a chat call, and the first word of its span name.</summary>
        public const string ChatOperation = "chat";

        /// <summary>The GenAI operation (<c>chat</c>, <c>invoke_agent</c>, <c>execute_tool</c>, <c>invoke_workflow</c>).</summary>
        public const string OperationName = "gen_ai.operation.name";

        /// <summary>The model provider (e.g. <c>openai</c>, <c>anthropic</c>).</summary>
        public const string ProviderName = "gen_ai.provider.name";

        /// <summary>The model the request asked for.</summary>
        public const string RequestModel = "gen_ai.request.model";

        /// <summary>The sampling temperature of the request, when set.</summary>
        public const string RequestTemperature = "gen_ai.request.temperature";

        /// <summary>The output token limit of the request, when set.</summary>
        public const string RequestMaxTokens = "gen_ai.request.max_tokens";

        /// <summary>The model that answered, as the provider reports it.</summary>
        public const string ResponseModel = "gen_ai.response.model";

        /// <summary>The provider's id of the response.</summary>
        public const string ResponseId = "gen_ai.response.id";

        /// <summary>Why the model stopped, one entry per choice (e.g. <c>stop</c>, <c>length</c>, <c>tool_calls</c>).</summary>
        public const string ResponseFinishReasons = "gen_ai.response.finish_reasons";

        /// <summary>Input (prompt) tokens of the call.</summary>
        public const string UsageInputTokens = "gen_ai.usage.input_tokens";

        /// <summary>Output (completion) tokens of the call.</summary>
        public const string UsageOutputTokens = "gen_ai.usage.output_tokens";

        /// <summary>Input tokens the provider served from its prompt cache.</summary>
        public const string UsageCachedInputTokens = "gen_ai.usage.cache_read.input_tokens";

        /// <summary>Cost of the call in USD; absent when the model has no price in the catalog.</summary>
        public const string UsageCost = "gen_ai.usage.cost";

        /// <summary>The part of <see cref="UsageCost"/> the input tokens cost (cached ones at their rate), in USD; set with it.</summary>
        public const string UsageInputCost = "gen_ai.usage.input_cost";

        /// <summary>The part of <see cref="UsageCost"/> the output tokens cost, in USD; set with it.</summary>
        public const string UsageOutputCost = "gen_ai.usage.output_cost";

        /// <summary>Attribute of <see cref="ClientTokenUsage"/>: <c>input</c> or <c>output</c>.</summary>
        public const string TokenType = "gen_ai.token.type";

        /// <summary>The error's type (exception type name or provider error code) when the call failed.</summary>
        public const string ErrorType = "error.type";

        /// <summary>Seconds from sending a streamed request to its first content chunk.</summary>
        public const string TimeToFirstToken = "gen_ai.response.time_to_first_chunk";

        /// <summary>Histogram of tokens per call, by <see cref="TokenType"/>, with the convention's buckets.</summary>
        public const string ClientTokenUsage = "gen_ai.client.token.usage";

        /// <summary>Histogram of GenAI operation time in seconds, with the convention's buckets.</summary>
        public const string ClientOperationDuration = "gen_ai.client.operation.duration";
    }

    /// <summary>
    /// What an LLM call or agent step was given and answered, beside the GenAI conventions' own names: the content as
    /// one text each (under the capture policy), the prompt it came from and when a streamed answer began. Backends
    /// that show a call's input and output read these; the Langfuse exporter sends them under Langfuse's names.
    /// </summary>
    public static class LlmObservations
    {
        /// <summary>
        /// The conversation a chat call or agent step was given, as a JSON array of <c>role</c> and <c>content</c> (OpenAI's
        /// shape, with <c>tool_calls</c> and <c>tool_call_id</c> for tool turns), or the prompt text a generation was reported
        /// with; each text truncated and redacted, absent when capture is off.
        /// </summary>
        public const string Input = "llm.input";

        /// <summary>The completion of a chat call or the final answer of an agent step, recorded like <see cref="Input"/>.</summary>
        public const string Output = "llm.output";

        /// <summary>The name of the managed prompt (in Langfuse) the call's messages came from.</summary>
        public const string PromptName = "llm.prompt.name";

        /// <summary>The version of the prompt named by <see cref="PromptName"/>; absent when the prompt is the step's fallback.</summary>
        public const string PromptVersion = "llm.prompt.version";

        /// <summary>True when the prompt could not be fetched and the step's fallback text was used under <see cref="PromptName"/>.</summary>
        public const string PromptFallback = "llm.prompt.fallback";

        /// <summary>The span event on <c>chat {model}</c> at the moment the first content chunk of a streamed call arrived.</summary>
        public const string FirstTokenEvent = "llm.first_token";
    }

    /// <summary>The spans of a durable run's steps, waits and signals.</summary>
    public static class Durable
    {
        /// <summary>The step's path in the durable workflow, on each of its spans.</summary>
        public const string StepPath = "durable.step.path";

        /// <summary>The signals a waiting step accepts (comma-separated), on its wait span.</summary>
        public const string Signals = "durable.signals";

        /// <summary>The question a waiting step asks (an approval's prompt), on its wait span.</summary>
        public const string WaitPrompt = "durable.wait.prompt";

        /// <summary>The signal a step received, on its signal span.</summary>
        public const string Signal = "durable.signal";

        /// <summary>The id of the signal a step received.</summary>
        public const string SignalId = "durable.signal_id";

        /// <summary>The received signal's JSON payload, cut to <see cref="SignalPayloadMaxChars"/> characters.</summary>
        public const string SignalPayload = "durable.signal.payload";

        /// <summary>Longest signal payload recorded on a span, in characters.</summary>
        public const int SignalPayloadMaxChars = 4096;
    }

    /// <summary>
    /// Attributes Langfuse reads from OpenTelemetry spans. The Langfuse exporter adds them from the contract's names
    /// (<c>LangfuseAttributeMapping</c>); only the Langfuse-style API of <c>LangfuseTracing</c> sets them on spans itself.
    /// </summary>
    public static class Langfuse
    {
        /// <summary>The trace's name in Langfuse (otherwise Langfuse takes the root span's name).</summary>
        public const string TraceName = "langfuse.trace.name";

        /// <summary>The trace's user: the persona.</summary>
        public const string UserId = "langfuse.user.id";

        /// <summary>The trace's session: the run context's session id.</summary>
        public const string SessionId = "langfuse.session.id";

        /// <summary>The trace's tags (the run context's tags).</summary>
        public const string TraceTags = "langfuse.trace.tags";

        /// <summary>Trace metadata: the chat mode.</summary>
        public const string TraceMetadataChatMode = "langfuse.trace.metadata.chatmode";

        /// <summary>Trace metadata: the workspace.</summary>
        public const string TraceMetadataWorkspace = "langfuse.trace.metadata.workspace";

        /// <summary>Prefix of any trace metadata key; the rest of the attribute name is the key.</summary>
        public const string TraceMetadataPrefix = "langfuse.trace.metadata.";

        /// <summary>The observation's type (<see cref="GenerationType"/> for LLM calls).</summary>
        public const string ObservationType = "langfuse.observation.type";

        /// <summary>The observation's input, under the capture policy.</summary>
        public const string ObservationInput = "langfuse.observation.input";

        /// <summary>The observation's output, under the capture policy.</summary>
        public const string ObservationOutput = "langfuse.observation.output";

        /// <summary>The generation's cost as JSON (<c>{"input":..,"output":..,"total":..}</c>, USD).</summary>
        public const string ObservationCostDetails = "langfuse.observation.cost_details";

        /// <summary>The generation's token usage as JSON.</summary>
        public const string ObservationUsageDetails = "langfuse.observation.usage_details";

        /// <summary>When the first content of a streamed generation arrived (ISO 8601).</summary>
        public const string ObservationCompletionStartTime = "langfuse.observation.completion_start_time";

        /// <summary>Prefix of any observation metadata key; the rest of the attribute name is the key.</summary>
        public const string ObservationMetadataPrefix = "langfuse.observation.metadata.";

        /// <summary>Value of <see cref="ObservationType"/> for an LLM call.</summary>
        public const string GenerationType = "generation";

        /// <summary>Value of <see cref="ObservationType"/> for an agent step (<c>invoke_agent</c>).</summary>
        public const string AgentType = "agent";

        /// <summary>Value of <see cref="ObservationType"/> for a tool call (<c>execute_tool</c>).</summary>
        public const string ToolType = "tool";

        /// <summary>Value of <see cref="ObservationType"/> for a durable run's wait and signal spans.</summary>
        public const string EventType = "event";

        /// <summary>The observation metadata key marking a generation whose managed prompt was the step's fallback.</summary>
        public const string ObservationMetadataPromptFallback = "langfuse.observation.metadata.prompt_fallback";

        /// <summary>The Langfuse prompt (name and version) a generation used, so Langfuse links it to that prompt version.</summary>
        public const string ObservationPromptName = "langfuse.observation.prompt.name";

        /// <summary>The version of the Langfuse prompt named by <see cref="ObservationPromptName"/>.</summary>
        public const string ObservationPromptVersion = "langfuse.observation.prompt.version";

        /// <summary>The run's input and output on its root span, under the capture policy.</summary>
        public const string TraceInput = "langfuse.trace.input";

        /// <summary>The run's output on its root span, under the capture policy.</summary>
        public const string TraceOutput = "langfuse.trace.output";

        /// <summary>The OpenTelemetry names of user and session, beside <see cref="UserId"/> and <see cref="SessionId"/> on the root span.</summary>
        public const string OtelUserId = "user.id";

        /// <summary>The OpenTelemetry name of the session, beside <see cref="SessionId"/> on the root span.</summary>
        public const string OtelSessionId = "session.id";
    }

    /// <summary>The LLM call instruments in Prometheus form.</summary>
    public static class LlmMetrics
    {
        /// <summary>Counter of tokens, by model, provider, <see cref="LlmLabels.TokenType"/>, persona and service.</summary>
        public const string Tokens = "llm_tokens_total";

        /// <summary>Counter of cost in USD, by model, provider, persona and service.</summary>
        public const string CostUsd = "llm_cost_usd_total";

        /// <summary>Histogram of one LLM call's time, in seconds.</summary>
        public const string RequestDuration = "llm_request_duration_seconds";

        /// <summary>Calls whose model has no price in the cost catalog, so no cost was reported for them.</summary>
        public const string CostUnknown = "llm_cost_unknown_total";

        /// <summary>Histogram of seconds from sending a streamed request to its first content chunk.</summary>
        public const string TimeToFirstToken = "llm_time_to_first_token_seconds";
    }

    /// <summary>Labels and label values of <see cref="LlmMetrics"/>.</summary>
    public static class LlmLabels
    {
        /// <summary>The model (bounded).</summary>
        public const string Model = "model";

        /// <summary>The provider.</summary>
        public const string Provider = "provider";

        /// <summary>Which tokens: <see cref="Input"/> or <see cref="Output"/>.</summary>
        public const string TokenType = "token_type";

        /// <summary>Value of <see cref="TokenType"/> for prompt tokens.</summary>
        public const string Input = "input";

        /// <summary>Value of <see cref="TokenType"/> for completion tokens.</summary>
        public const string Output = "output";
    }

    // ---- issue 15 (agents and tools, budgets): names added by branch i15-agents ----

    /// <summary>GenAI conventions for agents and tools: the <c>invoke_agent {name}</c> and <c>execute_tool {tool}</c> spans.</summary>
    public static class GenAiAgents
    {
        /// <summary>Value of <see cref="GenAi.OperationName"/> for an agent step (an LLM step with tools), and its span name's first word.</summary>
        public const string InvokeAgentOperation = "invoke_agent";

        /// <summary>Value of <see cref="GenAi.OperationName"/> for a tool call, and its span name's first word.</summary>
        public const string ExecuteToolOperation = "execute_tool";

        /// <summary>The agent's name.</summary>
        public const string AgentName = "gen_ai.agent.name";

        /// <summary>The tool's name.</summary>
        public const string ToolName = "gen_ai.tool.name";

        /// <summary>The model's id of the tool call, which its result answers.</summary>
        public const string ToolCallId = "gen_ai.tool.call.id";

        /// <summary>The kind of tool: <see cref="FunctionToolType"/> or <see cref="ExtensionToolType"/>.</summary>
        public const string ToolType = "gen_ai.tool.type";

        /// <summary>The tool's description as the model sees it.</summary>
        public const string ToolDescription = "gen_ai.tool.description";

        /// <summary>The tool's arguments and result as JSON, under the capture policy (opt-in content attributes of the conventions).</summary>
        public const string ToolCallArguments = "gen_ai.tool.call.arguments";

        /// <summary>The tool's result as JSON, under the capture policy.</summary>
        public const string ToolCallResult = "gen_ai.tool.call.result";

        /// <summary>Values of <see cref="ToolType"/>: code the agent runs itself (C# functions, workflows) or a call to another service (http tools).</summary>
        public const string FunctionToolType = "function";

        /// <summary>Value of <see cref="ToolType"/> for a tool that calls another service (http tools).</summary>
        public const string ExtensionToolType = "extension";

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

        /// <summary>The label naming which budget refused the call.</summary>
        public const string BudgetLabel = "budget";

        /// <summary>Value of <see cref="BudgetLabel"/>: the run's cost budget (USD).</summary>
        public const string RunCost = "run_cost";

        /// <summary>Value of <see cref="BudgetLabel"/>: the run's token budget.</summary>
        public const string RunTokens = "run_tokens";
    }
    // ---- end of issue 15 names ----

    /// <summary>Label value used when a run carries no persona, so the label is never missing.</summary>
    public const string NoPersona = "none";

    /// <summary>The value a caller-supplied label takes once its bound of distinct values is reached.</summary>
    public const string Overflow = "_other";
}
