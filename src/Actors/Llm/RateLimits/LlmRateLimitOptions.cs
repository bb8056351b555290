using System.Globalization;
using Akka.Configuration;
using Akka.Configuration.Hocon;

namespace TtaActors.Actors.Llm.RateLimits;

/// <summary>
/// One client-side limit: requests and tokens (input plus output) per minute for a provider's model, or, without a model,
/// for each model of the provider that has no entry of its own.
/// </summary>
public sealed record LlmRateLimit(string Provider, string? Model, int? RequestsPerMinute, long? TokensPerMinute)
{
    /// <summary><c>provider/model rpm=N tpm=N</c>, with <c>*</c> for every model.</summary>
    public override string ToString() =>
        $"{Provider}/{Model ?? "*"}{(RequestsPerMinute is { } r ? $" rpm={r}" : "")}{(TokensPerMinute is { } t ? $" tpm={t}" : "")}";
}

/// <summary>
/// Rate limits of LLM calls, from HOCON (<c>tta.llm</c>) and the environment (<c>TTA_LLM_RATE_LIMITS</c>,
/// <c>TTA_LLM_RATE_LIMIT_MAX_RETRIES</c>, <c>TTA_LLM_RATE_LIMIT_MAX_RETRY_AFTER</c>; the environment wins).
/// </summary>
public sealed record LlmRateLimitOptions
{
    /// <summary>The HOCON section the options are read from.</summary>
    public const string Section = "tta.llm";
    /// <summary>The variable holding the limits.</summary>
    public const string LimitsVariable = "TTA_LLM_RATE_LIMITS";
    /// <summary>The variable overriding <see cref="MaxRetries"/>.</summary>
    public const string MaxRetriesVariable = "TTA_LLM_RATE_LIMIT_MAX_RETRIES";
    /// <summary>The variable overriding <see cref="MaxRetryAfter"/>.</summary>
    public const string MaxRetryAfterVariable = "TTA_LLM_RATE_LIMIT_MAX_RETRY_AFTER";

    /// <summary>The most entries a configuration may hold (each gets buckets per model it is used with).</summary>
    public const int MaxEntries = 256;

    /// <summary>The most retries of a 429 <see cref="MaxRetries"/> may ask for.</summary>
    public const int MaxRetriesLimit = 10;

    /// <summary>No limits, the default retries.</summary>
    public static LlmRateLimitOptions None { get; } = new();

    /// <summary>The limits; a call of a provider and model without a matching entry is not limited.</summary>
    public IReadOnlyList<LlmRateLimit> Limits { get; init; } = [];

    /// <summary>Times one call is sent again after a provider's 429 before the step fails (default 3, 0 to 10).</summary>
    public int MaxRetries { get; init; } = 3;

