using System.ClientModel;
using System.Globalization;
using System.Text.Json;
using Anthropic;
using Microsoft.Extensions.AI;
using TtaActors.Actors.Llm.Prompts;
using OpenAI;
using Akka.Configuration;
using TtaActors.Actors.Llm.RateLimits;
using TtaActors.Telemetry;
using TtaActors.Telemetry.Llm;

namespace TtaActors.Actors.Llm;

/// <summary>An LLM configuration a workflow cannot run with; the message names the setting and what to do.</summary>
public sealed class LlmConfigurationException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>A chat client with the provider and model it talks to, as they appear in telemetry and cost lookups.</summary>
public sealed record LlmClient(IChatClient Chat, string Provider, string Model);

/// <summary>How to reach each provider: keys and base URLs, from the providers' usual environment variables.</summary>
public sealed class LlmProviderOptions
{
    /// <summary><c>OPENAI_API_KEY</c>; never printed, logged or recorded (it is redacted from captured text).</summary>
    public string? OpenAiApiKey { get; init; }

    /// <summary><c>OPENAI_BASE_URL</c>: any OpenAI-compatible server (Ollama, vLLM, a proxy); default api.openai.com.</summary>
    public Uri? OpenAiBaseUrl { get; init; }

    /// <summary><c>ANTHROPIC_API_KEY</c>; never printed, logged or recorded (it is redacted from captured text).</summary>
    public string? AnthropicApiKey { get; init; }
    /// <summary><c>ANTHROPIC_BASE_URL</c>: another Anthropic-compatible endpoint; default api.anthropic.com.</summary>
    public Uri? AnthropicBaseUrl { get; init; }

    /// <summary>Time one provider request may take.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(120);

    /// <summary>Retries the provider SDKs make on 429/5xx before a call fails (a Retry primitive can add more).</summary>
    public int MaxRetries { get; init; } = 2;

    /// <summary><c>TTA_LLM_PROVIDER</c> and <c>TTA_LLM_MODEL</c>: what steps use when they name no provider or model.</summary>
    public string? DefaultProvider { get; init; }
    /// <summary>The model used when a step names none (<c>TTA_LLM_MODEL</c>).</summary>
    public string? DefaultModel { get; init; }

    /// <summary>Which providers have a key and where they are reached; never the keys.</summary>
    public override string ToString() =>
        $"OpenAI {(OpenAiApiKey is null ? "no key" : "key set")} at {OpenAiBaseUrl?.ToString() ?? "default URL"}, " +
        $"Anthropic {(AnthropicApiKey is null ? "no key" : "key set")} at {AnthropicBaseUrl?.ToString() ?? "default URL"}";
}

/// <summary>
/// Everything LLM steps need from configuration: how to reach providers, what models cost, and what of prompts and
/// completions may be recorded. One instance per process; it creates one client per provider and reuses it.
/// </summary>
public sealed class LlmSettings : IDisposable
{
    /// <summary>The OpenAI provider (and OpenAI-compatible servers).</summary>
    public const string OpenAi = "openai";
    /// <summary>The Anthropic provider.</summary>
    public const string Anthropic = "anthropic";
    /// <summary>The built-in offline model (<see cref="OfflineChatClient"/>), which needs no key.</summary>
    public const string Offline = OfflineChatClient.ProviderName;
    /// <summary>The providers a step may name.</summary>
    public static readonly IReadOnlyList<string> KnownProviders = [OpenAi, Anthropic, Offline];

    private readonly object _gate = new();
    private OpenAIClient? _openAi;
    private AnthropicClient? _anthropic;
    private readonly List<HttpClient> _http = [];

    /// <param name="providers">Keys and base URLs; none when null (only the offline model works).</param>
    /// <param name="costs">Model prices; <see cref="CostCatalog.Default"/> when null.</param>
    /// <param name="capture">What of prompts and completions is recorded; <see cref="CapturePolicy.Default"/> when null. The provider keys are always redacted.</param>
    /// <param name="budget">Spending limits of each run; none when null.</param>
    /// <param name="rateLimits">Requests- and tokens-per-minute limits; none when null.</param>
    /// <param name="time">The clock of the rate limits; the system clock when null.</param>
    public LlmSettings(LlmProviderOptions? providers = null, CostCatalog? costs = null, CapturePolicy? capture = null, LlmBudget? budget = null,
        LlmRateLimitOptions? rateLimits = null, TimeProvider? time = null)
    {
        Budget = budget ?? LlmBudget.None;
        RateLimits = new LlmRateLimiter(rateLimits ?? LlmRateLimitOptions.None, time ?? TimeProvider.System);
        Providers = providers ?? new LlmProviderOptions();
        Costs = costs ?? CostCatalog.Default;
        Capture = (capture ?? CapturePolicy.Default).WithSecrets([Providers.OpenAiApiKey, Providers.AnthropicApiKey]);
    }

