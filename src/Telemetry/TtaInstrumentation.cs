using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Reflection;
using TtaActors.Telemetry.ActorMetrics;
using TtaActors.Telemetry.Export;

namespace TtaActors.Telemetry;

/// <summary>The one <see cref="ActivitySource"/>, the one <see cref="Meter"/> and every instrument.</summary>
public static class TtaInstrumentation
{
    private static readonly string Version =
        typeof(TtaInstrumentation).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? "0.0.0";

    /// <summary>The <c>TtaActors</c> source every span of the library starts from; its version is the assembly's informational version.</summary>
    public static readonly ActivitySource ActivitySource = new(TelemetryNames.SourceName, Version);

    /// <summary>The <c>TtaActors</c> meter that owns every instrument below.</summary>
    public static readonly Meter Meter = new(TelemetryNames.SourceName, Version);

    /// <summary>
    /// Bucket boundaries for primitive durations: trivial steps take microseconds, LLM calls take seconds,
    /// so the range spans both (the SDK's default buckets are meant for milliseconds).
    /// </summary>
    public static readonly IReadOnlyList<double> DurationBuckets =
    [
        0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120,
    ];

    /// <summary><c>primitive_execution_duration_seconds</c>: time of one primitive execution, in seconds, with <see cref="DurationBuckets"/>.</summary>
    public static readonly Histogram<double> PrimitiveExecutionDuration = Meter.CreateHistogram(
        TelemetryNames.Metrics.PrimitiveExecutionDuration,
        unit: "s",
        description: "Duration of one primitive execution.",
        tags: null,
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets });

    private static Func<IEnumerable<Measurement<long>>> _primitiveExecutions = () => [];

    /// <summary>
    /// Supplies <see cref="PrimitiveExecutions"/>; the execution layer calls it once, when it first counts an execution
    /// (Telemetry knows none of its types).
    /// </summary>
    public static void ObservePrimitiveExecutions(Func<IEnumerable<Measurement<long>>> executions) => _primitiveExecutions = executions;

    /// <summary>
    /// <c>primitive_executions_total</c>: primitive executions, by name, type, status, persona and service. Counted where
    /// an execution ends (one cell per label set) and read when the SDK collects (see <see cref="ObservePrimitiveExecutions"/>),
    /// so that an execution does not pay a second lookup of its five labels after the duration histogram's.
    /// </summary>
    public static readonly ObservableCounter<long> PrimitiveExecutions = Meter.CreateObservableCounter(
        TelemetryNames.Metrics.PrimitiveExecutions,
        () => _primitiveExecutions(),
        unit: null,
        description: "Number of primitive executions, by outcome.");

    /// <summary><c>telemetry_export_duration_seconds</c>: time of one export call, by exporter and outcome.</summary>
    public static readonly Histogram<double> TelemetryExportDuration = Meter.CreateHistogram(
        TelemetryNames.PipelineMetrics.ExportDuration,
        unit: "s",
        description: "Duration of one export call, by exporter and outcome.",
        tags: null,
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets });

    /// <summary><c>telemetry_label_values_folded_total</c>: label values written as <see cref="TelemetryNames.Overflow"/> because their label's bound was reached.</summary>
    public static readonly Counter<long> LabelValuesFolded = Meter.CreateCounter<long>(
        TelemetryNames.PipelineMetrics.LabelValuesFolded,
        unit: null,
        description: "Measurements whose caller-supplied label value was beyond the label's bound and was written as _other, by label.");

    /// <summary><c>run_store_evicted_total</c>: runs evicted from the node's run store, by reason.</summary>
    public static readonly Counter<long> RunsEvicted = Meter.CreateCounter<long>(
        TelemetryNames.RunStoreMetrics.Evicted,
        unit: null,
        description: "Runs evicted from the node's run store to stay within its byte or count bound, by reason.");

    /// <summary><c>tta_build_info</c>: 1 per workspace, labelled with the TtaActors, Akka.NET and .NET versions.</summary>
    public static readonly ObservableGauge<int> BuildInfo = Meter.CreateObservableGauge(
        TelemetryNames.BuildInfo.Name,
        TtaActors.Telemetry.BuildInfo.Measurements,
        unit: null,
        description: "1 per workspace; the labels give the TtaActors, Akka.NET and .NET versions and the service name.");

    // The pipeline and actor counters live in plain fields written with atomic adds; these callbacks read them at
    // collection time, so the span and message paths never pay for tag lists.
    /// <summary><c>telemetry_spans_exported_total</c>: spans exported, by exporter.</summary>
    public static readonly ObservableCounter<long> TelemetrySpansExported = Meter.CreateObservableCounter(
        TelemetryNames.PipelineMetrics.SpansExported,
        () => PipelineMeasurements(s => s.Exported),
        unit: null,
        description: "Spans exported, by exporter.");

    /// <summary><c>telemetry_spans_dropped_total</c>: spans dropped, by exporter and reason.</summary>
    public static readonly ObservableCounter<long> TelemetrySpansDropped = Meter.CreateObservableCounter(
        TelemetryNames.PipelineMetrics.SpansDropped,
        () => TelemetryPipeline.Live.Keys.SelectMany(pipeline => pipeline.ExporterStatistics.SelectMany(statistics =>
            DropReasons.All.Select(reason => new Measurement<long>(statistics.Dropped(reason),
                PipelineTags(pipeline, statistics, new KeyValuePair<string, object?>(TelemetryNames.Labels.Reason, reason)))))),
        unit: null,
        description: "Spans dropped, by exporter and reason (queue_full, backlog_full, retries_exhausted, shutdown).");

    /// <summary><c>telemetry_export_retries_total</c>: failed export calls scheduled for retry, by exporter.</summary>
    public static readonly ObservableCounter<long> TelemetryExportRetries = Meter.CreateObservableCounter(
        TelemetryNames.PipelineMetrics.ExportRetries,
        () => PipelineMeasurements(s => s.Retries),
        unit: null,
        description: "Failed export calls that were scheduled for retry, by exporter.");

    /// <summary><c>telemetry_queue_depth</c>: spans waiting in the telemetry actor's intake queue.</summary>
    public static readonly ObservableGauge<long> TelemetryQueueDepth = Meter.CreateObservableGauge(
        TelemetryNames.PipelineMetrics.QueueDepth,
        () => TelemetryPipeline.Live.Keys.Select(pipeline => new Measurement<long>(pipeline.QueueDepth, ServiceTag(pipeline.ServiceName))),
        unit: null,
        description: "Spans waiting in the telemetry actor's intake queue.");

    /// <summary><c>telemetry_exporter_backlog_spans</c>: spans handed to an exporter and not yet exported.</summary>
    public static readonly ObservableGauge<long> TelemetryExporterBacklog = Meter.CreateObservableGauge(
        TelemetryNames.PipelineMetrics.ExporterBacklog,
        () => PipelineMeasurements(s => s.Backlog),
        unit: null,
        description: "Spans handed to an exporter and not yet exported, by exporter.");

    /// <summary><c>telemetry_queue_bytes</c>: estimated bytes of the spans in the intake queue.</summary>
    public static readonly ObservableGauge<long> TelemetryQueueBytes = Meter.CreateObservableGauge(
        TelemetryNames.PipelineMetrics.QueueBytes,
        () => TelemetryPipeline.Live.Keys.Select(pipeline => new Measurement<long>(pipeline.QueueBytes, ServiceTag(pipeline.ServiceName))),
        unit: "By",
        description: "Estimated size of the spans waiting in the telemetry actor's intake queue (the max-queue-bytes bound).");

    /// <summary><c>telemetry_exporter_backlog_bytes</c>: estimated bytes of an exporter's backlog.</summary>
    public static readonly ObservableGauge<long> TelemetryExporterBacklogBytes = Meter.CreateObservableGauge(
        TelemetryNames.PipelineMetrics.ExporterBacklogBytes,
        () => PipelineMeasurements(s => s.BacklogBytes),
        unit: "By",
        description: "Estimated size of the spans handed to an exporter and not yet exported, by exporter.");

    /// <summary><c>akka_actor_messages_received_total</c>: messages taken from counting mailboxes, by actor type.</summary>
    public static readonly ObservableCounter<long> ActorMessagesReceived = Meter.CreateObservableCounter(
        TelemetryNames.ActorMetrics.MessagesReceived,
        () => ActorMeasurements(c => c.Received),
        unit: null,
        description: "Messages taken from a mailbox by an actor, by actor type.");

    /// <summary><c>akka_actor_mailbox_depth</c>: messages waiting in counting mailboxes, by actor type.</summary>
    public static readonly ObservableGauge<long> ActorMailboxDepth = Meter.CreateObservableGauge(
        TelemetryNames.ActorMetrics.MailboxDepth,
        () => ActorMeasurements(c => c.MailboxDepth),
        unit: null,
        description: "Messages waiting in mailboxes, summed by actor type.");

    /// <summary><c>akka_actor_restarts_total</c>: actor restarts, by actor type.</summary>
    public static readonly ObservableCounter<long> ActorRestarts = Meter.CreateObservableCounter(
        TelemetryNames.ActorMetrics.Restarts,
        () => ActorMeasurements(c => c.Restarts),
        unit: null,
        description: "Actor restarts by their supervisor, by actor type.");

    /// <summary><c>akka_actors_live</c>: live actors, by actor type.</summary>
    public static readonly ObservableGauge<long> LiveActors = Meter.CreateObservableGauge(
        TelemetryNames.ActorMetrics.LiveActors,
        () => ActorMeasurements(c => c.Live),
        unit: null,
        description: "Actors alive, by actor type.");

    /// <summary><c>akka_cluster_members</c>: cluster members by status, as this node sees them (only when clustered).</summary>
    public static readonly ObservableGauge<long> ClusterMembers = Meter.CreateObservableGauge(
        TelemetryNames.ActorMetrics.ClusterMembers,
        () => ActorSystemMetrics.ClusterMembers().Select(m =>
            new Measurement<long>(m.Members, new KeyValuePair<string, object?>(TelemetryNames.Labels.MemberStatus, m.Status))),
        unit: null,
        description: "Cluster members by status, as this node sees them (only when clustered).");

    /// <summary><c>akka_sharding_entities</c>: sharded entities on this node, by region (only when sharding is on).</summary>
    public static readonly ObservableGauge<long> ShardedEntities = Meter.CreateObservableGauge(
        TelemetryNames.ActorMetrics.ShardedEntities,
        () => ActorSystemMetrics.ShardedEntities().Select(r =>
            new Measurement<long>(r.Entities, new KeyValuePair<string, object?>(TelemetryNames.Labels.ShardRegion, r.Region))),
        unit: null,
        description: "Sharded entities hosted by this node, per shard region (only when sharding is on).");

    private static Func<IEnumerable<(string Workflow, long Runs)>> _runsActive = () => [];
    private static Func<long> _dispatchesPending = () => 0;

    /// <summary>
    /// Supplies the run-lifecycle gauges; the execution layer calls it once (Telemetry knows none of its types).
    /// </summary>
    public static void ObserveRunLifecycle(Func<IEnumerable<(string Workflow, long Runs)>> runsActive, Func<long> dispatchesPending)
    {
        _runsActive = runsActive;
        _dispatchesPending = dispatchesPending;
    }

    /// <summary><c>workflow_runs_active</c>: runs started and not yet answered, by workflow (see <see cref="ObserveRunLifecycle"/>).</summary>
    public static readonly ObservableGauge<long> WorkflowRunsActive = Meter.CreateObservableGauge(
        TelemetryNames.Lifecycle.WorkflowRunsActive,
        () => _runsActive().Select(w => new Measurement<long>(w.Runs, new KeyValuePair<string, object?>(TelemetryNames.Labels.Workflow, w.Workflow))),
        unit: null,
        description: "Runs started and not yet answered, by workflow.");

    /// <summary><c>primitive_dispatches_pending</c>: runs held by composite primitives (see <see cref="ObserveRunLifecycle"/>).</summary>
    public static readonly ObservableGauge<long> PrimitiveDispatchesPending = Meter.CreateObservableGauge(
        TelemetryNames.Lifecycle.PrimitiveDispatchesPending,
        () => _dispatchesPending(),
        unit: null,
        description: "Runs held by composite primitives, each waiting for a child, a backoff or a lookup.");

    private static IEnumerable<Measurement<long>> ActorMeasurements(Func<ActorTypeCounters, long> read) =>
        ActorTypeRegistry.All.Select(c => new Measurement<long>(read(c),
            new KeyValuePair<string, object?>(TelemetryNames.Labels.ActorType, c.ActorType),
            new KeyValuePair<string, object?>(TelemetryNames.Labels.ServiceName, c.ServiceName)));

    private static IEnumerable<Measurement<long>> PipelineMeasurements(Func<ExporterStatistics, long> read) =>
        TelemetryPipeline.Live.Keys.SelectMany(pipeline => pipeline.ExporterStatistics.Select(statistics =>
            new Measurement<long>(read(statistics), PipelineTags(pipeline, statistics))));

    private static KeyValuePair<string, object?>[] PipelineTags(TelemetryPipeline pipeline, ExporterStatistics statistics,
        KeyValuePair<string, object?>? extra = null)
    {
        var tags = new List<KeyValuePair<string, object?>> { new(TelemetryNames.Labels.Exporter, statistics.Name) };
        if (extra is { } tag) tags.Add(tag);
        if (pipeline.ServiceName is { } service) tags.Add(new(TelemetryNames.Labels.ServiceName, service));
        return tags.ToArray();
    }

    private static KeyValuePair<string, object?>[] ServiceTag(string? serviceName) =>
        serviceName is null ? [] : [new(TelemetryNames.Labels.ServiceName, serviceName)];

    /// <summary>Bucket boundaries the GenAI conventions give for <c>gen_ai.client.token.usage</c>.</summary>
    public static readonly IReadOnlyList<long> GenAiTokenUsageBuckets =
    [
        1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864,
    ];

    /// <summary>Bucket boundaries the GenAI conventions give for <c>gen_ai.client.operation.duration</c>, in seconds.</summary>
    public static readonly IReadOnlyList<double> GenAiDurationBuckets =
    [
        0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
    ];

    /// <summary><c>llm_tokens_total</c>: tokens of LLM calls, by model, provider and token type.</summary>
    public static readonly Counter<long> LlmTokens = Meter.CreateCounter<long>(
        TelemetryNames.LlmMetrics.Tokens,
        unit: null,
        description: "Tokens used by LLM calls, by model, provider and token type.");

    /// <summary><c>llm_cost_usd_total</c>: cost of LLM calls in USD, from the cost catalog.</summary>
    public static readonly Counter<double> LlmCostUsd = Meter.CreateCounter<double>(
        TelemetryNames.LlmMetrics.CostUsd,
        unit: null,
        description: "Cost of LLM calls in USD, from the cost catalog.");

    /// <summary><c>llm_cost_unknown_total</c>: LLM calls whose model has no price in the cost catalog.</summary>
    public static readonly Counter<long> LlmCostUnknown = Meter.CreateCounter<long>(
        TelemetryNames.LlmMetrics.CostUnknown,
        unit: null,
        description: "LLM calls whose model has no price in the cost catalog, so no cost was reported.");

    /// <summary><c>llm_request_duration_seconds</c>: time of one LLM call, in seconds.</summary>
    public static readonly Histogram<double> LlmRequestDuration = Meter.CreateHistogram(
        TelemetryNames.LlmMetrics.RequestDuration,
        unit: "s",
        description: "Duration of one LLM call.",
        tags: null,
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = GenAiDurationBuckets });

    /// <summary><c>llm_time_to_first_token_seconds</c>: seconds from sending a streamed request to its first content chunk.</summary>
    public static readonly Histogram<double> LlmTimeToFirstToken = Meter.CreateHistogram(
        TelemetryNames.LlmMetrics.TimeToFirstToken,
        unit: "s",
        description: "Time from sending a streamed LLM request to its first content chunk.",
        tags: null,
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = GenAiDurationBuckets });

    /// <summary><c>gen_ai.client.token.usage</c>: tokens per call, by token type, with the conventions' buckets.</summary>
    public static readonly Histogram<long> GenAiClientTokenUsage = Meter.CreateHistogram(
        TelemetryNames.GenAi.ClientTokenUsage,
        unit: "{token}",
        description: "Number of input and output tokens used.",
        tags: null,
        advice: new InstrumentAdvice<long> { HistogramBucketBoundaries = GenAiTokenUsageBuckets });

    /// <summary><c>gen_ai.client.operation.duration</c>: GenAI operation time in seconds, with the conventions' buckets.</summary>
    public static readonly Histogram<double> GenAiClientOperationDuration = Meter.CreateHistogram(
        TelemetryNames.GenAi.ClientOperationDuration,
        unit: "s",
        description: "GenAI operation duration.",
        tags: null,
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = GenAiDurationBuckets });

    /// <summary><c>circuit_breaker_state</c>: 0 closed, 1 half-open, 2 open, per breaker.</summary>
    public static readonly Gauge<int> CircuitBreakerState = Meter.CreateGauge<int>(
        TelemetryNames.Catalog.Metrics.CircuitBreakerState,
        unit: null,
        description: "State of a circuit breaker: 0 closed, 1 half-open, 2 open.");

    /// <summary><c>circuit_breaker_transitions_total</c>: breaker transitions, by from_state and to_state.</summary>
    public static readonly Counter<long> CircuitBreakerTransitions = Meter.CreateCounter<long>(
        TelemetryNames.Catalog.Metrics.CircuitBreakerTransitions,
        unit: null,
        description: "Circuit breaker state transitions, by from_state and to_state.");

    /// <summary><c>cache_hits_total</c>: Cache lookups answered from the store.</summary>
    public static readonly Counter<long> CacheHits = Meter.CreateCounter<long>(
        TelemetryNames.Catalog.Metrics.CacheHits,
        unit: null,
        description: "Cache primitive lookups answered from the cache.");

    /// <summary><c>cache_misses_total</c>: Cache lookups that ran the inner primitive.</summary>
    public static readonly Counter<long> CacheMisses = Meter.CreateCounter<long>(
        TelemetryNames.Catalog.Metrics.CacheMisses,
        unit: null,
        description: "Cache primitive lookups that ran the inner primitive.");

    /// <summary><c>timeout_late_results_total</c>: inner answers that came after their Timeout expired and were discarded.</summary>
    public static readonly Counter<long> TimeoutLateResults = Meter.CreateCounter<long>(
        TelemetryNames.Catalog.Metrics.TimeoutLateResults,
        unit: null,
        description: "Answers of inner runs that arrived after their Timeout expired and were discarded.");
    /// <summary><c>persona_switches_total</c>: persona switches, by previous and new persona and chat mode.</summary>
    public static readonly Counter<long> PersonaSwitches = Meter.CreateCounter<long>(
        TelemetryNames.Sessions.PersonaSwitches,
        unit: null,
        description: "Persona switches in persona sessions, by previous and new persona and chat mode.");

    /// <summary><c>persona_sessions_active</c>: persona session entities in memory on this node.</summary>
    public static readonly UpDownCounter<long> PersonaSessionsActive = Meter.CreateUpDownCounter<long>(
        TelemetryNames.Sessions.PersonaSessionsActive,
        unit: null,
        description: "Persona session entities live in memory on this node.");

    // ---- issue 15 (agents and tools, budgets) ----
    /// <summary><c>llm_budget_refusals_total</c>: LLM calls refused because they would pass a run's cost or token budget.</summary>
    public static readonly Counter<long> LlmBudgetRefusals = Meter.CreateCounter<long>(
        TelemetryNames.LlmBudgets.Refused,
        unit: null,
        description: "LLM calls refused before they were sent because they would pass a run's cost or token budget.");
}
