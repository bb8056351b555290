using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace TtaActors.Telemetry.Export.Langfuse;

/// <summary>A score on a trace (or one of its observations); the value is a number, a bool or a category string.</summary>
public sealed record LangfuseScore(string TraceId, string Name, object Value)
{
    /// <summary>The observation (span id) the score is on; the whole trace when null.</summary>
    public string? ObservationId { get; init; }
    /// <summary>Free text shown beside the score in Langfuse.</summary>
    public string? Comment { get; init; }

    /// <summary>Chosen once, so retrying the same score is idempotent on Langfuse's side.</summary>
    public string Id { get; init; } = Guid.NewGuid().ToString();
}

/// <summary>Langfuse answered a score with an error; the message is Langfuse's own.</summary>
public sealed class LangfuseIngestionException(string message) : Exception(message);

/// <summary>
/// Sends scores as <c>score-create</c> events to <c>POST {host}/api/public/ingestion</c> (the one kind of event that
/// endpoint still takes). Langfuse answers HTTP 207 with <c>successes[]</c> and <c>errors[]</c>; an entry in
/// <c>errors[]</c> is a failure even though the status is not an error.
/// </summary>
public sealed class LangfuseScores(LangfuseExporterOptions options, HttpClient http)
{
    /// <summary>Sends one score and waits for Langfuse's answer.</summary>
    /// <exception cref="ArgumentException">The value is not a number, a bool or a string.</exception>
    /// <exception cref="LangfuseIngestionException">Langfuse refused the keys or the score (an HTTP error or an entry in <c>errors[]</c>).</exception>
    public async Task CreateAsync(LangfuseScore score, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(score);
        var body = new JsonObject
        {
            ["id"] = score.Id,
            ["traceId"] = score.TraceId,
            ["name"] = score.Name,
        };
        switch (score.Value)
        {
            case bool flag:
                body["value"] = flag ? 1 : 0;
                body["dataType"] = "BOOLEAN";
                break;
            case string category:
                body["value"] = category;
                body["dataType"] = "CATEGORICAL";
                break;
            case IConvertible number and not char:
                body["value"] = number.ToDouble(CultureInfo.InvariantCulture);
                body["dataType"] = "NUMERIC";
                break;
            default:
                throw new ArgumentException($"Score '{score.Name}': value must be a number, a bool or a string, not {score.Value?.GetType().Name ?? "null"}.");
        }
        if (score.ObservationId is not null) body["observationId"] = score.ObservationId;
        if (score.Comment is not null) body["comment"] = score.Comment;
        var batch = new JsonObject
        {
            ["batch"] = new JsonArray(new JsonObject
            {
                ["id"] = Guid.NewGuid().ToString(),
                ["timestamp"] = DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture),
                ["type"] = "score-create",
                ["body"] = body,
            }),
        };

        using var request = new HttpRequestMessage(HttpMethod.Post, options.IngestionEndpoint)
        {
            Content = new StringContent(batch.ToJsonString(), Encoding.UTF8, "application/json"),
        };
        request.Headers.TryAddWithoutValidation("Authorization", options.AuthorizationHeader);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        using var response = await http.SendAsync(request, cancellation).ConfigureAwait(false);
        var text = await response.Content.ReadAsStringAsync(cancellation).ConfigureAwait(false);
        if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
            throw new LangfuseIngestionException(
                $"Langfuse at {options.Host} refused the API keys (HTTP {(int)response.StatusCode}) for score '{score.Name}': check LANGFUSE_PUBLIC_KEY and LANGFUSE_SECRET_KEY.");
        if (!response.IsSuccessStatusCode)
            throw new LangfuseIngestionException($"Langfuse at {options.Host} refused score '{score.Name}' with HTTP {(int)response.StatusCode}: {Shorten(text)}");
        if (FirstError(text) is { } error)
            throw new LangfuseIngestionException($"Langfuse at {options.Host} refused score '{score.Name}' on trace {score.TraceId}: {error}");
    }

    private static string? FirstError(string text)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(text);
        }
        catch (JsonException)
        {
            return $"unreadable answer: {Shorten(text)}";
        }
        if (root?["errors"] is not JsonArray { Count: > 0 } errors) return null;
        var first = errors[0];
        var status = first?["status"]?.ToJsonString();
        var message = first?["message"] is JsonValue value && value.TryGetValue<string>(out var m)
            ? m
            : first?["error"]?.ToJsonString() ?? first?.ToJsonString();
        return status is null ? message : $"status {status}: {message}";
    }

    private static string Shorten(string text) => text.Length > 300 ? text[..300] : text;
}
