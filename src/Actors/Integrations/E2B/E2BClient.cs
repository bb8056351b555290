using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using TtaActors.Telemetry;

namespace TtaActors.Actors.Integrations.E2B;

/// <summary>An error answer of the E2B API or a sandbox; the message never holds a key or token.</summary>
public sealed class E2BException(string message, HttpStatusCode? status = null) : HttpRequestException(message, null, status);

/// <summary>
/// A client of E2B: creates sandboxes from a template (<c>POST {api}/sandboxes</c> with <c>X-API-Key</c>) and kills
/// them (<c>DELETE {api}/sandboxes/{id}</c>). A created <see cref="E2BSandbox"/> runs code and commands and moves
/// files; disposing it kills it. <see cref="RunAsync"/> does all of it as one tool call and always kills the sandbox.
/// </summary>
public sealed partial class E2BClient
{
    /// <param name="http">The client requests are sent with (the caller owns it).</param>
    /// <param name="options">Where E2B is, the key and the limits.</param>
    public E2BClient(HttpClient http, E2BOptions options)
    {
        Http = http ?? throw new ArgumentNullException(nameof(http));
        Options = options ?? throw new ArgumentNullException(nameof(options));
    }

    internal HttpClient Http { get; }
    /// <summary>Where E2B is, the key and the limits.</summary>
    public E2BOptions Options { get; }

