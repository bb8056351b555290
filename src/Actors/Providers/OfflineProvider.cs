using Microsoft.Extensions.AI;
using TtaActors.Actors.Llm;

namespace TtaActors.Llm.Providers;

/// <summary>The offline model (<see cref="OfflineChatClient"/>): always configured, the default when no key is set.</summary>
public sealed class OfflineProvider : ILlmProvider
{
    /// <inheritdoc />
    public string Name => LlmProviderNames.Offline;
    /// <inheritdoc />
    public string DefaultModel => OfflineChatClient.ModelName;
    /// <inheritdoc />
    public bool IsConfigured => true;

    /// <inheritdoc />
    public IChatClient CreateChatClient(string model, LlmSettings settings) => new OfflineChatClient();

    /// <inheritdoc />
    public int CountInputTokens(IReadOnlyList<ChatMessage> messages) => OfflineChatClient.CountInputTokens(messages);

    /// <inheritdoc />
    public void Dispose()
    {
    }
}
