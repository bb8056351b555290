using Microsoft.Extensions.AI;

namespace TtaActors.Actors.Llm;

/// <summary>
/// One LLM provider an <see cref="LlmSettings"/> can make chat clients for, keyed by <see cref="Name"/> (the
/// <c>provider</c> of a step and of a workflow file, and <c>gen_ai.provider.name</c> in telemetry). The core ships none:
/// the <c>TtaActors.Llm.Providers</c> package has OpenAI, Anthropic and the offline model; a host can register its own.
/// An instance belongs to the one <see cref="LlmSettings"/> it is given to, which disposes it.
/// </summary>
public interface ILlmProvider : IDisposable
{
    /// <summary>The provider's name, lower case: <c>openai</c>, <c>anthropic</c>, <c>offline</c>, or a host's own.</summary>
    string Name { get; }

    /// <summary>The model a step on this provider uses when it names none and <c>TTA_LLM_MODEL</c> is not set.</summary>
    string DefaultModel { get; }

    /// <summary>
    /// Whether the provider can be used without further configuration (its key is set); the first registered provider that
    /// is becomes the default when <c>TTA_LLM_PROVIDER</c> names none.
    /// </summary>
    bool IsConfigured { get; }

    /// <summary>Values that must never be recorded in spans or logs (API keys); the capture policy redacts them.</summary>
    IEnumerable<string?> Secrets => [];

    /// <summary>
    /// A chat client for <paramref name="model"/>. HTTP providers send through
    /// <see cref="LlmSettings.CreateProviderHttpClient"/> so that 429s are waited out by the rate-limit settings. A missing
    /// key throws <see cref="LlmConfigurationException"/> naming the variable to set.
    /// </summary>
    IChatClient CreateChatClient(string model, LlmSettings settings);

    /// <summary>The input tokens of a request before it is sent, for the tokens-per-minute limits; by default an estimate.</summary>
    int CountInputTokens(IReadOnlyList<ChatMessage> messages) => LlmTokenEstimate.CountInputTokens(messages);
}

/// <summary>The names of the providers the <c>TtaActors.Llm.Providers</c> package registers, for errors that say what to add.</summary>
public static class LlmProviderNames
{
    /// <summary>The OpenAI provider (and OpenAI-compatible servers).</summary>
    public const string OpenAi = "openai";
    /// <summary>The Anthropic provider.</summary>
    public const string Anthropic = "anthropic";
    /// <summary>The built-in offline model, which needs no key.</summary>
    public const string Offline = "offline";

    /// <summary>The package that holds <see cref="OpenAi"/>, <see cref="Anthropic"/> and <see cref="Offline"/>.</summary>
    public const string Package = "TtaActors.Llm.Providers";

    /// <summary>The providers the package registers, in the order the default provider is looked for.</summary>
    public static readonly IReadOnlyList<string> WellKnown = [OpenAi, Anthropic, Offline];
}

/// <summary>A token count without a tokenizer: about four characters a token, plus OpenAI's per-message overhead.</summary>
public static class LlmTokenEstimate
{
    /// <summary>3 per message, its role and its content at four characters a token, and 3 priming the reply.</summary>
    public static int CountInputTokens(IReadOnlyList<ChatMessage> messages)
    {
        long total = 3;
        foreach (var message in messages) total += 3 + (message.Role.Value.Length + (message.Text?.Length ?? 0) + 3) / 4;
        return (int)Math.Min(total, int.MaxValue);
    }
}
