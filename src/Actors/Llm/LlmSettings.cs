using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.AI;
using TtaActors.Actors.Llm.Prompts;
using Akka.Configuration;
using TtaActors.Actors.Llm.RateLimits;
using TtaActors.Telemetry;
using TtaActors.Telemetry.Llm;

namespace TtaActors.Actors.Llm;

/// <summary>An LLM configuration a workflow cannot run with; the message names the setting and what to do.</summary>
public sealed class LlmConfigurationException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>A chat client with the provider and model it talks to, as they appear in telemetry and cost lookups.</summary>
public sealed record LlmClient(IChatClient Chat, string Provider, string Model)
{
    /// <summary>The input tokens of a request before it is sent (the provider's tokenizer, else an estimate).</summary>
    public Func<IReadOnlyList<ChatMessage>, int> CountInputTokens { get; init; } = LlmTokenEstimate.CountInputTokens;
}

/// <summary>
/// Everything LLM steps need from configuration: the registered providers (<see cref="ILlmProvider"/>, keyed by name),
/// what models cost, and what of prompts and completions may be recorded. One instance per process; it disposes its
/// providers. The <c>TtaActors.Llm.Providers</c> package builds one with OpenAI, Anthropic and the offline model
/// (<c>LlmProviders.FromEnvironment()</c>).
/// </summary>
public sealed class LlmSettings : IDisposable
{
    private readonly IReadOnlyList<ILlmProvider> _providers;
    private readonly object _gate = new();
    private readonly List<HttpClient> _http = [];

