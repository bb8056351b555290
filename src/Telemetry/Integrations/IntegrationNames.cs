namespace TtaActors.Telemetry;

public static partial class TelemetryNames
{
    /// <summary>
    /// OpenTelemetry database conventions, as the Supabase data API (PostgREST) client uses them: the span is
    /// <c>{db.operation.name} {db.collection.name}</c> (or <c>rpc {db.stored_procedure.name}</c>), kind Client.
    /// </summary>
    public static class Database
    {
        public const string SystemName = "db.system.name";
        public const string CollectionName = "db.collection.name";
        public const string OperationName = "db.operation.name";
        public const string StoredProcedureName = "db.stored_procedure.name";
        public const string Namespace = "db.namespace";
        public const string ResponseStatusCode = "db.response.status_code";
        public const string ReturnedRows = "db.response.returned_rows";
        public const string ServerAddress = "server.address";
        public const string ServerPort = "server.port";
        public const string HttpResponseStatusCode = "http.response.status_code";
        public const string ErrorType = "error.type";

        /// <summary>PostgREST serves a PostgreSQL database: the well-known value of the conventions applies.</summary>
        public const string PostgreSql = "postgresql";
    }

    /// <summary>OpenTelemetry GenAI conventions for tool calls (<c>execute_tool {gen_ai.tool.name}</c>), as the E2B sandbox steps use them.</summary>
    public static class Tools
    {
        public const string ExecuteToolOperation = "execute_tool";
        public const string ToolName = "gen_ai.tool.name";
        public const string ToolType = "gen_ai.tool.type";
        public const string ToolDescription = "gen_ai.tool.description";
        public const string ToolCallId = "gen_ai.tool.call.id";
        public const string ToolCallArguments = "gen_ai.tool.call.arguments";
        public const string ToolCallResult = "gen_ai.tool.call.result";

        /// <summary>A tool that calls an external service on the caller's side (the GenAI conventions' <c>extension</c>).</summary>
        public const string ExtensionType = "extension";

        /// <summary>Langfuse's observation type for tool calls.</summary>
        public const string LangfuseToolType = "tool";
    }

    /// <summary>E2B sandbox attributes and span names.</summary>
    public static class E2B
    {
        public const string RunCodeTool = "e2b.run_code";
        public const string RunCommandTool = "e2b.run_command";
        public const string SandboxCreateSpan = "e2b.sandbox.create";
        public const string SandboxKillSpan = "e2b.sandbox.kill";
        public const string SandboxId = "e2b.sandbox.id";
        public const string TemplateId = "e2b.template.id";
        public const string Language = "e2b.language";
        public const string ExitCode = "e2b.exit_code";
        public const string ErrorName = "e2b.error.name";
        public const string Killed = "e2b.sandbox.killed";
    }
}
