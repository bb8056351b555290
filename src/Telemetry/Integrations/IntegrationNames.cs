namespace TtaActors.Telemetry;

public static partial class TelemetryNames
{
    /// <summary>
    /// OpenTelemetry database conventions, as the Supabase data API (PostgREST) client uses them: the span is
    /// <c>{db.operation.name} {db.collection.name}</c> (or <c>rpc {db.stored_procedure.name}</c>), kind Client.
    /// </summary>
    public static class Database
    {
        /// <summary>The database system (<see cref="PostgreSql"/>).</summary>
        public const string SystemName = "db.system.name";
        /// <summary>The table or view the request reads or writes.</summary>
        public const string CollectionName = "db.collection.name";
        /// <summary>The operation: <c>select</c>, <c>insert</c>, <c>update</c>, <c>upsert</c>, <c>delete</c> or <c>rpc</c>.</summary>
        public const string OperationName = "db.operation.name";
        /// <summary>The PostgreSQL function an <c>rpc</c> call runs.</summary>
        public const string StoredProcedureName = "db.stored_procedure.name";
        /// <summary>The database schema the request addresses.</summary>
        public const string Namespace = "db.namespace";
        /// <summary>The error code the data API answered (PostgreSQL or PostgREST), when the request failed.</summary>
        public const string ResponseStatusCode = "db.response.status_code";
        /// <summary>Rows the response carried.</summary>
        public const string ReturnedRows = "db.response.returned_rows";
        /// <summary>The host of the service called.</summary>
        public const string ServerAddress = "server.address";
        /// <summary>The port of the service called.</summary>
        public const string ServerPort = "server.port";
        /// <summary>The HTTP status of the response.</summary>
        public const string HttpResponseStatusCode = "http.response.status_code";
        /// <summary>The exception type (or error code) when the call failed.</summary>
        public const string ErrorType = "error.type";

        /// <summary>PostgREST serves a PostgreSQL database: the well-known value of the conventions applies.</summary>
        public const string PostgreSql = "postgresql";
    }

    /// <summary>OpenTelemetry GenAI conventions for tool calls (<c>execute_tool {gen_ai.tool.name}</c>), as the E2B sandbox steps use them.</summary>
    public static class Tools
    {
        /// <summary>Value of <c>gen_ai.operation.name</c> and the first word of a tool call's span name.</summary>
        public const string ExecuteToolOperation = "execute_tool";
        /// <summary>The tool's name.</summary>
        public const string ToolName = "gen_ai.tool.name";
        /// <summary>The kind of tool (<see cref="ExtensionType"/>).</summary>
        public const string ToolType = "gen_ai.tool.type";
        /// <summary>The tool's description.</summary>
        public const string ToolDescription = "gen_ai.tool.description";
        /// <summary>The id of the tool call.</summary>
        public const string ToolCallId = "gen_ai.tool.call.id";
        /// <summary>The tool's arguments as JSON, under the capture policy.</summary>
        public const string ToolCallArguments = "gen_ai.tool.call.arguments";
        /// <summary>The tool's result, under the capture policy.</summary>
        public const string ToolCallResult = "gen_ai.tool.call.result";

        /// <summary>A tool that calls an external service on the caller's side (the GenAI conventions' <c>extension</c>).</summary>
        public const string ExtensionType = "extension";
    }

    /// <summary>E2B sandbox attributes and span names.</summary>
    public static class E2B
    {
        /// <summary>Tool name of the step that runs code in a sandbox.</summary>
        public const string RunCodeTool = "e2b.run_code";
        /// <summary>Tool name of the step that runs a shell command in a sandbox.</summary>
        public const string RunCommandTool = "e2b.run_command";
        /// <summary>Span of creating a sandbox.</summary>
        public const string SandboxCreateSpan = "e2b.sandbox.create";
        /// <summary>Span of killing a sandbox.</summary>
        public const string SandboxKillSpan = "e2b.sandbox.kill";
        /// <summary>The sandbox's id.</summary>
        public const string SandboxId = "e2b.sandbox.id";
        /// <summary>The template the sandbox was made from.</summary>
        public const string TemplateId = "e2b.template.id";
        /// <summary>The language the code ran in.</summary>
        public const string Language = "e2b.language";
        /// <summary>The exit code of a command.</summary>
        public const string ExitCode = "e2b.exit_code";
        /// <summary>The error name the code raised in the sandbox.</summary>
        public const string ErrorName = "e2b.error.name";
        /// <summary>True when the sandbox was killed (it no longer runs).</summary>
        public const string Killed = "e2b.sandbox.killed";
    }
}
