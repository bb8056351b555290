using System.ClientModel;
using System.ClientModel.Primitives;
using System.Net;
using Microsoft.Extensions.AI;
using OpenAI;
using TtaActors.Actors.Llm;

namespace TtaActors.Llm.Providers;

/// <summary>
/// OpenAI, or any OpenAI-compatible server (Ollama, vLLM, a proxy) at <see cref="LlmProviderOptions.OpenAiBaseUrl"/>.
/// One SDK client for all models, made at the first call; input tokens are counted with the o200k tokenizer.
/// </summary>
public sealed class OpenAiProvider(LlmProviderOptions options) : ILlmProvider
{
    private readonly object _gate = new();
    private OpenAIClient? _client;

    /// <inheritdoc />
    public string Name => LlmProviderNames.OpenAi;
    /// <inheritdoc />
    public string DefaultModel => "gpt-4o-mini";
    /// <inheritdoc />
    public bool IsConfigured => options.OpenAiApiKey is not null;
    /// <inheritdoc />
    public IEnumerable<string?> Secrets => [options.OpenAiApiKey];

    /// <inheritdoc />
    public IChatClient CreateChatClient(string model, LlmSettings settings) => Client(settings).GetChatClient(model).AsIChatClient();

    /// <inheritdoc />
    public int CountInputTokens(IReadOnlyList<ChatMessage> messages) => OfflineChatClient.CountInputTokens(messages);

    /// <inheritdoc />
    public void Dispose()
    {
    }

    private OpenAIClient Client(LlmSettings settings)
    {
        lock (_gate)
        {
            if (_client is not null) return _client;
            // A local OpenAI-compatible server (Ollama, vLLM) takes no key, but the SDK insists on a credential.
            var key = options.OpenAiApiKey ?? (options.OpenAiBaseUrl is not null ? "no-key-needed" : null)
                ?? throw new LlmConfigurationException(
                    "LLM provider 'openai' needs OPENAI_API_KEY (or OPENAI_BASE_URL for an OpenAI-compatible server such as Ollama or vLLM).");
            var clientOptions = new OpenAIClientOptions
            {
                NetworkTimeout = options.RequestTimeout,
                RetryPolicy = new NoRateLimitRetryPolicy(options.MaxRetries),
                Transport = new HttpClientPipelineTransport(settings.CreateProviderHttpClient(Name)),
            };
            if (options.OpenAiBaseUrl is { } url) clientOptions.Endpoint = url;
            return _client = new OpenAIClient(new ApiKeyCredential(key), clientOptions);
        }
    }
}

/// <summary>OpenAI's retry policy, less its retries of 429: the settings' provider HTTP client has waited those out already.</summary>
internal sealed class NoRateLimitRetryPolicy(int maxRetries) : ClientRetryPolicy(maxRetries)
{
    protected override bool ShouldRetry(PipelineMessage message, Exception? exception) =>
        message.Response?.Status != (int)HttpStatusCode.TooManyRequests && base.ShouldRetry(message, exception);

    protected override ValueTask<bool> ShouldRetryAsync(PipelineMessage message, Exception? exception) =>
        message.Response?.Status == (int)HttpStatusCode.TooManyRequests ? ValueTask.FromResult(false) : base.ShouldRetryAsync(message, exception);
}