    /// <summary>Keys and base URLs of the providers.</summary>
    public LlmProviderOptions Providers { get; }
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
    /// Reads <c>OPENAI_API_KEY</c>, <c>OPENAI_BASE_URL</c>, <c>ANTHROPIC_API_KEY</c>, <c>ANTHROPIC_BASE_URL</c>,
    /// <c>TTA_LLM_PROVIDER</c>, <c>TTA_LLM_MODEL</c>, <c>TTA_LLM_PRICES_FILE</c>, <c>TTA_LLM_CAPTURE</c> (on|off),
    /// <c>TTA_LLM_CAPTURE_MAX_CHARS</c>, <c>TTA_LLM_REDACT_PATTERNS</c> (a JSON array of regular expressions),
    /// <c>TTA_LLM_RUN_MAX_COST_USD</c> and <c>TTA_LLM_RUN_MAX_TOKENS</c> (per-run budgets), the rate limits
    /// (<see cref="LlmRateLimitOptions"/>: <c>tta.llm</c> in <paramref name="config"/>, then <c>TTA_LLM_RATE_LIMITS</c> and
    /// its companions) and <c>OTEL_SEMCONV_STABILITY_OPT_IN</c> (which GenAI convention names spans carry).
    /// A bad value throws naming the variable or key.
    /// </summary>
    public static LlmSettings FromEnvironment(Func<string, string?>? read = null, Config? config = null)
    {
        read ??= Environment.GetEnvironmentVariable;
        var providers = new LlmProviderOptions
        {
            OpenAiApiKey = NonEmpty(read("OPENAI_API_KEY")),
            OpenAiBaseUrl = Url(read, "OPENAI_BASE_URL"),
            AnthropicApiKey = NonEmpty(read("ANTHROPIC_API_KEY")),
            AnthropicBaseUrl = Url(read, "ANTHROPIC_BASE_URL"),
            DefaultProvider = NonEmpty(read("TTA_LLM_PROVIDER"))?.ToLowerInvariant(),
            DefaultModel = NonEmpty(read("TTA_LLM_MODEL")),
        };
        if (providers.DefaultProvider is { } provider && !KnownProviders.Contains(provider))
            throw new LlmConfigurationException(UnknownProvider(provider, "TTA_LLM_PROVIDER"));

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
        return new LlmSettings(providers, costs, capture, budget, LlmRateLimitOptions.Read(config, read))
        {
            Prompts = langfuse is null ? null : new LangfusePrompts(LangfusePromptOptions.From(langfuse)),
        };
    }

    /// <summary>
    /// The provider and model a step uses when it names none: <c>TTA_LLM_PROVIDER</c>/<c>TTA_LLM_MODEL</c>, else
    /// OpenAI when its key is set, else Anthropic when its key is set, else the offline model.
    /// </summary>
    public (string Provider, string Model) DefaultModel()
    {
        var provider = Providers.DefaultProvider
            ?? (Providers.OpenAiApiKey is not null ? OpenAi : Providers.AnthropicApiKey is not null ? Anthropic : Offline);
        var model = Providers.DefaultModel ?? provider switch
        {
            OpenAi => "gpt-4o-mini",
            Anthropic => "claude-haiku-4-5",
            _ => OfflineChatClient.ModelName,
        };
        return (provider, model);
    }

