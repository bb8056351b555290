using Anthropic;
using Microsoft.Extensions.AI;
using TtaActors.Actors.Llm;

namespace TtaActors.Llm.Providers;

/// <summary>
/// Anthropic's Messages API (<see cref="LlmProviderOptions.AnthropicApiKey"/>, optionally at
/// <see cref="LlmProviderOptions.AnthropicBaseUrl"/>). One SDK client for all models, made at the first call; input
/// tokens are estimated with the o200k tokenizer (Anthropic publishes no local tokenizer).
/// </summary>
public sealed class AnthropicProvider(LlmProviderOptions options) : ILlmProvider
{
    private readonly object _gate = new();
    private AnthropicClient? _client;

    /// <inheritdoc />
    public string Name => LlmProviderNames.Anthropic;
    /// <inheritdoc />
    public string DefaultModel => "claude-haiku-4-5";
    /// <inheritdoc />
    public bool IsConfigured => options.AnthropicApiKey is not null;
    /// <inheritdoc />
    public IEnumerable<string?> Secrets => [options.AnthropicApiKey];

    /// <inheritdoc />
    public IChatClient CreateChatClient(string model, LlmSettings settings) => Client(settings).AsIChatClient(model);

    /// <inheritdoc />
    public int CountInputTokens(IReadOnlyList<ChatMessage> messages) => OfflineChatClient.CountInputTokens(messages);

    /// <inheritdoc />
    public void Dispose()
    {
        lock (_gate) _client?.Dispose();
    }

    private AnthropicClient Client(LlmSettings settings)
    {
        lock (_gate)
        {
            if (_client is not null) return _client;
            var key = options.AnthropicApiKey
                ?? throw new LlmConfigurationException("LLM provider 'anthropic' needs ANTHROPIC_API_KEY.");
            var client = new AnthropicClient
            {
                ApiKey = key,
                Timeout = options.RequestTimeout,
                MaxRetries = options.MaxRetries,
                HttpClient = settings.CreateProviderHttpClient(Name),
            };
            if (options.AnthropicBaseUrl is { } url) client = (AnthropicClient)client.WithOptions(o => o with { BaseUrl = url.ToString().TrimEnd('/') });
            return _client = client;
        }
    }
}
