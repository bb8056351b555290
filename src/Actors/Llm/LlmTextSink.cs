namespace TtaActors.Actors.Llm;

/// <summary>
/// Receives the text of a streaming LLM step as it arrives (<see cref="LlmStepOptions.Stream"/>): one message per model
/// call stream, started, then its deltas in order, then ended. Called on the thread reading the provider's stream, so an
/// implementation only hands the text on (a durable run tells its entity) and never blocks.
/// </summary>
public interface ILlmTextSink
{
    void Started(string messageId, string stepPath);

    void Delta(string messageId, string text);

    void Ended(string messageId);
}