    /// <summary>A client for <paramref name="provider"/> and <paramref name="model"/>; an unknown provider or a missing key is a clear error.</summary>
    public LlmClient CreateClient(string? provider = null, string? model = null)
    {
        var (defaultProvider, defaultModel) = DefaultModel();
        provider = provider?.Trim().ToLowerInvariant() ?? defaultProvider;
        if (!KnownProviders.Contains(provider)) throw new LlmConfigurationException(UnknownProvider(provider, "the step's provider"));
        model ??= provider == defaultProvider ? defaultModel : null;
        if (string.IsNullOrWhiteSpace(model))
            throw new LlmConfigurationException($"An LLM step on provider '{provider}' needs a model name (or set TTA_LLM_MODEL).");
        var chat = provider switch
        {
            OpenAi => OpenAiClient().GetChatClient(model).AsIChatClient(),
            Anthropic => AnthropicClient().AsIChatClient(model),
            _ => new OfflineChatClient(),
        };
        return new LlmClient(chat, provider, model);
    }

    /// <summary>An LLM step on <paramref name="provider"/> and <paramref name="model"/> (defaults: <see cref="DefaultModel"/>).</summary>
    public LlmPrimitive Chat(string? provider = null, string? model = null, LlmStepOptions? options = null, string? name = null) =>
        new(CreateClient(provider, model), this, options, name);

    /// <summary>Disposes the provider clients and HTTP clients this instance made.</summary>
    public void Dispose()
    {
        _anthropic?.Dispose();
        Prompts?.Dispose();
        lock (_gate)
        {
            foreach (var http in _http) http.Dispose();
            _http.Clear();
        }
    }

    private OpenAIClient OpenAiClient()
    {
        lock (_gate)
        {
            if (_openAi is not null) return _openAi;
            // A local OpenAI-compatible server (Ollama, vLLM) takes no key, but the SDK insists on a credential.
            var key = Providers.OpenAiApiKey ?? (Providers.OpenAiBaseUrl is not null ? "no-key-needed" : null)
                ?? throw new LlmConfigurationException(
                    "LLM provider 'openai' needs OPENAI_API_KEY (or OPENAI_BASE_URL for an OpenAI-compatible server such as Ollama or vLLM).");
            var options = new OpenAIClientOptions
            {
                NetworkTimeout = Providers.RequestTimeout,
                RetryPolicy = new NoRateLimitRetryPolicy(Providers.MaxRetries),
                Transport = new System.ClientModel.Primitives.HttpClientPipelineTransport(ProviderHttp(OpenAi)),
            };
            if (Providers.OpenAiBaseUrl is { } url) options.Endpoint = url;
            return _openAi = new OpenAIClient(new ApiKeyCredential(key), options);
        }
    }

    private AnthropicClient AnthropicClient()
    {
        lock (_gate)
        {
            if (_anthropic is not null) return _anthropic;
            var key = Providers.AnthropicApiKey
                ?? throw new LlmConfigurationException("LLM provider 'anthropic' needs ANTHROPIC_API_KEY.");
            var client = new AnthropicClient
            {
                ApiKey = key,
                Timeout = Providers.RequestTimeout,
                MaxRetries = Providers.MaxRetries,
                HttpClient = ProviderHttp(Anthropic),
            };
            if (Providers.AnthropicBaseUrl is { } url) client = (AnthropicClient)client.WithOptions(o => o with { BaseUrl = url.ToString().TrimEnd('/') });
            return _anthropic = client;
        }
    }

    /// <summary>
    /// The HTTP client a provider's SDK sends through: 429s are waited out by <see cref="ProviderRateLimitHandler"/>; the
    /// SDK's own timeout applies, so the client has none of its own.
    /// </summary>
    private HttpClient ProviderHttp(string provider)
    {
        var http = new HttpClient(new ProviderRateLimitHandler(provider, RateLimits.Options, RateLimits.Time)) { Timeout = Timeout.InfiniteTimeSpan };
        _http.Add(http);
        return http;
    }

    private static string UnknownProvider(string provider, string where) =>
        $"Unknown LLM provider '{provider}' in {where}: use one of {string.Join(", ", KnownProviders)} " +
        "(any OpenAI-compatible server works as 'openai' with OPENAI_BASE_URL).";

    private static Uri? Url(Func<string, string?> read, string key)
    {
        if (NonEmpty(read(key)) is not { } text) return null;
        if (Uri.TryCreate(text, UriKind.Absolute, out var url) && (url.Scheme == Uri.UriSchemeHttp || url.Scheme == Uri.UriSchemeHttps)) return url;
        throw new LlmConfigurationException($"{key}: '{text}' is not an http(s) URL.");
    }

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}
