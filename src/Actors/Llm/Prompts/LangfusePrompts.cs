using System.Net;
using System.Net.Http.Headers;
using System.Text;

namespace TtaActors.Actors.Llm.Prompts;

/// <summary>Where Langfuse's prompt API is and how long to wait for and keep its prompts. A class, so printing it never shows the secret key.</summary>
public sealed class LangfusePromptOptions
{
    /// <summary>Path of Langfuse's prompt API, relative to <see cref="Host"/>.</summary>
    public const string PromptsPath = "api/public/v2/prompts/";

    /// <summary>The Langfuse base URL.</summary>
    public required Uri Host { get; init; }
    /// <summary>The project's public key.</summary>
    public required string PublicKey { get; init; }
    /// <summary>The project's secret key; never printed or logged.</summary>
    public required string SecretKey { get; init; }

    /// <summary>How long one request may take before Langfuse counts as unreachable (default 10 s): a hanging server must not hang the step.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a fetched prompt is served before it is refreshed in the background (default 60 s, as Langfuse's SDKs cache).</summary>
    public TimeSpan CacheTtl { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>The largest answer read (default 1 MB); a larger one is refused as not a usable prompt.</summary>
    public int MaxResponseBytes { get; init; } = 1_000_000;

    /// <summary>The address of one prompt: the name percent-encoded as one path segment, the label or version as the query.</summary>
    public Uri PromptUri(LangfusePromptReference reference)
    {
        var query = reference.Version is { } version ? "version=" + version : "label=" + Uri.EscapeDataString(reference.Label!);
        return new Uri(new Uri(Host.ToString().TrimEnd('/') + "/"), PromptsPath + Uri.EscapeDataString(reference.Name) + "?" + query);
    }

    /// <summary>The same Langfuse project the traces go to (<c>LANGFUSE_HOST</c>, <c>LANGFUSE_PUBLIC_KEY</c>, <c>LANGFUSE_SECRET_KEY</c>).</summary>
    public static LangfusePromptOptions From(Telemetry.Export.Langfuse.LangfuseExporterOptions langfuse) => new()
    {
        Host = langfuse.Host,
        PublicKey = langfuse.PublicKey,
        SecretKey = langfuse.SecretKey,
    };

    internal AuthenticationHeaderValue Authorization => new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{PublicKey}:{SecretKey}")));

    /// <summary>The host and public key; the secret key is never shown.</summary>
    public override string ToString() => $"Langfuse prompts at {Host} (public key {PublicKey}, secret key hidden)";
}

/// <summary>
/// Prompts from Langfuse's prompt management, cached per name and label or version. A cached prompt older than
/// <see cref="LangfusePromptOptions.CacheTtl"/> is still served while one background request refreshes it, so a step waits
/// for Langfuse only the first time. When Langfuse cannot be reached (connection error, timeout, 5xx) a stale prompt is
/// served, else the reference's fallback, else the step fails; a 404 (no such name or label) or a refused key (401, 403)
/// always fails the step: another label is never tried.
/// </summary>
public sealed class LangfusePrompts : IDisposable
{
    private readonly LangfusePromptOptions _options;
    private readonly HttpClient _http;
    private readonly TimeProvider _clock;
    private readonly Lock _lock = new();
    private readonly Dictionary<(string Name, string? Label, int? Version), Entry> _cache = [];
    private readonly List<Task> _refreshes = [];

