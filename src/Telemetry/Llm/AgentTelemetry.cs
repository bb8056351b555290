using System.Diagnostics;

namespace TtaActors.Telemetry.Llm;

/// <summary>
/// The agent and tool spans of the OpenTelemetry GenAI conventions: <c>invoke_agent {name}</c> (an LLM step with tools,
/// which the Langfuse exporter sends as an AGENT) and <c>execute_tool {tool}</c> (one tool call, a TOOL), and their durations in
/// <c>gen_ai.client.operation.duration</c> (v1.36, the default) or <c>gen_ai.invoke_agent.duration</c> and
/// <c>gen_ai.execute_tool.duration</c> (the latest conventions). Content (arguments, results) is recorded only as the capture policy allows.
/// </summary>
public static class AgentTelemetry
{
    /// <summary>Starts <c>invoke_agent {agent}</c> (kind Internal) under <paramref name="parent"/>, without making it current.</summary>
    public static Activity? StartAgentSpan(string agent, string provider, string model, ActivityContext parent, string? conversationId = null,
        GenAiConventions conventions = GenAiConventions.V1_36)
    {
        var span = Start(TelemetryNames.GenAiAgents.InvokeAgentOperation + " " + agent, parent);
        if (span is not { IsAllDataRequested: true }) return span;
        span.SetTag(TelemetryNames.GenAi.OperationName, TelemetryNames.GenAiAgents.InvokeAgentOperation);
        span.SetTag(TelemetryNames.GenAiAgents.AgentName, agent);
        span.SetTag(TelemetryNames.GenAi.ProviderName, provider);
        if (conventions == GenAiConventions.V1_36) span.SetTag(TelemetryNames.GenAiConventions.System, provider);
        if (conversationId is not null) span.SetTag(TelemetryNames.GenAiConventions.ConversationId, conversationId);
        span.SetTag(TelemetryNames.GenAi.RequestModel, model);
        return span;
    }

    /// <summary>Starts <c>execute_tool {tool}</c> (kind Internal) under <paramref name="parent"/>, without making it current.</summary>
    public static Activity? StartToolSpan(string tool, string? callId, string toolType, string? description, ActivityContext parent)
    {
        var span = Start(TelemetryNames.GenAiAgents.ExecuteToolOperation + " " + tool, parent);
        if (span is not { IsAllDataRequested: true }) return span;
        span.SetTag(TelemetryNames.GenAi.OperationName, TelemetryNames.GenAiAgents.ExecuteToolOperation);
        span.SetTag(TelemetryNames.GenAiAgents.ToolName, tool);
        if (callId is not null) span.SetTag(TelemetryNames.GenAiAgents.ToolCallId, callId);
        span.SetTag(TelemetryNames.GenAiAgents.ToolType, toolType);
        if (description is not null) span.SetTag(TelemetryNames.GenAiAgents.ToolDescription, description);
        return span;
    }

    /// <summary>Records a tool call's arguments (JSON), as the capture policy allows, in the conventions' <c>gen_ai.tool.call.arguments</c>.</summary>
    public static void RecordToolArguments(Activity span, string? arguments, CapturePolicy capture)
    {
        if (!span.IsAllDataRequested || capture.Apply(arguments) is not { } recorded) return;
        span.SetTag(TelemetryNames.GenAiAgents.ToolCallArguments, recorded);
    }

    /// <summary>Ends a tool span with its result (as the capture policy allows) or its error, and records its duration.</summary>
    public static void EndToolSpan(Activity? span, string tool, string? result, Exception? error, double seconds, CapturePolicy capture,
        string toolType = TelemetryNames.GenAiAgents.FunctionToolType)
    {
        if (span is not null)
        {
            var previous = Activity.Current;
            if (span.IsAllDataRequested)
            {
                if (capture.Apply(result) is { } recorded) span.SetTag(TelemetryNames.GenAiAgents.ToolCallResult, recorded);
                if (error is not null) RecordError(span, error, capture);
            }
            if (error is not null) span.SetStatus(ActivityStatusCode.Error, capture.Redact(error.Message));
            span.Stop();
            Activity.Current = previous;
        }
        if (capture.Conventions == GenAiConventions.LatestExperimental)
        {
            if (!GenAiInstruments.ExecuteToolDuration.Enabled) return;
            var tags = new TagList
            {
                { TelemetryNames.GenAiAgents.ToolName, LabelValueBound.AgentsAndTools.Bound(TelemetryNames.GenAiAgents.ToolName, tool) },
                { TelemetryNames.GenAiAgents.ToolType, toolType },
            };
            if (error is not null) tags.Add(TelemetryNames.GenAi.ErrorType, error.GetType().FullName);
            GenAiInstruments.ExecuteToolDuration.Record(seconds, tags);
        }
        else RecordDuration(TelemetryNames.GenAiAgents.ExecuteToolOperation, TelemetryNames.GenAiAgents.ToolName, tool, seconds, error);
    }

