namespace TtaActors.Telemetry;

/// <summary>
/// Every name users query: span names, span attributes, metric names and metric labels.
/// This is the contract of DESIGN.md section 4; dashboards depend on it, so names never change silently.
/// </summary>
public static class TelemetryNames
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
        public const string FromPersona = "from_persona";
        public const string ToPersona = "to_persona";
        public const string ChatMode = "chatmode";
    }

    /// <summary>Label value used when a run carries no persona, so the label is never missing.</summary>
    public const string NoPersona = "none";
}
