using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using TtaActors.Telemetry;
using TtaActors.Telemetry.Llm;

namespace TtaActors.Actors.Llm.RateLimits;

/// <summary>
/// A call that a rate limit stopped: it would have waited past the run's deadline, could never fit the tokens-per-minute
/// limit, or the provider kept answering 429. The message names the limit, the wait and the deadline.
/// </summary>
public sealed class LlmRateLimitException(string reason, string message) : Exception(message)
{
    /// <summary>One of the <see cref="TelemetryNames.LlmRateLimits"/> reasons.</summary>
    public string Reason { get; } = reason;
}

/// <summary>
/// Client-side requests-per-minute and tokens-per-minute limits, one pair of token buckets per provider and model. A call
/// reserves one request and its estimated tokens, then waits (a timer on the <see cref="TimeProvider"/>, never a thread)
/// until both buckets have refilled what it took; after the call the estimate is swapped for the tokens the provider
/// reported. Buckets start full, so a burst up to the per-minute amount goes out at once.
/// </summary>
public sealed class LlmRateLimiter(LlmRateLimitOptions options, TimeProvider time)
{
    private readonly ConcurrentDictionary<(string Provider, string Model), Buckets> _buckets = new();

    /// <summary>The limits the buckets follow.</summary>
    public LlmRateLimitOptions Options { get; } = options;
    /// <summary>The clock of the buckets and their waits.</summary>
    public TimeProvider Time { get; } = time;

    /// <summary>
    /// Waits until a call of <paramref name="estimatedTokens"/> may go to <paramref name="provider"/>'s
    /// <paramref name="model"/>; the lease takes the actual usage afterwards. Each wait is reported to
    /// <paramref name="waited"/> (reason, duration) before it starts. A wait that would end after <paramref name="deadline"/>
    /// fails at once, and so does an estimate above the tokens-per-minute limit.
    /// </summary>
    public async ValueTask<RateLimitLease?> AcquireAsync(string provider, string model, long estimatedTokens, DateTimeOffset? deadline,
        Action<string, TimeSpan>? waited, CancellationToken cancellation)
    {
        if (Options.For(provider, model) is not { } limit) return null;
        var buckets = _buckets.GetOrAdd((provider, model), _ => new Buckets(limit, Time, Time.GetTimestamp()));
        if (limit.TokensPerMinute is { } tpm && estimatedTokens > tpm)
        {
            Count(provider, model, TelemetryNames.LlmRateLimits.TokensPerMinute);
            throw new LlmRateLimitException(TelemetryNames.LlmRateLimits.TokensPerMinute, string.Create(CultureInfo.InvariantCulture,
                $"The call to {provider} model '{model}' is estimated at {estimatedTokens} tokens, more than its limit of {tpm} tokens per minute " +
                $"({limit}), so it could never be sent. Raise the limit or lower max_tokens. The call was not sent."));
        }
        var (wait, reason) = buckets.Reserve(estimatedTokens, Time.GetTimestamp());
        var lease = new RateLimitLease(this, buckets, estimatedTokens);
        if (wait <= TimeSpan.Zero) return lease;
        Count(provider, model, reason);
        var now = Time.GetUtcNow();
        if (deadline is { } end && now + wait > end)
        {
            lease.Cancel();
            throw new LlmRateLimitException(reason, string.Create(CultureInfo.InvariantCulture,
                $"The call to {provider} model '{model}' would wait {wait.TotalSeconds:0.###} s for its {Describe(reason)} limit ({limit}), " +
                $"past the run's deadline at {end:O} ({(end - now).TotalSeconds:0.###} s left). The call was not sent."));
        }
        waited?.Invoke(reason, wait);
        Record(provider, model, reason, wait);
        try
        {
            await Task.Delay(wait, Time, cancellation).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            lease.Cancel();
            throw;
        }
        return lease;
    }

    internal static string Describe(string reason) => reason switch
    {
        TelemetryNames.LlmRateLimits.RequestsPerMinute => "requests-per-minute",
        TelemetryNames.LlmRateLimits.TokensPerMinute => "tokens-per-minute",
        _ => "provider's",
    };

