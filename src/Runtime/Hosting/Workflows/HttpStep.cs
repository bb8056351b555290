using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using TtaActors.Actors.Context;
using TtaActors.Actors.Durable;
using TtaActors.Actors.Primitives;

namespace TtaActors.Runtime.Workflows;

/// <summary>An HTTP call answered with a status the step does not expect.</summary>
public sealed class HttpStepException(string message, HttpStatusCode status) : HttpRequestException(message, null, status);

/// <summary>
/// The <c>http:</c> leaf step: renders the URL, headers (which alone may read environment variables) and body,
/// sends the request, checks the status and yields the response as JSON (or text).
/// </summary>
internal sealed class HttpStep(HttpSpec spec, HttpClient http, Func<string, string?> environment)
{
    private const int ErrorBodyChars = 200;
    public const string IdempotencyKeyHeader = "Idempotency-Key";
    private readonly string _describe = spec.Describe();

    public async ValueTask<StepOutcome> ExecuteAsync(object? input, WorkflowContext context, CancellationToken cancellation)
    {
        var scope = new TemplateScope(JsonData.ToNode(input), context);
        var uri = spec.Url.Render(scope, _describe);

        using var request = new HttpRequestMessage(spec.Method, uri);
        if (spec.Body is { } body)
        {
            var rendered = body.Render(scope, _describe);
            request.Content = rendered is JsonValue value && value.TryGetValue<string>(out var text)
                ? new StringContent(text, Encoding.UTF8, "text/plain")
                : new StringContent(rendered?.ToJsonString() ?? "null", Encoding.UTF8, "application/json");
        }

        var headerScope = scope with { Environment = environment };
        foreach (var header in spec.Headers)
        {
            var value = header.Value.RenderText(headerScope, $"header '{header.Name}' of the {_describe}");
            RefuseControlCharacters(header.Name, value);
            if (request.Headers.TryAddWithoutValidation(header.Name, value)) continue;
            if (request.Content is null || !request.Content.Headers.TryAddWithoutValidation(header.Name, value))
            {
                if (header.Name.Equals("Content-Type", StringComparison.OrdinalIgnoreCase) && request.Content is not null)
                    request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(value);
                else throw new InvalidOperationException($"Header '{header.Name}' of the {_describe} cannot be sent on this request.");
            }
        }

        // A durable run's step sends the same key when it is executed again after a resume, so the server can dedupe it.
        if (context.IdempotencyKey() is { } idempotencyKey && !request.Headers.Contains(IdempotencyKeyHeader))
            request.Headers.TryAddWithoutValidation(IdempotencyKeyHeader, idempotencyKey);

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        timeout.CancelAfter(TimeSpan.FromSeconds(spec.TimeoutSeconds));
        var target = $"{spec.Method} {uri.GetLeftPart(UriPartial.Path)}";
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, timeout.Token);
        }
        catch (OperationCanceledException) when (!cancellation.IsCancellationRequested)
        {
            throw new TimeoutException($"{target} did not answer within {spec.TimeoutSeconds} s ({_describe}).");
        }

        using (response)
        {
            var content = await response.Content.ReadAsStringAsync(timeout.Token);
            var status = (int)response.StatusCode;
            var expected = spec.Expect is { Count: > 0 } list ? list.Contains(status) : status is >= 200 and < 300;
            if (!expected)
            {
                var snippet = content.Length > ErrorBodyChars ? content[..ErrorBodyChars] + "..." : content;
                var wanted = spec.Expect is { Count: > 0 } ? string.Join(" or ", spec.Expect) : "2xx";
                throw new HttpStepException($"{target} answered {status}, expected {wanted} ({_describe}): {snippet}", response.StatusCode);
            }
            return new StepOutcome(Parse(content, response.Content.Headers.ContentType?.MediaType));
        }
    }

    /// <summary>
    /// CR or LF in a header value would end the header and start another one (or another request); no control character
    /// belongs in a header value (RFC 9110 allows tab), so such a value fails the step and nothing is sent. The value
    /// itself is not repeated: it may come from a secret.
    /// </summary>
    private void RefuseControlCharacters(string header, string value)
    {
        var bad = value.AsSpan().IndexOfAny(ControlCharacters);
        if (bad < 0) return;
        var character = value[bad] switch
        {
            '\r' => "CR",
            '\n' => "LF",
            '\0' => "NUL",
            var other => $"U+{(int)other:X4}",
        };
        throw new InvalidOperationException(
            $"Header '{header}' of the {_describe} rendered a value with a control character ({character} at position {bad + 1}), " +
            "which could inject headers or a second request; the request was not sent. Remove line breaks and control characters " +
            "from the value (the input, context or environment variable it reads).");
    }

    /// <summary>C0 controls except tab, DEL, and the C1 controls (NEL among them).</summary>
    private static readonly System.Buffers.SearchValues<char> ControlCharacters = System.Buffers.SearchValues.Create(
        Enumerable.Range(0, 0x20).Where(c => c != '\t').Append(0x7f).Concat(Enumerable.Range(0x80, 0x20)).Select(c => (char)c).ToArray());

    private static JsonNode? Parse(string content, string? mediaType)
    {
        if (mediaType is not null && mediaType.Contains("json", StringComparison.OrdinalIgnoreCase) && content.Length > 0)
        {
            try
            {
                return JsonNode.Parse(content);
            }
            catch (JsonException)
            {
                return JsonValue.Create(content);
            }
        }
        return JsonValue.Create(content);
    }
}
