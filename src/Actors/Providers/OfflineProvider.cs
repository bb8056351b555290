using Microsoft.Extensions.AI;
using TtaActors.Actors.Llm;

namespace TtaActors.Llm.Providers;

/// <summary>The offline model (<see cref="OfflineChatClient"/>): always configured, the default when no key is set.</summary>
public sealed class OfflineProvider : ILlmProvider
{
    public string Name => LlmProviderNames.Offline;
    public string DefaultModel => OfflineChatClient.ModelName;
    public bool IsConfigured => true;

    public IChatClient CreateChatClient(string model, LlmSettings settings) => new OfflineChatClient();

    public int CountInputTokens(IReadOnlyList<ChatMessage> messages) => OfflineChatClient.CountInputTokens(messages);

    public void Dispose()
    {
    }
}
