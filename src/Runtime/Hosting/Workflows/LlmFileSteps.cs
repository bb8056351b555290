using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;
using TtaActors.Actors.Llm;
using TtaActors.Actors.Primitives;

namespace TtaActors.Runtime.Workflows;

/// <summary>
/// The <c>llm:</c> steps of workflow files: the prompt and system templates are rendered from the input and context,
/// the LLM primitive makes the call (a <c>chat {model}</c> span with usage and cost, a Langfuse generation), and the
/// step's output is the completion text. With <c>tools:</c> the step is an agent (see <see cref="FileTools"/>).
/// </summary>
public sealed class LlmFileSteps(LlmSettings settings) : ILlmStepFactory
{
    /// <inheritdoc/>
    public Primitive Create(LlmSpec spec, string name, IReadOnlyList<AITool> tools)
    {
        var options = new LlmStepOptions
        {
            Temperature = (float?)spec.Temperature,
            MaxTokens = spec.MaxTokens,
            Tools = tools.Count == 0 ? null : tools,
            MaxIterations = spec.MaxIterations,
            OnToolError = spec.OnToolError,
            AgentName = name,
            LangfusePrompt = spec.LangfusePrompt,
            OutputSchema = spec.OutputSchema,
            OutputRetries = spec.OutputRetries,
        };
        // The parsed JSON of a step with an output schema, the completion text otherwise.
        var completion = new LambdaPrimitive((input, _, _) => new ValueTask<StepOutcome>(new StepOutcome(
            input is LlmResponse response ? JsonValue.Create(response.Content) : JsonData.ToNode(input))), $"{name}.completion");
        if (spec.Prompt is null)
        {
            // A Langfuse prompt takes its {{variables}} from the step's input (a JSON object's fields) and the run's context.
            return new SequentialPrimitive([settings.Chat(spec.Provider, spec.Model, options, $"{name}.chat"), completion], name);
        }
        var describe = spec.Describe();
        var template = spec.Prompt;
        var prompt = new LambdaPrimitive((input, context, _) =>
        {
            var scope = new TemplateScope(JsonData.ToNode(input), context);
            var messages = new List<ChatMessage>();
            if (spec.System is { } system) messages.Add(new ChatMessage(ChatRole.System, system.RenderText(scope, describe)));
            messages.Add(new ChatMessage(ChatRole.User, template.RenderText(scope, describe)));
            return new ValueTask<StepOutcome>(new StepOutcome(new LlmRequest { Messages = messages }));
        }, $"{name}.prompt");
        var chat = settings.Chat(spec.Provider, spec.Model, options, $"{name}.chat");
        return new SequentialPrimitive([prompt, chat, completion], name);
    }
}