    internal static void Count(string provider, string model, string reason)
    {
        if (!GenAiInstruments.RateLimited.Enabled) return;
        GenAiInstruments.RateLimited.Add(1, Tags(provider, model, reason));
    }

    internal static void Record(string provider, string model, string reason, TimeSpan wait)
    {
        if (!GenAiInstruments.RateLimitWait.Enabled) return;
        GenAiInstruments.RateLimitWait.Record(wait.TotalSeconds, Tags(provider, model, reason));
    }

    private static TagList Tags(string provider, string model, string reason) => new()
    {
        { TelemetryNames.LlmLabels.Provider, provider },
        { TelemetryNames.LlmLabels.Model, LabelValueBound.Models.Bound(TelemetryNames.LlmLabels.Model, model) },
        { TelemetryNames.LlmRateLimits.ReasonLabel, reason },
    };

    /// <summary>The request and token buckets of one provider and model; levels may go below zero (calls waiting their turn).</summary>
    internal sealed class Buckets(LlmRateLimit limit, TimeProvider time, long createdAt)
    {
        private readonly Lock _lock = new();
        private double _requests = limit.RequestsPerMinute ?? 0;
        private double _tokens = limit.TokensPerMinute ?? 0;
        private long _at = createdAt;

        public (TimeSpan Wait, string Reason) Reserve(long tokens, long now)
        {
            lock (_lock)
            {
                Refill(now);
                var requestWait = 0.0;
                var tokenWait = 0.0;
                // Per minute rather than per second, so whole amounts give whole waits (1 of 2 a minute: 30 s).
                if (limit.RequestsPerMinute is { } rpm)
                {
                    _requests -= 1;
                    if (_requests < 0) requestWait = -_requests * 60.0 / rpm;
                }
                if (limit.TokensPerMinute is { } tpm)
                {
                    _tokens -= tokens;
                    if (_tokens < 0) tokenWait = -_tokens * 60.0 / tpm;
                }
                return tokenWait > requestWait
                    ? (TimeSpan.FromSeconds(tokenWait), TelemetryNames.LlmRateLimits.TokensPerMinute)
                    : (TimeSpan.FromSeconds(requestWait), TelemetryNames.LlmRateLimits.RequestsPerMinute);
            }
        }

        /// <summary>Gives back requests and tokens (negative tokens take more), never above the per-minute amounts.</summary>
        public void Return(double requests, double tokens, long now)
        {
            lock (_lock)
            {
                Refill(now);
                if (limit.RequestsPerMinute is { } rpm) _requests = Math.Min(rpm, _requests + requests);
                if (limit.TokensPerMinute is { } tpm) _tokens = Math.Min(tpm, _tokens + tokens);
            }
        }

        private void Refill(long now)
        {
            var minutes = time.GetElapsedTime(_at, now).TotalSeconds / 60.0;
            if (minutes <= 0) return;
            _at = now;
            if (limit.RequestsPerMinute is { } rpm) _requests = Math.Min(rpm, _requests + minutes * rpm);
            if (limit.TokensPerMinute is { } tpm) _tokens = Math.Min(tpm, _tokens + minutes * tpm);
        }
    }
}

/// <summary>What one call took from its buckets; <see cref="Settle"/> swaps the estimate for the reported usage.</summary>
public sealed class RateLimitLease
{
    private readonly LlmRateLimiter _limiter;
    private readonly LlmRateLimiter.Buckets _buckets;
    private readonly long _estimate;
    private int _done;

    internal RateLimitLease(LlmRateLimiter limiter, LlmRateLimiter.Buckets buckets, long estimate)
    {
        _limiter = limiter;
        _buckets = buckets;
        _estimate = estimate;
    }

    /// <summary>The call went out: its tokens count as the provider reported them (null: the estimate stands).</summary>
    public void Settle(long? actualTokens)
    {
        if (Interlocked.Exchange(ref _done, 1) != 0 || actualTokens is not { } actual) return;
        _buckets.Return(0, _estimate - actual, _limiter.Time.GetTimestamp());
    }

    /// <summary>The call never went out: the request and the tokens go back.</summary>
    internal void Cancel()
    {
        if (Interlocked.Exchange(ref _done, 1) != 0) return;
        _buckets.Return(1, _estimate, _limiter.Time.GetTimestamp());
    }
}