    /// <summary>
    /// The longest Retry-After honoured (default 60 s); a provider asking for a longer wait fails the step at once. The waits
    /// count toward the provider request timeout (120 s), so this stays below it.
    /// </summary>
    public TimeSpan MaxRetryAfter { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>The wait after a 429 without a usable Retry-After: 1 s, doubling per retry.</summary>
    public TimeSpan DefaultRetryAfter { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The limit a call to <paramref name="provider"/>'s <paramref name="model"/> is held to, or null.</summary>
    public LlmRateLimit? For(string provider, string model) =>
        Limits.FirstOrDefault(l => l.Provider == provider && l.Model == model) ?? Limits.FirstOrDefault(l => l.Provider == provider && l.Model is null);

    /// <summary>
    /// The options in the <c>tta.llm</c> section of <paramref name="config"/> (when given), with the environment's on top.
    /// A bad value throws <see cref="LlmConfigurationException"/> naming the key or variable; so does a provider not in
    /// <paramref name="providers"/> (default: <see cref="LlmProviderNames.WellKnown"/>).
    /// </summary>
    public static LlmRateLimitOptions Read(Config? config, Func<string, string?> read, IReadOnlyCollection<string>? providers = null)
    {
        var known = providers ?? LlmProviderNames.WellKnown;
        var options = new LlmRateLimitOptions();
        if (config is not null && config.HasPath(Section))
        {
            var section = config.GetConfig(Section);
            if (section.HasPath("rate-limits"))
            {
                var entries = section.GetValue("rate-limits").GetArray();
                options = options with { Limits = entries.Select((entry, i) => FromHocon(entry, i, known)).ToList() };
            }
            if (section.HasPath("rate-limit-max-retries"))
                options = options with { MaxRetries = Retries(section.GetString("rate-limit-max-retries"), $"{Section}.rate-limit-max-retries") };
            if (section.HasPath("rate-limit-max-retry-after"))
                options = options with { MaxRetryAfter = Positive(section.GetTimeSpan("rate-limit-max-retry-after"), $"{Section}.rate-limit-max-retry-after") };
        }
        if (NonEmpty(read(LimitsVariable)) is { } text)
        {
            var fromEnvironment = ParseList(text, LimitsVariable, known);
            var kept = options.Limits.Where(l => !fromEnvironment.Any(e => e.Provider == l.Provider && e.Model == l.Model));
            options = options with { Limits = [.. kept, .. fromEnvironment] };
        }
        if (NonEmpty(read(MaxRetriesVariable)) is { } retries) options = options with { MaxRetries = Retries(retries, MaxRetriesVariable) };
        if (NonEmpty(read(MaxRetryAfterVariable)) is { } after)
        {
            if (!double.TryParse(after, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) || !double.IsFinite(seconds))
                throw new LlmConfigurationException($"{MaxRetryAfterVariable}: '{after}' is not a number of seconds such as 300.");
            options = options with { MaxRetryAfter = Positive(TimeSpan.FromSeconds(seconds), MaxRetryAfterVariable) };
        }
        if (options.Limits.Count > MaxEntries)
            throw new LlmConfigurationException($"{LimitsVariable} and {Section}.rate-limits: {options.Limits.Count} entries, at most {MaxEntries} are allowed.");
        return options;
    }

    /// <summary>
    /// Parses <c>TTA_LLM_RATE_LIMITS</c>: entries separated by <c>;</c>, each <c>provider[/model]</c> followed by
    /// <c>rpm=N</c> and/or <c>tpm=N</c>, e.g. <c>openai/gpt-4o-mini rpm=500 tpm=200000; anthropic rpm=50</c>.
    /// </summary>
    public static IReadOnlyList<LlmRateLimit> ParseList(string text, string where, IReadOnlyCollection<string>? providers = null)
    {
        var limits = new List<LlmRateLimit>();
        foreach (var entry in text.Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var fields = entry.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            var target = fields[0];
            var slash = target.IndexOf('/');
            var provider = slash < 0 ? target : target[..slash];
            var model = slash < 0 ? null : target[(slash + 1)..];
            int? rpm = null;
            long? tpm = null;
            foreach (var field in fields.Skip(1))
            {
                var eq = field.IndexOf('=');
                var key = eq < 0 ? field : field[..eq].ToLowerInvariant();
                var value = eq < 0 ? "" : field[(eq + 1)..];
                switch (key)
                {
                    case "rpm":
                        rpm = (int)Count(value, $"{where}: entry '{entry}', rpm", int.MaxValue);
                        break;
                    case "tpm":
                        tpm = Count(value, $"{where}: entry '{entry}', tpm", long.MaxValue);
                        break;
                    default:
                        throw new LlmConfigurationException(
                            $"{where}: entry '{entry}' has '{field}'; use rpm=N and tpm=N, e.g. 'openai/gpt-4o-mini rpm=500 tpm=200000'.");
                }
            }
            limits.Add(Check(provider, model, rpm, tpm, $"{where}: entry '{entry}'", providers ?? LlmProviderNames.WellKnown));
        }
        return limits;
    }

    private static LlmRateLimit FromHocon(HoconValue entry, int index, IReadOnlyCollection<string> providers)
    {
        var where = $"{Section}.rate-limits[{index}]";
        if (!entry.IsObject()) throw new LlmConfigurationException($"{where}: expected an object such as {{ provider = openai, model = gpt-4o-mini, requests-per-minute = 500 }}.");
        var fields = entry.GetObject();
        string? Text(string key) => fields.Items.TryGetValue(key, out var value) ? value.GetString() : null;
        long? Number(string key, long max) => Text(key) is { } text ? Count(text, $"{where}.{key}", max) : null;
        var unknown = fields.Items.Keys.FirstOrDefault(k => k is not ("provider" or "model" or "requests-per-minute" or "tokens-per-minute"));
        if (unknown is not null)
            throw new LlmConfigurationException($"{where}: unknown key '{unknown}'; use provider, model, requests-per-minute, tokens-per-minute.");
        return Check(Text("provider") ?? "", NonEmpty(Text("model")), (int?)Number("requests-per-minute", int.MaxValue),
            Number("tokens-per-minute", long.MaxValue), where, providers);
    }

    private static LlmRateLimit Check(string provider, string? model, int? rpm, long? tpm, string where, IReadOnlyCollection<string> providers)
    {
        provider = provider.Trim().ToLowerInvariant();
        if (!providers.Contains(provider))
            throw new LlmConfigurationException($"{where}: unknown provider '{provider}'; use one of {string.Join(", ", providers.Distinct())}.");
        if (model is "*" or "") model = null;
        if (model is { Length: > 200 }) throw new LlmConfigurationException($"{where}: the model name is longer than 200 characters.");
        if (rpm is null && tpm is null) throw new LlmConfigurationException($"{where}: give requests per minute, tokens per minute or both.");
        return new LlmRateLimit(provider, model, rpm, tpm);
    }

    private static long Count(string text, string where, long max)
    {
        if (!long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value < 1 || value > max)
            throw new LlmConfigurationException($"{where}: '{text}' is not a whole number from 1 to {max}.");
        return value;
    }

    private static int Retries(string text, string where)
    {
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value > MaxRetriesLimit)
            throw new LlmConfigurationException($"{where}: '{text}' is not a number of retries from 0 to {MaxRetriesLimit}.");
        return value;
    }

    private static TimeSpan Positive(TimeSpan value, string where) =>
        value > TimeSpan.Zero && value <= TimeSpan.FromHours(1)
            ? value
            : throw new LlmConfigurationException($"{where}: {value} is not a wait from above 0 up to 1 hour.");

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}
