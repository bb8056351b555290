using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using TtaActors.Telemetry;

namespace TtaActors.Actors.Integrations.Supabase;

/// <summary>
/// An error answer of the data API. PostgREST answers errors as <c>{"code", "message", "details", "hint"}</c>
/// (PostgreSQL's fields, or its own <c>PGRST</c> codes); all four are kept and written into the message.
/// </summary>
public sealed class SupabaseException(string message, HttpStatusCode status, string? code, string? error, string? details, string? hint)
    : HttpRequestException(message, null, status)
{
    /// <summary>PostgREST's <c>code</c>: a PostgreSQL error code or a <c>PGRST</c> code.</summary>
    public string? Code { get; } = code;
    /// <summary>PostgREST's <c>message</c>.</summary>
    public string? Error { get; } = error;
    /// <summary>PostgREST's <c>details</c>.</summary>
    public string? Details { get; } = details;
    /// <summary>PostgREST's <c>hint</c>.</summary>
    public string? Hint { get; } = hint;
}

/// <summary>What a data API call answered: the JSON it returned (null for <c>return=minimal</c>) and the total when counted.</summary>
public sealed record SupabaseResult(JsonNode? Data, long? Count, int Status);

/// <summary>
/// A client of Supabase's data API (PostgREST under <c>{SUPABASE_URL}/rest/v1</c>). Each call is a client span per
/// the OpenTelemetry database conventions (<c>select orders</c>, <c>rpc next_ticket</c>) under the current span; the
/// key is sent as <c>apikey</c> and <c>Authorization: Bearer</c> and recorded nowhere.
/// </summary>
public sealed class SupabaseClient
{
    private readonly HttpClient _http;

    /// <param name="http">The client requests are sent with (the caller owns it).</param>
    /// <param name="options">The project's URL, key and limits.</param>
    public SupabaseClient(HttpClient http, SupabaseOptions options)
    {
        _http = http ?? throw new ArgumentNullException(nameof(http));
        Options = options ?? throw new ArgumentNullException(nameof(options));
    }

    /// <summary>The project's URL, key and limits.</summary>
    public SupabaseOptions Options { get; }

    /// <summary>
    /// Runs <paramref name="query"/> with one value per filter (in order) and the body. Throws
    /// <see cref="SupabaseException"/> with PostgREST's code, message, details and hint when it answers an error.
    /// </summary>
    public async Task<SupabaseResult> ExecuteAsync(SupabaseQuery query, IReadOnlyList<JsonNode?> filterValues, JsonNode? body,
        TimeSpan? timeout = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (query.Problems() is { Count: > 0 } problems) throw new ArgumentException(string.Join(" ", problems));
        if (filterValues.Count != query.Filters.Count)
            throw new ArgumentException($"The query has {query.Filters.Count} filters but {filterValues.Count} values were given.");

        var uri = new Uri(Options.RestBase, query.RelativeTarget(filterValues));
        var describe = query.Operation == SupabaseOperation.Rpc ? $"Supabase rpc '{query.Target}'" : $"Supabase {query.OperationName} on '{query.Target}'";
        using var request = new HttpRequestMessage(query.Method, uri);
        request.Headers.TryAddWithoutValidation("apikey", Options.Key);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Options.Key);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        if (query.Prefer() is { } prefer) request.Headers.TryAddWithoutValidation("Prefer", prefer);
        if (query.Schema is { } schema)
            request.Headers.TryAddWithoutValidation(query.Method == HttpMethod.Get ? "Accept-Profile" : "Content-Profile", schema);
        if (query.SendsBody)
            request.Content = new StringContent(body?.ToJsonString() ?? (query.Operation == SupabaseOperation.Rpc ? "{}" : "null"), Encoding.UTF8, "application/json");

        using var span = StartSpan(query, uri);
        var limit = timeout ?? Options.RequestTimeout;
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        bounded.CancelAfter(limit);
        try
        {
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, bounded.Token).ConfigureAwait(false);
            var status = (int)response.StatusCode;
            span?.SetTag(TelemetryNames.Database.HttpResponseStatusCode, status);
            var text = await HttpBodies.ReadBoundedTextAsync(response.Content, Options.MaxResponseBytes, describe, bounded.Token).ConfigureAwait(false);
            if (status is < 200 or >= 300) throw Failure(describe, response.StatusCode, text);

