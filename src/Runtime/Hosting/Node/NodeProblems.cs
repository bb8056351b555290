using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using TtaActors.Actors.Sessions;
using TtaActors.Runtime.Runs;

namespace TtaActors.Runtime.Node;

/// <summary>One RFC 9457 Problem Details answer: status, type (under <see cref="NodeApi.ProblemTypeBase"/>), title, detail.</summary>
public sealed record NodeProblem(int Status, string Type, string Title, string Detail, Dictionary<string, object?>? Extensions = null)
{
    /// <summary>The answer to send.</summary>
    public IResult ToResult() => NodeApi.Problem(Status, Type, Title, Detail, Extensions);
}

/// <summary>A request body the API cannot read: malformed JSON, a wrong field type, an unknown or a missing field.</summary>
public sealed class MalformedBodyException(string detail, string path, long? line, long? position) : Exception(detail)
{
    /// <summary>Where in the body the problem is, as a JSON path.</summary>
    public string Path { get; } = path;
    /// <summary>The line of the problem, when the parser knows it.</summary>
    public long? Line { get; } = line;
    /// <summary>The byte position in the line, when the parser knows it.</summary>
    public long? Position { get; } = position;
}

/// <summary>
/// The one place where what went wrong in a request becomes its answer: refusals of the caller's input are 4xx with
/// the field and the rule, a session journal that does not answer is 503, anything else is a 500 that names the trace
/// to look for in the node's log (exception texts of unknown faults are not sent, they may carry internals).
/// </summary>
public static partial class NodeProblems
{
    /// <summary>The answer to <paramref name="error"/>; <paramref name="maxBodyBytes"/> is quoted when a body was too large.</summary>
    public static NodeProblem Map(Exception error, long maxBodyBytes) => error switch
    {
        InvalidFieldException invalid => new(422, "invalid-field", "Invalid field", invalid.Message, new() { ["field"] = invalid.Field }),
        WorkflowNotFoundException { Invalid: { } file } missing => new(422, "workflow-invalid", "Workflow file is invalid", missing.Message,
            new() { ["problems"] = NodeApi.ProblemsJson(file.Problems) }),
        WorkflowNotFoundException missing => new(404, "workflow-not-found", "Workflow not found", missing.Message, new() { ["field"] = "workflow" }),
        PersonaSessionRefusedException refused => refused.Code switch
        {
            RefusalCodes.InvalidName => new(422, "invalid-field", "Invalid field", refused.Message),
            RefusalCodes.BudgetExceeded => new(409, "budget-exceeded", "Token budget exceeded", refused.Message),
            RefusalCodes.UnknownRun => new(409, "unknown-run", "Run not open in the session", refused.Message),
            RefusalCodes.JournalUnavailable => new(503, "journal-unavailable", "Session journal unavailable", refused.Message),
            _ => new(500, "session-fault", "Session fault", refused.Message),
        },
        Actors.Durable.DurableRunRefusedException refused => Durable.DurableRunsApi.Problem(refused),
        Inspector.FeedFullException full => new(503, "feed-full", "Run feed full", full.Message),
        TimeoutException timeout => new(503, "session-unavailable", "Session unavailable", timeout.Message),
        MalformedBodyException body => new(400, "malformed-body", "Malformed request body", body.Message, BodyLocation(body)),
        BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge } => new(413, "body-too-large", "Request body too large",
            $"The request body is larger than the limit of {maxBodyBytes} bytes (TTA_MAX_BODY_BYTES). Send less, or raise the limit."),
        BadHttpRequestException bad => new(bad.StatusCode, "bad-request", "Bad request", bad.Message),
        _ => new(500, "internal-error", "Internal error",
            "The node failed while handling this request; its log has the error under this request's trace id. Retry; report it if it persists."),
    };

    private static Dictionary<string, object?> BodyLocation(MalformedBodyException body)
    {
        var extensions = new Dictionary<string, object?> { ["path"] = body.Path };
        if (body.Line is { } line) extensions["line"] = line;
        if (body.Position is { } position) extensions["position"] = position;
        return extensions;
    }

    /// <summary>Writes the Problem Details of any exception that leaves an endpoint.</summary>
    internal sealed class Handler(NodeOptions options, ILogger<Handler> log) : IExceptionHandler
    {
        public async ValueTask<bool> TryHandleAsync(HttpContext http, Exception error, CancellationToken cancellationToken)
        {
            // The caller went away: nobody reads an answer.
            if (error is OperationCanceledException && http.RequestAborted.IsCancellationRequested) return true;
            var problem = Map(error, options.MaxBodyBytes);
            var traceId = System.Diagnostics.Activity.Current?.TraceId.ToString() ?? http.TraceIdentifier;
            if (problem.Status >= 500)
                log.LogError(error, "{Method} {Path} answered {Status} (trace {TraceId}): {Message}",
                    http.Request.Method, http.Request.Path.Value, problem.Status, traceId, error.Message);
            var extensions = problem.Extensions ?? [];
            extensions["traceId"] = traceId;
            if (problem.Status == 503) http.Response.Headers.RetryAfter = "5";
            await (problem with { Extensions = extensions }).ToResult().ExecuteAsync(http);
            return true;
        }
    }

    /// <summary>
    /// A body's JSON error in the API's words: the JSON field and what it must be, never the CLR types that read it.
    /// </summary>
    public static MalformedBodyException Describe(JsonException malformed, IReadOnlyList<string> fields)
    {
        var path = malformed.Path ?? "$";
        var message = malformed.Message.Split(" Path:", 2)[0];
        string detail;
        if (UnknownField().Match(message) is { Success: true } unknown)
            detail = $"The request body has an unknown field '{PersonaNames.Printable(unknown.Groups[1].Value)}'; its fields are {string.Join(", ", fields)}.";
        else if (MissingFields().Match(message) is { Success: true } missing)
            detail = $"The request body lacks the required field {missing.Groups[1].Value.Replace("'", "\"")}.";
        else
            detail = ClrType().Replace(ClrTypeName().Replace(message, m => m.Groups[1].Value switch
            {
                "Boolean" => "true or false",
                "String" => "a string",
                "Int32" or "Int64" or "Double" or "Decimal" => "a number",
                var other => other,
            }), "the request body") + $" (at {path})";
        return new MalformedBodyException(detail, path, malformed.LineNumber + 1, malformed.BytePositionInLine + 1);
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"The JSON property '(.*)' could not be mapped")]
    private static partial System.Text.RegularExpressions.Regex UnknownField();

    [System.Text.RegularExpressions.GeneratedRegex(@"missing required properties,? including:? (.+?)\.?$")]
    private static partial System.Text.RegularExpressions.Regex MissingFields();

    [System.Text.RegularExpressions.GeneratedRegex(@"System\.(?:Nullable`1\[System\.)?(\w+)\]?")]
    private static partial System.Text.RegularExpressions.Regex ClrTypeName();

    [System.Text.RegularExpressions.GeneratedRegex(@"(?:type )?'?TtaActors\.[\w.+`]+'?")]
    private static partial System.Text.RegularExpressions.Regex ClrType();
}
