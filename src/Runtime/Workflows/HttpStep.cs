using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using TtaActors.Actors.Context;
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
    private readonly string _describe = spec.Describe();

    public async ValueTask<StepOutcome> ExecuteAsync(object? input, WorkflowContext context, CancellationToken cancellation)
    {
        var scope = new TemplateScope(JsonData.ToNode(input), context);
        var url = spec.Url.RenderText(scope, _describe);
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            throw new InvalidOperationException($"The {_describe} rendered the URL '{url}', which is not an absolute http or https URL.");

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
            if (request.Headers.TryAddWithoutValidation(header.Name, value)) continue;
            if (request.Content is null || !request.Content.Headers.TryAddWithoutValidation(header.Name, value))
            {
                if (header.Name.Equals("Content-Type", StringComparison.OrdinalIgnoreCase) && request.Content is not null)
                    request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(value);
                else throw new InvalidOperationException($"Header '{header.Name}' of the {_describe} cannot be sent on this request.");
            }
        }

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