            JsonNode? data = null;
            if (text.Length > 0)
            {
                try
                {
                    data = JsonNode.Parse(text);
                }
                catch (JsonException error)
                {
                    throw new InvalidDataException($"{describe} answered {status} with a body that is not JSON: {error.Message}");
                }
            }
            var count = TotalFrom(response.Content.Headers.NonValidated.TryGetValues("Content-Range", out var ranges) ? ranges.ToString() : null);
            if (span is { IsAllDataRequested: true } && data is JsonArray rows) span.SetTag(TelemetryNames.Database.ReturnedRows, rows.Count);
            return new SupabaseResult(data, count, status);
        }
        catch (OperationCanceledException) when (!cancellation.IsCancellationRequested)
        {
            var timedOut = new TimeoutException($"{describe} did not answer within {limit.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s.");
            RecordError(span, timedOut, "timeout");
            throw timedOut;
        }
        catch (Exception error)
        {
            RecordError(span, error, error is SupabaseException { Code: { } code } ? code : error.GetType().FullName);
            throw;
        }
    }

    private Activity? StartSpan(SupabaseQuery query, Uri uri)
    {
        var source = TtaInstrumentation.ActivitySource;
        if (!source.HasListeners()) return null;
        var name = query.Operation == SupabaseOperation.Rpc ? "rpc " + query.Target : query.OperationName + " " + query.Target;
        var span = source.StartActivity(name, ActivityKind.Client);
        if (span is not { IsAllDataRequested: true }) return span;
        span.SetTag(TelemetryNames.Database.SystemName, TelemetryNames.Database.PostgreSql);
        span.SetTag(TelemetryNames.Database.OperationName, query.OperationName);
        if (query.Operation == SupabaseOperation.Rpc) span.SetTag(TelemetryNames.Database.StoredProcedureName, query.Target);
        else span.SetTag(TelemetryNames.Database.CollectionName, query.Target);
        if (query.Schema is not null) span.SetTag(TelemetryNames.Database.Namespace, query.Schema);
        span.SetTag(TelemetryNames.Database.ServerAddress, uri.Host);
        span.SetTag(TelemetryNames.Database.ServerPort, uri.Port);
        return span;
    }

    private void RecordError(Activity? span, Exception error, string? type)
    {
        if (span is null) return;
        var message = HttpBodies.Redact(error.Message, [Options.Key]);
        span.SetStatus(ActivityStatusCode.Error, message);
        if (!span.IsAllDataRequested) return;
        span.SetTag(TelemetryNames.Database.ErrorType, type);
        if (error is SupabaseException { Code: { } code }) span.SetTag(TelemetryNames.Database.ResponseStatusCode, code);
        span.AddEvent(new ActivityEvent("exception", tags: new ActivityTagsCollection
        {
            ["exception.type"] = error.GetType().FullName,
            ["exception.message"] = message,
        }));
    }

    /// <summary>The step's error: PostgREST's code, message, details and hint when the body has them, else the body's start.</summary>
    private SupabaseException Failure(string describe, HttpStatusCode status, string body)
    {
        string? code = null, message = null, details = null, hint = null;
        try
        {
            if (JsonNode.Parse(body) is JsonObject error)
            {
                code = Text(error["code"]);
                message = Text(error["message"]);
                details = Text(error["details"]);
                hint = Text(error["hint"]);
            }
        }
        catch (JsonException)
        {
            // Not PostgREST's JSON (a proxy's page, say): the body's start stands in for the message.
        }
        var text = new StringBuilder($"{describe} failed with {(int)status}");
        if (code is not null) text.Append(" (").Append(code).Append(')');
        text.Append(": ").Append(message ?? (body.Length == 0 ? status.ToString() : HttpBodies.Snippet(body)));
        if (details is not null) text.Append(" Details: ").Append(details);
        if (hint is not null) text.Append(" Hint: ").Append(hint);
        var redacted = HttpBodies.Redact(text.ToString(), [Options.Key]);
        return new SupabaseException(redacted, status, code, message, details, hint);
    }

    private static string? Text(JsonNode? node) => node switch
    {
        null => null,
        JsonValue value when value.TryGetValue<string>(out var s) => s,
        _ => node.ToJsonString(),
    };

    /// <summary>The total of <c>Content-Range: 0-24/3573</c> (or <c>*/0</c>); null when it is unknown (<c>*</c>) or absent.</summary>
    internal static long? TotalFrom(string? contentRange)
    {
        if (contentRange is null) return null;
        var slash = contentRange.LastIndexOf('/');
        return slash >= 0 && long.TryParse(contentRange.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var total) ? total : null;
    }
}
