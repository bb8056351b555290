namespace TtaActors.Actors.Llm;

/// <summary>
/// Receives the text of a streaming LLM step as it arrives (<see cref="LlmStepOptions.Stream"/>): one message per model
/// call stream, started, then its deltas in order, then ended. Called on the thread reading the provider's stream, so an
/// implementation only hands the text on (a durable run tells its entity) and never blocks.
/// </summary>
public interface ILlmTextSink
{
    /// <summary>A new message begins: <paramref name="messageId"/> names it in the deltas that follow; <paramref name="stepPath"/> is the LLM step's primitive path.</summary>
    void Started(string messageId, string stepPath);

    /// <summary>The next piece of the message's text.</summary>
    void Delta(string messageId, string text);

    /// <summary>The message is complete.</summary>
    void Ended(string messageId);
}