    /// <summary>
    /// Creates a sandbox that E2B itself kills after <paramref name="lifetime"/> at the latest. The request is not
    /// cancelled by <paramref name="cancellation"/> once sent: a sandbox whose id never came back could not be killed,
    /// so the answer is awaited (within the request timeout) and the sandbox killed if the caller gave up meanwhile.
    /// </summary>
    public async Task<E2BSandbox> CreateSandboxAsync(string template, TimeSpan lifetime, CancellationToken cancellation = default)
    {
        if (!TemplatePattern().IsMatch(template))
            throw new ArgumentException($"E2B template '{Bounded(template)}' is not a template id or alias (letters, digits, '-', '_', '.', ':' and '/').");
        if (lifetime <= TimeSpan.Zero || lifetime > Options.MaxSandboxLifetime)
            throw new ArgumentOutOfRangeException(nameof(lifetime), lifetime, $"A sandbox lives from 1 s to {Options.MaxSandboxLifetime.TotalSeconds} s (MaxSandboxLifetime).");
        cancellation.ThrowIfCancellationRequested();

        using var span = StartClientSpan(TelemetryNames.E2B.SandboxCreateSpan, Options.EffectiveApiUrl);
        span?.SetTag(TelemetryNames.E2B.TemplateId, template);
        var body = new JsonObject
        {
            ["templateID"] = template,
            ["timeout"] = (int)Math.Ceiling(lifetime.TotalSeconds),
            ["secure"] = true,
        };
        using var request = ApiRequest(HttpMethod.Post, "sandboxes");
        request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        try
        {
            using var bounded = new CancellationTokenSource(Options.RequestTimeout);
            using var response = await Http.SendAsync(request, bounded.Token).ConfigureAwait(false);
            var text = await HttpBodies.ReadBoundedTextAsync(response.Content, 64 * 1024, "E2B sandbox creation", bounded.Token).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode) throw ApiFailure($"Creating an E2B sandbox from template '{template}'", response.StatusCode, text);
            var sandbox = E2BSandbox.FromCreated(this, template, text);
            span?.SetTag(TelemetryNames.E2B.SandboxId, sandbox.Id);
            if (cancellation.IsCancellationRequested)
            {
                await sandbox.DisposeAsync().ConfigureAwait(false);
                cancellation.ThrowIfCancellationRequested();
            }
            return sandbox;
        }
        catch (OperationCanceledException error) when (!cancellation.IsCancellationRequested)
        {
            var timedOut = new TimeoutException($"E2B did not answer the sandbox creation within {Options.RequestTimeout.TotalSeconds} s.", error);
            RecordError(span, timedOut);
            throw timedOut;
        }
        catch (Exception error)
        {
            RecordError(span, error);
            throw;
        }
    }

    /// <summary>Kills a sandbox; false when E2B no longer knows it (already gone). Bounded by the kill timeout, whatever the caller's token.</summary>
    public async Task<bool> KillSandboxAsync(string sandboxId, CancellationToken cancellation = default)
    {
        if (!E2BSandbox.IdPattern().IsMatch(sandboxId)) throw new ArgumentException($"'{Bounded(sandboxId)}' is not an E2B sandbox id.");
        using var span = StartClientSpan(TelemetryNames.E2B.SandboxKillSpan, Options.EffectiveApiUrl);
        span?.SetTag(TelemetryNames.E2B.SandboxId, sandboxId);
        using var request = ApiRequest(HttpMethod.Delete, "sandboxes/" + Uri.EscapeDataString(sandboxId));
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        bounded.CancelAfter(Options.KillTimeout);
        try
        {
            using var response = await Http.SendAsync(request, bounded.Token).ConfigureAwait(false);
            span?.SetTag(TelemetryNames.Database.HttpResponseStatusCode, (int)response.StatusCode);
            if (response.StatusCode == HttpStatusCode.NotFound) return false;
            var text = await HttpBodies.ReadBoundedTextAsync(response.Content, 64 * 1024, "E2B sandbox kill", bounded.Token).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode) throw ApiFailure($"Killing E2B sandbox '{sandboxId}'", response.StatusCode, text);
            span?.SetTag(TelemetryNames.E2B.Killed, true);
            return true;
        }
        catch (Exception error)
        {
            RecordError(span, error);
            throw;
        }
    }

    private HttpRequestMessage ApiRequest(HttpMethod method, string path)
    {
        var baseUrl = Options.EffectiveApiUrl.AbsoluteUri.TrimEnd('/') + "/";
        var request = new HttpRequestMessage(method, new Uri(new Uri(baseUrl), path));
        request.Headers.TryAddWithoutValidation("X-API-Key", Options.ApiKey);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        return request;
    }

    /// <summary>E2B answers API errors as <c>{"code": 401, "message": "..."}</c>; the message (or the body's start) becomes the error.</summary>
    internal E2BException ApiFailure(string what, HttpStatusCode status, string body, IEnumerable<string?>? secrets = null)
    {
        string? message = null;
        try
        {
            if (JsonNode.Parse(body) is JsonObject error && error["message"] is JsonValue value && value.TryGetValue<string>(out var text)) message = text;
        }
        catch (JsonException)
        {
            // A proxy's page rather than E2B's JSON: its start stands in for the message.
        }
        var full = $"{what} failed with {(int)status}: {message ?? (body.Length == 0 ? status.ToString() : HttpBodies.Snippet(body))}";
        return new E2BException(Redact(full, secrets), status);
    }

    internal string Redact(string text, IEnumerable<string?>? more = null) =>
        HttpBodies.Redact(text, more is null ? [Options.ApiKey] : more.Append(Options.ApiKey));

    internal static Activity? StartClientSpan(string name, Uri server)
    {
        var source = TtaInstrumentation.ActivitySource;
        if (!source.HasListeners()) return null;
        var span = source.StartActivity(name, ActivityKind.Client);
        if (span is { IsAllDataRequested: true })
        {
            span.SetTag(TelemetryNames.Database.ServerAddress, server.Host);
            span.SetTag(TelemetryNames.Database.ServerPort, server.Port);
        }
        return span;
    }

    internal void RecordError(Activity? span, Exception error)
    {
        if (span is null) return;
        var message = Redact(error.Message);
        span.SetStatus(ActivityStatusCode.Error, message);
        if (!span.IsAllDataRequested) return;
        span.SetTag(TelemetryNames.Database.ErrorType, error.GetType().FullName);
        span.AddEvent(new ActivityEvent("exception", tags: new ActivityTagsCollection
        {
            ["exception.type"] = error.GetType().FullName,
            ["exception.message"] = message,
        }));
    }

    internal static string Bounded(string text) => text.Length > 60 ? text[..60] + "..." : text;

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$")]
    private static partial Regex TemplatePattern();
}