    /// <param name="options">Where Langfuse is and how long to wait for and keep prompts.</param>
    /// <param name="handler">The HTTP handler to send with (tests); a pooled socket handler without redirects when null.</param>
    /// <param name="clock">The clock of request deadlines and cache ages; the system clock when null.</param>
    /// <exception cref="ArgumentOutOfRangeException">A timeout, time to live or size in <paramref name="options"/> is out of range.</exception>
    public LangfusePrompts(LangfusePromptOptions options, HttpMessageHandler? handler = null, TimeProvider? clock = null)
    {
        _options = options ?? throw new ArgumentNullException(nameof(options));
        if (options.RequestTimeout <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(options), options.RequestTimeout, "RequestTimeout must be positive.");
        if (options.CacheTtl < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(options), options.CacheTtl, "CacheTtl must not be negative.");
        if (options.MaxResponseBytes < 1) throw new ArgumentOutOfRangeException(nameof(options), options.MaxResponseBytes, "MaxResponseBytes must be positive.");
        // Each request has its own deadline on the clock given, so tests can move it; the client's own is off.
        _http = new HttpClient(handler ?? new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5), AllowAutoRedirect = false })
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
        _clock = clock ?? TimeProvider.System;
    }

    /// <summary>The options the client was made with.</summary>
    public LangfusePromptOptions Options => _options;

    /// <summary>The prompt <paramref name="reference"/> names: from the cache when fresh or while it refreshes, else from Langfuse.</summary>
    public async Task<LangfusePrompt> GetAsync(LangfusePromptReference reference, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(reference);
        var key = (reference.Name, reference.Label, reference.Version);
        Task<LangfusePrompt> pending;
        lock (_lock)
        {
            if (_cache.TryGetValue(key, out var entry) && entry.Prompt is { } cached)
            {
                if (_clock.GetUtcNow() - entry.FetchedAt >= _options.CacheTtl && entry.Pending is null) StartRefresh(key, entry, reference);
                return cached;
            }
            if (entry is null) _cache[key] = entry = new Entry();
            // Steps asking at once for a prompt not yet cached share one request.
            pending = entry.Pending ??= FetchAndStoreAsync(key, entry, reference);
        }
        try
        {
            return await pending.WaitAsync(cancellation).ConfigureAwait(false);
        }
        catch (LangfuseUnreachableException unreachable)
        {
            if (reference.Fallback is not null) return LangfusePrompt.FromFallback(reference);
            throw new LangfusePromptUnavailableException(
                $"Langfuse prompt {reference} could not be fetched and the step has no fallback prompt: {unreachable.Message}", unreachable);
        }
    }

    /// <summary>Completes when every background refresh started so far has ended (for tests and orderly shutdown).</summary>
    public Task RefreshesSettled()
    {
        lock (_lock) return Task.WhenAll(_refreshes.ToArray());
    }

    /// <summary>Disposes the HTTP client.</summary>
    public void Dispose() => _http.Dispose();

    private void StartRefresh((string, string?, int?) key, Entry entry, LangfusePromptReference reference)
    {
        var refresh = FetchAndStoreAsync(key, entry, reference);
        entry.Pending = refresh;
        // Observed here: a refresh that fails leaves the stale prompt served and is tried again later.
        Task settled = refresh.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        _refreshes.RemoveAll(t => t.IsCompleted);
        _refreshes.Add(settled);
    }

    private async Task<LangfusePrompt> FetchAndStoreAsync((string, string?, int?) key, Entry entry, LangfusePromptReference reference)
    {
        await Task.Yield();
        try
        {
            var prompt = await FetchAsync(reference).ConfigureAwait(false);
            lock (_lock)
            {
                entry.Prompt = prompt;
                entry.FetchedAt = _clock.GetUtcNow();
                entry.Pending = null;
            }
            return prompt;
        }
        catch (LangfuseUnreachableException)
        {
            // A stale prompt stays served; it is tried again on the next use after the time to live.
            lock (_lock)
            {
                entry.Pending = null;
                if (entry.Prompt is null) _cache.Remove(key);
                else entry.FetchedAt = _clock.GetUtcNow();
            }
            throw;
        }
        catch (Exception)
        {
            // Langfuse said no (the label moved away, the keys changed): the next use asks again and fails the step.
            lock (_lock)
            {
                entry.Pending = null;
                _cache.Remove(key);
            }
            throw;
        }
    }

    private async Task<LangfusePrompt> FetchAsync(LangfusePromptReference reference)
    {
        using var timeout = new CancellationTokenSource(_options.RequestTimeout, _clock);
        using var request = new HttpRequestMessage(HttpMethod.Get, _options.PromptUri(reference));
        request.Headers.Authorization = _options.Authorization;
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        try
        {
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
            var status = (int)response.StatusCode;
            switch (response.StatusCode)
            {
                case HttpStatusCode.NotFound:
                    throw new LangfusePromptException(
                        $"Langfuse has no prompt {reference} (404): check the name and the {(reference.Version is null ? "label" : "version")} in Langfuse's prompt management.");
                case HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden:
                    throw new LangfusePromptException(
                        $"Langfuse refused the keys ({status}) fetching prompt {reference}: check LANGFUSE_PUBLIC_KEY and LANGFUSE_SECRET_KEY and that they belong to the prompt's project.");
                case HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests:
                    throw new LangfuseUnreachableException($"Langfuse answered {status}.");
            }
            if (status >= 500) throw new LangfuseUnreachableException($"Langfuse answered {status}.");
            if (status is < 200 or >= 300) throw new LangfusePromptException($"Langfuse answered {status} fetching prompt {reference}.");
            if (response.Content.Headers.ContentLength > _options.MaxResponseBytes) throw TooLarge(reference);
            var body = await ReadBoundedAsync(response.Content, reference, timeout.Token).ConfigureAwait(false);
            return LangfusePrompt.Parse(body, reference);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            throw new LangfuseUnreachableException($"Langfuse did not answer within {_options.RequestTimeout.TotalSeconds:0.###} s (RequestTimeout).");
        }
        catch (HttpRequestException error)
        {
            // The message names the host and the socket error, never the request's headers.
            throw new LangfuseUnreachableException($"Langfuse cannot be reached at {_options.Host}: {error.Message}", error);
        }
    }

    private async Task<byte[]> ReadBoundedAsync(HttpContent content, LangfusePromptReference reference, CancellationToken cancellation)
    {
        await using var stream = await content.ReadAsStreamAsync(cancellation).ConfigureAwait(false);
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await stream.ReadAsync(chunk, cancellation).ConfigureAwait(false)) > 0)
        {
            if (buffer.Length + read > _options.MaxResponseBytes) throw TooLarge(reference);
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }

    private LangfusePromptException TooLarge(LangfusePromptReference reference) =>
        new($"Langfuse's answer for prompt {reference} is larger than {_options.MaxResponseBytes} bytes (MaxResponseBytes).");

    private sealed class Entry
    {
        public LangfusePrompt? Prompt { get; set; }
        public DateTimeOffset FetchedAt { get; set; }
        public Task<LangfusePrompt>? Pending { get; set; }
    }

    /// <summary>Langfuse did not answer usefully for reasons that pass (network, timeout, 5xx): the fallback may stand in.</summary>
    private sealed class LangfuseUnreachableException(string message, Exception? inner = null) : Exception(message, inner);
}