    /// <summary>
    /// Ends the agent span with the final answer (in <c>llm.output</c>, as the capture policy allows) or the error, and records
    /// its duration.
    /// </summary>
    public static void EndAgentSpan(Activity? span, string agent, string? output, Exception? error, double seconds, CapturePolicy capture,
        string? provider = null, string? model = null)
    {
        if (span is not null)
        {
            var previous = Activity.Current;
            if (span.IsAllDataRequested)
            {
                if (capture.Apply(output) is { } recorded)
                {
                    span.SetTag(TelemetryNames.LlmObservations.Output, recorded);
                    if (capture.Conventions == GenAiConventions.LatestExperimental)
                        span.SetTag(TelemetryNames.GenAiConventions.OutputMessages, GenAiMessageJson.TextOutput(recorded, null));
                }
                if (error is not null) RecordError(span, error, capture);
            }
            if (error is not null) span.SetStatus(ActivityStatusCode.Error, capture.Redact(error.Message));
            span.Stop();
            Activity.Current = previous;
        }
        if (capture.Conventions == GenAiConventions.LatestExperimental)
        {
            if (!GenAiInstruments.InvokeAgentDuration.Enabled) return;
            var tags = new TagList
            {
                { TelemetryNames.GenAi.OperationName, TelemetryNames.GenAiAgents.InvokeAgentOperation },
                { TelemetryNames.GenAiAgents.AgentName, LabelValueBound.AgentsAndTools.Bound(TelemetryNames.GenAiAgents.AgentName, agent) },
            };
            if (provider is not null) tags.Add(TelemetryNames.GenAi.ProviderName, provider);
            if (model is not null) tags.Add(TelemetryNames.GenAi.RequestModel, LabelValueBound.Models.Bound(TelemetryNames.GenAi.RequestModel, model));
            if (error is not null) tags.Add(TelemetryNames.GenAi.ErrorType, error.GetType().FullName);
            GenAiInstruments.InvokeAgentDuration.Record(seconds, tags);
        }
        else RecordDuration(TelemetryNames.GenAiAgents.InvokeAgentOperation, TelemetryNames.GenAiAgents.AgentName, agent, seconds, error);
    }

    private static void RecordDuration(string operation, string nameKey, string name, double seconds, Exception? error)
    {
        if (!TtaInstrumentation.GenAiClientOperationDuration.Enabled) return;
        var tags = new TagList
        {
            { TelemetryNames.GenAi.OperationName, operation },
            { nameKey, LabelValueBound.AgentsAndTools.Bound(nameKey, name) },
        };
        if (error is not null) tags.Add(TelemetryNames.GenAi.ErrorType, error.GetType().FullName);
        TtaInstrumentation.GenAiClientOperationDuration.Record(seconds, tags);
    }

    private static void RecordError(Activity span, Exception error, CapturePolicy capture)
    {
        span.SetTag(TelemetryNames.GenAi.ErrorType, error.GetType().FullName);
        span.AddEvent(new ActivityEvent("exception", tags: new ActivityTagsCollection
        {
            ["exception.type"] = error.GetType().FullName,
            ["exception.message"] = capture.Redact(error.Message),
        }));
    }

    private static Activity? Start(string name, ActivityContext parent)
    {
        var source = TtaInstrumentation.ActivitySource;
        if (!source.HasListeners()) return null;
        var previous = Activity.Current;
        var span = source.StartActivity(name, ActivityKind.Internal, parent);
        Activity.Current = previous;
        return span;
    }
}
