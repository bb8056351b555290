using System.Diagnostics;
using System.Globalization;

namespace TtaActors.Telemetry.Export.Langfuse;

/// <summary>
/// The Langfuse side of the telemetry contract: the attributes Langfuse reads for a trace's fields and for each
/// observation, derived from the contract and neutral attributes a span carries when the Langfuse exporter encodes it.
/// The execution path sets each field once under its contract name and never under Langfuse's; other exporters send
/// the contract names only.
/// </summary>
/// <remarks>
/// <para>
/// Langfuse takes a trace's user, session, metadata and tags from whichever span carries them (a run's spans may reach
/// it in several requests), so they are derived on every span that holds their source.
/// </para>
/// <para>
/// Per observation: the type follows from <c>gen_ai.operation.name</c> (<c>chat</c> a generation, <c>invoke_agent</c>
/// an agent, <c>execute_tool</c> a tool) and a durable run's wait and signal spans are events; a tool's input and output
/// are its <c>gen_ai.tool.call.arguments</c> and <c>.result</c>; the cost details are the total and the input and
/// output parts of <c>gen_ai.usage.*cost</c>; the completion start is the <c>llm.first_token</c> event; the prompt link
/// is <c>llm.prompt.name</c> and <c>.version</c> (a fallback prompt is marked in metadata instead).
/// </para>
/// <para>A span that names a Langfuse field itself (the Langfuse-style API of <see cref="LangfuseTracing"/>) keeps its own value.</para>
/// </remarks>
internal static class LangfuseAttributeMapping
{
    /// <summary>Contract attribute and the Langfuse attribute made of it, in the order they are written.</summary>
    private static readonly (string Source, string Target)[] TraceMapping =
    [
        (TelemetryNames.Attributes.WorkflowTraceName, TelemetryNames.Langfuse.TraceName),
        (TelemetryNames.Attributes.Persona, TelemetryNames.Langfuse.UserId),
        (TelemetryNames.Attributes.WorkflowSessionId, TelemetryNames.Langfuse.SessionId),
        (TelemetryNames.Attributes.ChatMode, TelemetryNames.Langfuse.TraceMetadataChatMode),
        (TelemetryNames.Attributes.WorkflowWorkspace, TelemetryNames.Langfuse.TraceMetadataWorkspace),
        (TelemetryNames.Attributes.WorkflowTags, TelemetryNames.Langfuse.TraceTags),
    ];

    /// <summary>
    /// The name an attribute goes to Langfuse under. Recorded content (a run's input and output, an LLM call's or agent
    /// step's, a durable wait's prompt and a signal's payload) is Langfuse's trace or observation input and output, sent
    /// under Langfuse's names instead of the contract's, so the content is sent once.
    /// </summary>
    public static string NameOf(string key) => key switch
    {
        TelemetryNames.Attributes.WorkflowInput => TelemetryNames.Langfuse.TraceInput,
        TelemetryNames.Attributes.WorkflowOutput => TelemetryNames.Langfuse.TraceOutput,
        TelemetryNames.LlmObservations.Input or TelemetryNames.Durable.WaitPrompt => TelemetryNames.Langfuse.ObservationInput,
        TelemetryNames.LlmObservations.Output or TelemetryNames.Durable.SignalPayload => TelemetryNames.Langfuse.ObservationOutput,
        _ => key,
    };

    /// <summary>The Langfuse attributes <paramref name="activity"/> does not carry itself, made of its contract attributes.</summary>
    public static void AddDerived(Activity activity, Action<string, object> write)
    {
        AddTraceFields(activity, write);
        AddObservationFields(activity, write);
    }

    private static void AddTraceFields(Activity activity, Action<string, object> write)
    {
        Span<int> found = stackalloc int[TraceMapping.Length];
        found.Clear();
        object?[]? values = null;
        foreach (var tag in activity.TagObjects)
        {
            if (tag.Value is null) continue;
            for (var i = 0; i < TraceMapping.Length; i++)
            {
                if (tag.Key == TraceMapping[i].Source)
                {
                    values ??= new object?[TraceMapping.Length];
                    values[i] = tag.Value;
                }
                else if (tag.Key == TraceMapping[i].Target) found[i] = 1;
            }
        }
        if (values is null) return;
        for (var i = 0; i < TraceMapping.Length; i++)
        {
            if (values[i] is { } value && found[i] == 0) write(TraceMapping[i].Target, value);
        }
    }

