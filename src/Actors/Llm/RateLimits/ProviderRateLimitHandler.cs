using System.Globalization;
using System.Net;
using TtaActors.Telemetry;

namespace TtaActors.Actors.Llm.RateLimits;

/// <summary>
/// The LLM call the current async flow is making (set by the step's chat client around each provider call), so the
/// HTTP handler below can tell the chat span and the run's deadline about a 429 it is waiting out.
/// </summary>
internal sealed class LlmCallScope
{
    private static readonly AsyncLocal<LlmCallScope?> CurrentScope = new();

    public required string Provider { get; init; }
    public required string Model { get; init; }
    public DateTimeOffset? Deadline { get; init; }

    /// <summary>Told of each wait before it starts: reason, duration, the retry it precedes (1 for the first).</summary>
    public Action<string, TimeSpan, int>? Waited { get; init; }

    /// <summary>Why the handler gave up on a 429; the chat client fails the call with it instead of the provider SDK's error.</summary>
    public LlmRateLimitException? Failure { get; set; }

    public static LlmCallScope? Current => CurrentScope.Value;

    /// <summary>Makes <paramref name="scope"/> current for the flow of the returned scope's lifetime.</summary>
    public static Restore Enter(LlmCallScope scope)
    {
        var previous = CurrentScope.Value;
        CurrentScope.Value = scope;
        return new Restore(previous);
    }

    public readonly struct Restore(LlmCallScope? previous) : IDisposable
    {
        public void Dispose() => CurrentScope.Value = previous;
    }
}

/// <summary>
/// Honours a provider's 429 for LLM calls: waits what its <c>Retry-After</c> (seconds or an HTTP date, or OpenAI's
/// <c>retry-after-ms</c>) asks on the <see cref="TimeProvider"/>, records the wait, and sends the request again, up to
/// <see cref="LlmRateLimitOptions.MaxRetries"/> times. It gives up at once on a wait past the run's deadline or above
/// <see cref="LlmRateLimitOptions.MaxRetryAfter"/>. The 429 it finally passes on is marked so that neither SDK retries it
/// again with its own (real-time) backoff.
/// </summary>
internal sealed class ProviderRateLimitHandler(string provider, LlmRateLimitOptions options, TimeProvider time)
    : DelegatingHandler(new SocketsHttpHandler())
{
    /// <summary>Anthropic's SDK honours this header; OpenAI's is given a retry policy that leaves 429s alone.</summary>
    public const string ShouldRetryHeader = "x-should-retry";

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        // A call made outside an LLM step has no span or deadline to report to, but its 429s are honoured all the same.
        var scope = LlmCallScope.Current ?? new LlmCallScope { Provider = provider, Model = "unknown" };
        // Sent again as it is, so its body must come from a buffer, not a stream read once.
        if (request.Content is not null) await request.Content.LoadIntoBufferAsync(cancellationToken).ConfigureAwait(false);
        for (var retry = 1; ; retry++)
        {
            var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
            if (response.StatusCode != HttpStatusCode.TooManyRequests) return response;
            var reason = TelemetryNames.LlmRateLimits.Provider429;
            LlmRateLimiter.Count(scope.Provider, scope.Model, reason);
            var now = time.GetUtcNow();
            var wait = RetryAfter(response, now) ?? TimeSpan.FromTicks(options.DefaultRetryAfter.Ticks << Math.Min(retry - 1, 16));
            var problem = retry > options.MaxRetries
                ? $"answered 429 (too many requests) {retry} times; the {options.MaxRetries} retries allowed " +
                  $"({LlmRateLimitOptions.MaxRetriesVariable}) are used up"
                : wait > options.MaxRetryAfter
                    ? $"answered 429 asking to wait {wait.TotalSeconds:0.###} s, longer than the {options.MaxRetryAfter.TotalSeconds:0.###} s " +
                      $"allowed ({LlmRateLimitOptions.MaxRetryAfterVariable})"
                    : scope.Deadline is { } end && now + wait > end
                        ? $"answered 429 asking to wait {wait.TotalSeconds:0.###} s, past the run's deadline at {end:O} " +
                          $"({(end - now).TotalSeconds:0.###} s left)"
                        : null;
            if (problem is not null)
            {
                scope.Failure = new LlmRateLimitException(reason, string.Create(CultureInfo.InvariantCulture,
                    $"LLM provider {scope.Provider} (model '{scope.Model}') {problem}."));
                response.Headers.TryAddWithoutValidation(ShouldRetryHeader, "false");
                return response;
            }
            response.Dispose();
            scope.Waited?.Invoke(reason, wait, retry);
            LlmRateLimiter.Record(scope.Provider, scope.Model, reason, wait);
            await Task.Delay(wait, time, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The wait a 429 asks for, or null when it names none (or one in the past).</summary>
    internal static TimeSpan? RetryAfter(HttpResponseMessage response, DateTimeOffset now)
    {
        if (response.Headers.TryGetValues("retry-after-ms", out var ms)
            && double.TryParse(ms.FirstOrDefault(), NumberStyles.Float, CultureInfo.InvariantCulture, out var milliseconds)
            && double.IsFinite(milliseconds) && milliseconds >= 0 && milliseconds < TimeSpan.FromDays(1).TotalMilliseconds)
            return TimeSpan.FromMilliseconds(milliseconds);
        var header = response.Headers.RetryAfter;
        if (header?.Delta is { } delta) return delta >= TimeSpan.Zero ? delta : null;
        if (header?.Date is { } date) return date > now ? date - now : TimeSpan.Zero;
        return null;
    }
}