    /// <param name="providers">The providers steps may name (see the <c>TtaActors.Llm.Providers</c> package); none when null.</param>
    /// <param name="costs">Model prices; <see cref="CostCatalog.Default"/> when null.</param>
    /// <param name="capture">What of prompts and completions is recorded; <see cref="CapturePolicy.Default"/> when null. The providers' secrets are always redacted.</param>
    /// <param name="budget">Spending limits of each run; none when null.</param>
    /// <param name="rateLimits">Requests- and tokens-per-minute limits; none when null.</param>
    /// <param name="time">The clock of the rate limits; the system clock when null.</param>
    /// <exception cref="LlmConfigurationException">A provider name is registered twice.</exception>
    public LlmSettings(IEnumerable<ILlmProvider>? providers = null, CostCatalog? costs = null, CapturePolicy? capture = null, LlmBudget? budget = null,
        LlmRateLimitOptions? rateLimits = null, TimeProvider? time = null)
    {
        _providers = (providers ?? []).ToList();
        var twice = _providers.GroupBy(p => p.Name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (twice is not null) throw new LlmConfigurationException($"LLM provider '{twice.Key}' is registered {twice.Count()} times; register each name once.");
        Budget = budget ?? LlmBudget.None;
        RateLimits = new LlmRateLimiter(rateLimits ?? LlmRateLimitOptions.None, time ?? TimeProvider.System);
        Costs = costs ?? CostCatalog.Default;
        Capture = (capture ?? CapturePolicy.Default).WithSecrets(_providers.SelectMany(p => p.Secrets).ToArray());
    }

    /// <summary>The registered providers, in the order the default provider is looked for.</summary>
    public IReadOnlyList<ILlmProvider> Providers => _providers;

    /// <summary><c>TTA_LLM_PROVIDER</c>: the provider steps use when they name none (else the first configured one).</summary>
    public string? DefaultProviderName { get; init; }

    /// <summary><c>TTA_LLM_MODEL</c>: the model steps on the default provider use when they name none.</summary>
    public string? DefaultModelName { get; init; }

    /// <summary>Model prices.</summary>
    public CostCatalog Costs { get; }
    /// <summary>What of prompts and completions is recorded; the provider keys are always redacted.</summary>
    public CapturePolicy Capture { get; }

    /// <summary>The spending limits of each run, checked before every LLM call.</summary>
    public LlmBudget Budget { get; }

    /// <summary>Langfuse's prompt management, for steps with <see cref="LlmStepOptions.LangfusePrompt"/>; null without Langfuse keys.</summary>
    public LangfusePrompts? Prompts { get; init; }

    /// <summary>Requests and tokens per minute per provider and model, applied before every LLM call; and how 429s are retried.</summary>
    public LlmRateLimiter RateLimits { get; }

    /// <summary>
    /// Settings for <paramref name="providers"/> from the environment: <c>TTA_LLM_PROVIDER</c>, <c>TTA_LLM_MODEL</c>,
    /// <c>TTA_LLM_PRICES_FILE</c>, <c>TTA_LLM_CAPTURE</c> (on|off),
    /// <c>TTA_LLM_CAPTURE_MAX_CHARS</c>, <c>TTA_LLM_REDACT_PATTERNS</c> (a JSON array of regular expressions),
    /// <c>TTA_LLM_RUN_MAX_COST_USD</c> and <c>TTA_LLM_RUN_MAX_TOKENS</c> (per-run budgets), the rate limits
    /// (<see cref="LlmRateLimitOptions"/>: <c>tta.llm</c> in <paramref name="config"/>, then <c>TTA_LLM_RATE_LIMITS</c> and
    /// its companions), <c>OTEL_SEMCONV_STABILITY_OPT_IN</c> (which GenAI convention names spans carry) and the Langfuse
    /// keys (prompt management). The providers' own variables (<c>OPENAI_API_KEY</c>, ...) are read by the package that
    /// makes them (<c>LlmProviders.FromEnvironment()</c> in <c>TtaActors.Llm.Providers</c>). A bad value throws naming the
    /// variable or key.
    /// </summary>
    public static LlmSettings FromEnvironment(Func<string, string?>? read = null, Config? config = null, IEnumerable<ILlmProvider>? providers = null)
    {
        read ??= Environment.GetEnvironmentVariable;
        var registered = (providers ?? []).ToList();
        var defaultProvider = NonEmpty(read("TTA_LLM_PROVIDER"))?.ToLowerInvariant();
        if (defaultProvider is not null && registered.All(p => p.Name != defaultProvider))
            throw new LlmConfigurationException(NotRegistered(defaultProvider, "TTA_LLM_PROVIDER", registered));

        var costs = CostCatalog.Default;
        if (NonEmpty(read("TTA_LLM_PRICES_FILE")) is { } pricesFile)
        {
            try
            {
                costs = costs.With(CostCatalog.Load(pricesFile));
            }
            catch (Exception error) when (error is IOException or InvalidDataException or UnauthorizedAccessException)
            {
                throw new LlmConfigurationException($"TTA_LLM_PRICES_FILE: {error.Message}", error);
            }
        }

        var capture = CapturePolicy.Default with
        {
            Conventions = GenAiConventionsMode.Parse(read(TelemetryNames.GenAiConventions.StabilityOptInVariable)),
        };
        if (NonEmpty(read("TTA_LLM_CAPTURE")) is { } captureText)
        {
            capture = capture with
            {
                Enabled = captureText.ToLowerInvariant() switch
                {
                    "on" or "true" or "1" => true,
                    "off" or "false" or "0" => false,
                    _ => throw new LlmConfigurationException($"TTA_LLM_CAPTURE: '{captureText}' is not on or off."),
                },
            };
        }
        if (NonEmpty(read("TTA_LLM_CAPTURE_MAX_CHARS")) is { } maxText)
        {
            if (!int.TryParse(maxText, NumberStyles.None, CultureInfo.InvariantCulture, out var max) || max < 1)
                throw new LlmConfigurationException($"TTA_LLM_CAPTURE_MAX_CHARS: '{maxText}' is not a positive number of characters.");
            capture = capture with { MaxChars = max };
        }
        if (NonEmpty(read("TTA_LLM_REDACT_PATTERNS")) is { } patternsText)
        {
            string[] patterns;
            try
            {
                patterns = JsonSerializer.Deserialize<string[]>(patternsText) ?? [];
            }
            catch (JsonException error)
            {
                throw new LlmConfigurationException(
                    $"TTA_LLM_REDACT_PATTERNS: expected a JSON array of regular expressions such as [\"acct-[0-9]+\"]: {error.Message}", error);
            }
            try
            {
                capture = capture.WithPatterns(patterns);
            }
            catch (ArgumentException error)
            {
                throw new LlmConfigurationException($"TTA_LLM_REDACT_PATTERNS: {error.Message}", error);
            }
        }
        // Keys of other services must not be recorded either, should a prompt ever carry one.
        capture = capture.WithSecrets([read("LANGFUSE_SECRET_KEY"), read("LANGFUSE_PUBLIC_KEY")]);
        var budget = new LlmBudget
        {
            MaxRunCostUsd = NonEmpty(read("TTA_LLM_RUN_MAX_COST_USD")) is { } costText
                ? decimal.TryParse(costText, NumberStyles.Number, CultureInfo.InvariantCulture, out var maxCost) && maxCost >= 0 ? maxCost
                    : throw new LlmConfigurationException($"TTA_LLM_RUN_MAX_COST_USD: '{costText}' is not an amount of USD such as 0.50.")
                : null,
            MaxRunTokens = NonEmpty(read("TTA_LLM_RUN_MAX_TOKENS")) is { } tokensText
                ? long.TryParse(tokensText, NumberStyles.None, CultureInfo.InvariantCulture, out var maxTokens) ? maxTokens
                    : throw new LlmConfigurationException($"TTA_LLM_RUN_MAX_TOKENS: '{tokensText}' is not a whole number of tokens.")
                : null,
        };
        var langfuse = Telemetry.Export.Langfuse.LangfuseExporterOptions.FromEnvironment(read, out _);
        var rateLimits = LlmRateLimitOptions.Read(config, read, [.. LlmProviderNames.WellKnown, .. registered.Select(p => p.Name)]);
        return new LlmSettings(registered, costs, capture, budget, rateLimits)
        {
            DefaultProviderName = defaultProvider,
            DefaultModelName = NonEmpty(read("TTA_LLM_MODEL")),
            Prompts = langfuse is null ? null : new LangfusePrompts(LangfusePromptOptions.From(langfuse)),
        };
    }

    /// <summary>
    /// The provider and model a step uses when it names none: <c>TTA_LLM_PROVIDER</c>/<c>TTA_LLM_MODEL</c>, else the first
    /// registered provider that is configured (with the provider package: OpenAI when its key is set, else Anthropic when
    /// its key is set, else the offline model) and its default model. No provider registered is a clear error.
    /// </summary>
    public (string Provider, string Model) DefaultModel()
    {
        var provider = DefaultProvider();
        return (provider.Name, DefaultModelName ?? provider.DefaultModel);
    }

    /// <summary>
    /// A client for <paramref name="provider"/> and <paramref name="model"/>; a provider that is not registered (naming the
    /// package to add) or a missing key is a clear error.
    /// </summary>
    public LlmClient CreateClient(string? provider = null, string? model = null)
    {
        var name = provider?.Trim().ToLowerInvariant();
        var chosen = name is null ? DefaultProvider() : Find(name, "the step's provider");
        var isDefault = chosen == DefaultProvider();
        model ??= isDefault ? DefaultModelName ?? chosen.DefaultModel : null;
        if (string.IsNullOrWhiteSpace(model))
            throw new LlmConfigurationException($"An LLM step on provider '{chosen.Name}' needs a model name (or set TTA_LLM_MODEL).");
        return new LlmClient(chosen.CreateChatClient(model, this), chosen.Name, model) { CountInputTokens = chosen.CountInputTokens };
    }

    /// <summary>An LLM step on <paramref name="provider"/> and <paramref name="model"/> (defaults: <see cref="DefaultModel"/>).</summary>
    public LlmPrimitive Chat(string? provider = null, string? model = null, LlmStepOptions? options = null, string? name = null) =>
        new(CreateClient(provider, model), this, options, name);

    /// <summary>Disposes the provider clients and HTTP clients this instance made.</summary>
    public void Dispose()
    {
        foreach (var provider in _providers) provider.Dispose();
        Prompts?.Dispose();
        lock (_gate)
        {
            foreach (var http in _http) http.Dispose();
            _http.Clear();
        }
    }

    private ILlmProvider DefaultProvider()
    {
        if (DefaultProviderName is { } name) return Find(name, "TTA_LLM_PROVIDER");
        return _providers.FirstOrDefault(p => p.IsConfigured) ?? _providers.FirstOrDefault()
            ?? throw new LlmConfigurationException(
                $"No LLM provider is registered: add the {LlmProviderNames.Package} package (OpenAI, Anthropic and the offline model) and " +
                "build the settings with LlmProviders.FromEnvironment(), or give LlmSettings an ILlmProvider of your own.");
    }

    private ILlmProvider Find(string name, string where) =>
        _providers.FirstOrDefault(p => p.Name == name) ?? throw new LlmConfigurationException(NotRegistered(name, where, _providers));

    /// <summary>
    /// The HTTP client a provider's SDK sends through: 429s are waited out by <see cref="ProviderRateLimitHandler"/>
    /// under <see cref="RateLimits"/>; the SDK's own timeout applies, so the client has none of its own. The settings
    /// dispose it.
    /// </summary>
    public HttpClient CreateProviderHttpClient(string provider)
    {
        var http = new HttpClient(new ProviderRateLimitHandler(provider, RateLimits.Options, RateLimits.Time)) { Timeout = Timeout.InfiniteTimeSpan };
        lock (_gate) _http.Add(http);
        return http;
    }

    private static string NotRegistered(string provider, string where, IReadOnlyList<ILlmProvider> registered)
    {
        var names = registered.Count == 0 ? "none is registered" : "use one of " + string.Join(", ", registered.Select(p => p.Name));
        if (LlmProviderNames.WellKnown.Contains(provider) && registered.All(p => p.Name != provider))
            return $"LLM provider '{provider}' in {where} is not registered ({names}): add the {LlmProviderNames.Package} package " +
                   "and build the settings with LlmProviders.FromEnvironment() (or LlmProviders.Create()).";
        var hint = registered.Any(p => p.Name == LlmProviderNames.OpenAi)
            ? " (any OpenAI-compatible server works as 'openai' with OPENAI_BASE_URL)" : "";
        return $"Unknown LLM provider '{provider}' in {where}: {names}{hint}.";
    }

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}
