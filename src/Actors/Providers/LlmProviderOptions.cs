using TtaActors.Actors.Llm;

namespace TtaActors.Llm.Providers;

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

    /// <summary>
    /// Reads <c>OPENAI_API_KEY</c>, <c>OPENAI_BASE_URL</c>, <c>ANTHROPIC_API_KEY</c> and <c>ANTHROPIC_BASE_URL</c>; a base
    /// URL that is not http(s) throws <see cref="LlmConfigurationException"/> naming the variable.
    /// </summary>
    public static LlmProviderOptions FromEnvironment(Func<string, string?>? read = null)
    {
        read ??= Environment.GetEnvironmentVariable;
        return new LlmProviderOptions
        {
            OpenAiApiKey = NonEmpty(read("OPENAI_API_KEY")),
            OpenAiBaseUrl = Url(read, "OPENAI_BASE_URL"),
            AnthropicApiKey = NonEmpty(read("ANTHROPIC_API_KEY")),
            AnthropicBaseUrl = Url(read, "ANTHROPIC_BASE_URL"),
        };
    }

    /// <summary>Which providers have a key and where they are reached; never the keys.</summary>
    public override string ToString() =>
        $"OpenAI {(OpenAiApiKey is null ? "no key" : "key set")} at {OpenAiBaseUrl?.ToString() ?? "default URL"}, " +
        $"Anthropic {(AnthropicApiKey is null ? "no key" : "key set")} at {AnthropicBaseUrl?.ToString() ?? "default URL"}";

    private static Uri? Url(Func<string, string?> read, string key)
    {
        if (NonEmpty(read(key)) is not { } text) return null;
        if (Uri.TryCreate(text, UriKind.Absolute, out var url) && (url.Scheme == Uri.UriSchemeHttp || url.Scheme == Uri.UriSchemeHttps)) return url;
        throw new LlmConfigurationException($"{key}: '{text}' is not an http(s) URL.");
    }

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}