    private static void AddObservationFields(Activity activity, Action<string, object> write)
    {
        string? type = null;
        object? toolArguments = null, toolResult = null, promptName = null, promptVersion = null;
        double? cost = null, inputCost = null, outputCost = null;
        bool fallback = false, hasType = false, hasInput = false, hasOutput = false, hasCost = false, hasStart = false,
            hasPrompt = false, hasFallbackMark = false;
        foreach (var tag in activity.TagObjects)
        {
            if (tag.Value is not { } value) continue;
            switch (tag.Key)
            {
                case TelemetryNames.GenAi.OperationName:
                    type = TypeOf(value as string) ?? type;
                    break;
                case TelemetryNames.Durable.Signals or TelemetryNames.Durable.Signal:
                    type ??= TelemetryNames.Langfuse.EventType;
                    break;
                case TelemetryNames.GenAiAgents.ToolCallArguments:
                    toolArguments = value;
                    break;
                case TelemetryNames.GenAiAgents.ToolCallResult:
                    toolResult = value;
                    break;
                case TelemetryNames.GenAi.UsageCost:
                    cost = Number(value);
                    break;
                case TelemetryNames.GenAi.UsageInputCost:
                    inputCost = Number(value);
                    break;
                case TelemetryNames.GenAi.UsageOutputCost:
                    outputCost = Number(value);
                    break;
                case TelemetryNames.LlmObservations.PromptName:
                    promptName = value;
                    break;
                case TelemetryNames.LlmObservations.PromptVersion:
                    promptVersion = value;
                    break;
                case TelemetryNames.LlmObservations.PromptFallback:
                    fallback = value is true;
                    break;
                case TelemetryNames.Langfuse.ObservationType:
                    hasType = true;
                    break;
                case TelemetryNames.Langfuse.ObservationInput or TelemetryNames.LlmObservations.Input or TelemetryNames.Durable.WaitPrompt:
                    hasInput = true;
                    break;
                case TelemetryNames.Langfuse.ObservationOutput or TelemetryNames.LlmObservations.Output or TelemetryNames.Durable.SignalPayload:
                    hasOutput = true;
                    break;
                case TelemetryNames.Langfuse.ObservationCostDetails:
                    hasCost = true;
                    break;
                case TelemetryNames.Langfuse.ObservationCompletionStartTime:
                    hasStart = true;
                    break;
                case TelemetryNames.Langfuse.ObservationPromptName:
                    hasPrompt = true;
                    break;
                case TelemetryNames.Langfuse.ObservationMetadataPromptFallback:
                    hasFallbackMark = true;
                    break;
            }
        }

        if (type is not null && !hasType) write(TelemetryNames.Langfuse.ObservationType, type);
        if (toolArguments is not null && !hasInput) write(TelemetryNames.Langfuse.ObservationInput, toolArguments);
        if (toolResult is not null && !hasOutput) write(TelemetryNames.Langfuse.ObservationOutput, toolResult);
        if (!hasCost && cost is { } total && inputCost is { } input && outputCost is { } output
            && double.IsFinite(total) && double.IsFinite(input) && double.IsFinite(output))
        {
            write(TelemetryNames.Langfuse.ObservationCostDetails,
                $"{{\"input\":{Json(input)},\"output\":{Json(output)},\"total\":{Json(total)}}}");
        }
        if (!hasStart && FirstToken(activity) is { } first)
            write(TelemetryNames.Langfuse.ObservationCompletionStartTime, first.UtcDateTime.ToString("O", CultureInfo.InvariantCulture));
        if (promptName is null) return;
        // A fallback prompt has no version in Langfuse: linking it to one would be a lie, so it is only marked.
        if (fallback)
        {
            if (!hasFallbackMark) write(TelemetryNames.Langfuse.ObservationMetadataPromptFallback, promptName);
        }
        else if (promptVersion is not null && !hasPrompt)
        {
            write(TelemetryNames.Langfuse.ObservationPromptName, promptName);
            write(TelemetryNames.Langfuse.ObservationPromptVersion, promptVersion);
        }
    }

    private static string? TypeOf(string? operation) => operation switch
    {
        TelemetryNames.GenAi.ChatOperation => TelemetryNames.Langfuse.GenerationType,
        TelemetryNames.GenAiAgents.InvokeAgentOperation => TelemetryNames.Langfuse.AgentType,
        TelemetryNames.GenAiAgents.ExecuteToolOperation => TelemetryNames.Langfuse.ToolType,
        _ => null,
    };

    private static DateTimeOffset? FirstToken(Activity activity)
    {
        foreach (var activityEvent in activity.Events)
        {
            if (activityEvent.Name == TelemetryNames.LlmObservations.FirstTokenEvent) return activityEvent.Timestamp;
        }
        return null;
    }

    private static double? Number(object value) => value switch
    {
        double d => d,
        float f => f,
        decimal m => (double)m,
        int i => i,
        long l => l,
        _ => null,
    };

    /// <summary>A USD amount as a JSON number in plain notation (as the decimal it was computed as), never an exponent.</summary>
    private static string Json(double amount) => Math.Abs(amount) < 1e15
        ? ((decimal)amount).ToString(CultureInfo.InvariantCulture)
        : amount.ToString("R", CultureInfo.InvariantCulture);
}
