using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.AI;
using Microsoft.ML.Tokenizers;
using TtaActors.Actors.Llm;

namespace TtaActors.Llm.Providers;

/// <summary>
/// A chat model that needs no network and no key: it answers deterministically from the conversation and counts
/// tokens with the real o200k tokenizer (the one of the GPT-4o family), so usage figures are true token counts.
/// It is the embedded default when no provider key is set.
/// </summary>
public sealed class OfflineChatClient : IChatClient
{
    /// <summary>The model name the offline client reports.</summary>
    public const string ModelName = "tta-offline";
    /// <summary>The provider name the offline client reports.</summary>
    public const string ProviderName = LlmProviderNames.Offline;

    private static readonly Lazy<Tokenizer> SharedTokenizer = new(() => TiktokenTokenizer.CreateForEncoding("o200k_base"));
    private readonly ChatClientMetadata _metadata = new(ProviderName, defaultModelId: ModelName);

    /// <summary>Loads the tokenizer data in the background, so the first call does not pay for it.</summary>
    public OfflineChatClient() => _ = Task.Run(() => SharedTokenizer.Value);

    /// <summary>The tokenizer usage is counted with.</summary>
    public static Tokenizer Tokenizer => SharedTokenizer.Value;

    /// <inheritdoc/>
    public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var (reply, finish, usage, id) = Answer(messages.ToList(), options);
        return Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, reply))
        {
            ModelId = ModelName,
            ResponseId = id,
            FinishReason = finish,
            Usage = usage,
        });
    }

    /// <inheritdoc/>
    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages,
        ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var (reply, finish, usage, id) = Answer(messages.ToList(), options);
        foreach (var token in Tokenizer.EncodeToTokens(reply, out _))
        {
            cancellationToken.ThrowIfCancellationRequested();
            // Each chunk is a separate continuation, as it would be for a network stream.
            await Task.Yield();
            yield return new ChatResponseUpdate(ChatRole.Assistant, reply[token.Offset.Start..token.Offset.End])
            {
                ModelId = ModelName,
                ResponseId = id,
            };
        }
        yield return new ChatResponseUpdate(ChatRole.Assistant, [new UsageContent(usage)])
        {
            ModelId = ModelName,
            ResponseId = id,
            FinishReason = finish,
        };
    }

    /// <inheritdoc/>
    public object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceKey is null && serviceType == typeof(ChatClientMetadata) ? _metadata
        : serviceKey is null && serviceType.IsInstanceOfType(this) ? this
        : null;

    /// <summary>Nothing to release.</summary>
    public void Dispose()
    {
    }

    /// <summary>
    /// Input tokens as OpenAI counts a chat request: 3 per message, the role and the content, and 3 priming the reply.
    /// </summary>
    public static int CountInputTokens(IReadOnlyList<ChatMessage> messages) =>
        messages.Sum(m => 3 + Tokenizer.CountTokens(m.Role.Value) + Tokenizer.CountTokens(m.Text ?? "")) + 3;

    private static (string Reply, ChatFinishReason Finish, UsageDetails Usage, string Id) Answer(IReadOnlyList<ChatMessage> messages, ChatOptions? options)
    {
        var request = messages.LastOrDefault(m => m.Role == ChatRole.User)?.Text?.Trim() ?? "";
        var system = messages.FirstOrDefault(m => m.Role == ChatRole.System)?.Text?.Trim();
        var reply = Compose(request, system);
        var finish = ChatFinishReason.Stop;
        if (options?.MaxOutputTokens is { } max && max >= 0)
        {
            var cut = Tokenizer.GetIndexByTokenCount(reply, max, out _, out _);
            if (cut < reply.Length)
            {
                reply = reply[..cut];
                finish = ChatFinishReason.Length;
            }
        }
        var input = CountInputTokens(messages);
        var output = Tokenizer.CountTokens(reply);
        var id = "offline-" + Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\n', messages.Select(m => m.Text)))))[..16].ToLowerInvariant();
        return (reply, finish, new UsageDetails { InputTokenCount = input, OutputTokenCount = output, TotalTokenCount = input + output }, id);
    }

    /// <summary>A reply built only from the request: it names the role it plays, restates the ask and proposes checks.</summary>
    private static string Compose(string request, string? system)
    {
        var words = request.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        var focus = words.Length <= 24 ? request : string.Join(' ', words.Take(24)) + " ...";
        var guided = system is null ? "" : " following the system prompt";
        return $"Offline review{guided}: the request covers \"{focus}\" ({words.Length} words). " +
               "Next steps: confirm the acceptance criteria, add a test for the failure path, and note the change in the docs.";
    }
}
