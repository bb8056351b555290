using Akka.Configuration;
using TtaActors.Actors.Llm;

namespace TtaActors.Llm.Providers;

/// <summary>
/// The providers of this package for <see cref="LlmSettings"/>: OpenAI, Anthropic and the offline model, in the order the
/// default provider is looked for (OpenAI when its key is set, else Anthropic when its key is set, else offline).
/// </summary>
public static class LlmProviders
{
    /// <summary>OpenAI, Anthropic and the offline model, reached as <paramref name="options"/> says (default: no keys).</summary>
    public static IReadOnlyList<ILlmProvider> Create(LlmProviderOptions? options = null)
    {
        options ??= new LlmProviderOptions();
        return [new OpenAiProvider(options), new AnthropicProvider(options), new OfflineProvider()];
    }

    /// <summary>
    /// <see cref="LlmSettings.FromEnvironment"/> with this package's providers, reached as
    /// <see cref="LlmProviderOptions.FromEnvironment"/> reads them (<c>OPENAI_API_KEY</c>, <c>OPENAI_BASE_URL</c>,
    /// <c>ANTHROPIC_API_KEY</c>, <c>ANTHROPIC_BASE_URL</c>).
    /// </summary>
    public static LlmSettings FromEnvironment(Func<string, string?>? read = null, Config? config = null)
    {
        read ??= Environment.GetEnvironmentVariable;
        return LlmSettings.FromEnvironment(read, config, Create(LlmProviderOptions.FromEnvironment(read)));
    }
}
