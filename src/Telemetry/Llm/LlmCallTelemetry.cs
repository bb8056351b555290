using System.Diagnostics;

namespace TtaActors.Telemetry.Llm;

/// <summary>How one LLM call ended: what the provider answered, what it used and what it cost.</summary>
public sealed record LlmCallOutcome
{
    /// <summary>The provider, e.g. <c>openai</c> or <c>anthropic</c>.</summary>
    public required string Provider { get; init; }
    /// <summary>The model asked for.</summary>
    public required string RequestModel { get; init; }
    /// <summary>The model the provider says answered.</summary>
    public string? ResponseModel { get; init; }
    /// <summary>The provider's id of the response.</summary>
    public string? ResponseId { get; init; }
    /// <summary>Input tokens, as the provider reported them.</summary>
    public long? InputTokens { get; init; }
    /// <summary>Output tokens, as the provider reported them.</summary>
    public long? OutputTokens { get; init; }
    /// <summary>Input tokens served from the provider's prompt cache.</summary>
    public long? CachedInputTokens { get; init; }
    /// <summary>Why the model stopped.</summary>
    public string? FinishReason { get; init; }

    /// <summary>Null when the model has no price in the catalog (or the provider reported no usage).</summary>
    public LlmCost? Cost { get; init; }

    /// <summary>The call's time from request to last chunk, in seconds.</summary>
    public double DurationSeconds { get; init; }
    /// <summary>When the first content chunk of a streamed call arrived.</summary>
    public DateTimeOffset? FirstTokenAt { get; init; }
    /// <summary>Seconds from the request to the first content chunk of a streamed call.</summary>
    public double? TimeToFirstTokenSeconds { get; init; }

    /// <summary>The completion text, before the capture policy is applied.</summary>
    public string? Output { get; init; }

    /// <summary>The exception the call failed with; null when it succeeded.</summary>
    public Exception? Error { get; init; }

    /// <summary>The model the provider says answered, else the one asked for.</summary>
    public string Model => ResponseModel ?? RequestModel;
}

/// <summary>
/// The <c>chat {model}</c> span (OpenTelemetry GenAI conventions, a Langfuse generation) and the LLM metrics.
/// Used by the LLM primitive and by the Langfuse-style API, so both feed one pipeline.
/// </summary>
public static class LlmCallTelemetry
{
    private const string UnknownService = "unknown_service";

    /// <summary>Starts the client span of one call under <paramref name="parent"/>, without making it current.</summary>
    public static Activity? StartChatSpan(string provider, string model, ActivityContext parent, double? temperature = null,
        int? maxTokens = null, DateTimeOffset startTime = default, string? conversationId = null,
        GenAiConventions conventions = GenAiConventions.V1_36)
    {
        var source = TtaInstrumentation.ActivitySource;
        if (!source.HasListeners()) return null;
        var previous = Activity.Current;
        var span = source.StartActivity(TelemetryNames.GenAi.ChatOperation + " " + model, ActivityKind.Client, parent, startTime: startTime);
        Activity.Current = previous;
        if (span is not { IsAllDataRequested: true }) return span;
        span.SetTag(TelemetryNames.GenAi.OperationName, TelemetryNames.GenAi.ChatOperation);
        span.SetTag(TelemetryNames.GenAi.ProviderName, provider);
        if (conventions == GenAiConventions.V1_36) span.SetTag(TelemetryNames.GenAiConventions.System, provider);
        if (conversationId is not null) span.SetTag(TelemetryNames.GenAiConventions.ConversationId, conversationId);
        span.SetTag(TelemetryNames.GenAi.RequestModel, model);
        if (temperature is { } t) span.SetTag(TelemetryNames.GenAi.RequestTemperature, t);
        if (maxTokens is { } m) span.SetTag(TelemetryNames.GenAi.RequestMaxTokens, m);
        return span;
    }

    /// <summary>
    /// Records a prompt given as plain text as the generation's input (<see cref="TelemetryNames.LlmObservations.Input"/>), as
    /// the capture policy allows, and in the names of <see cref="CapturePolicy.Conventions"/> (one user message of one text
    /// part with the latest conventions).
    /// </summary>
    public static void RecordInput(Activity span, string? input, CapturePolicy capture)
    {
        if (!span.IsAllDataRequested || capture.Apply(input) is not { } recorded) return;
        span.SetTag(TelemetryNames.LlmObservations.Input, recorded);
        var messages = capture.Conventions == GenAiConventions.LatestExperimental
            ? new System.Text.Json.Nodes.JsonArray(GenAiMessageJson.Message("user", [GenAiMessageJson.Text(recorded)])).ToJsonString()
            : null;
        RecordContent(span, capture, recorded, messages, null);
    }

    /// <summary>
    /// Records the request's content in the names of <see cref="CapturePolicy.Conventions"/>: by default (v1.36) a
    /// <c>gen_ai.content.prompt</c> event holding <paramref name="prompt"/>; with the latest conventions the
    /// <c>gen_ai.input.messages</c> and <c>gen_ai.system_instructions</c> attributes. Each value was built under the policy.
    /// </summary>
    public static void RecordContent(Activity span, CapturePolicy capture, string? prompt, string? inputMessages, string? systemInstructions)
    {
        if (!span.IsAllDataRequested || !capture.Enabled) return;
        if (capture.Conventions == GenAiConventions.LatestExperimental)
        {
            if (inputMessages is not null) span.SetTag(TelemetryNames.GenAiConventions.InputMessages, inputMessages);
            if (systemInstructions is not null) span.SetTag(TelemetryNames.GenAiConventions.SystemInstructions, systemInstructions);
        }
        else if (prompt is not null)
        {
            span.AddEvent(new ActivityEvent(TelemetryNames.GenAiConventions.PromptEvent,
                tags: new ActivityTagsCollection { [TelemetryNames.GenAiConventions.PromptAttribute] = prompt }));
        }
    }

    /// <summary>
    /// Tags the span with the call's outcome and stops it: usage, cost (total and its input and output parts), the first
    /// chunk of a streamed answer as a <c>llm.first_token</c> event, and the completion in <c>llm.output</c> and in the
    /// conventions' names: <c>gen_ai.output.messages</c>
    /// (<paramref name="outputMessages"/>, else the completion as one text part) with the latest conventions, else a
    /// <c>gen_ai.content.completion</c> event.
    /// </summary>
    public static void EndChatSpan(Activity span, LlmCallOutcome outcome, CapturePolicy capture, DateTimeOffset endTime = default,
        string? outputMessages = null)
    {
        var previous = Activity.Current;
        if (span.IsAllDataRequested)
        {
            if (outcome.ResponseModel is not null) span.SetTag(TelemetryNames.GenAi.ResponseModel, outcome.ResponseModel);
            if (outcome.ResponseId is not null) span.SetTag(TelemetryNames.GenAi.ResponseId, outcome.ResponseId);
            if (outcome.InputTokens is { } input) span.SetTag(TelemetryNames.GenAi.UsageInputTokens, input);
            if (outcome.OutputTokens is { } output) span.SetTag(TelemetryNames.GenAi.UsageOutputTokens, output);
            if (outcome.CachedInputTokens is { } cached and > 0) span.SetTag(TelemetryNames.GenAi.UsageCachedInputTokens, cached);
            if (outcome.FinishReason is not null) span.SetTag(TelemetryNames.GenAi.ResponseFinishReasons, new[] { outcome.FinishReason });
            if (outcome.Cost is { } cost)
            {
                span.SetTag(TelemetryNames.GenAi.UsageCost, (double)cost.Total);
                span.SetTag(TelemetryNames.GenAi.UsageInputCost, (double)cost.Input);
                span.SetTag(TelemetryNames.GenAi.UsageOutputCost, (double)cost.Output);
            }
            if (outcome.TimeToFirstTokenSeconds is { } ttft) span.SetTag(TelemetryNames.GenAi.TimeToFirstToken, ttft);
            if (outcome.FirstTokenAt is { } first) span.AddEvent(new ActivityEvent(TelemetryNames.LlmObservations.FirstTokenEvent, first));
            if (capture.Apply(outcome.Output) is { } recorded)
            {
                span.SetTag(TelemetryNames.LlmObservations.Output, recorded);
                if (capture.Conventions == GenAiConventions.LatestExperimental)
                    span.SetTag(TelemetryNames.GenAiConventions.OutputMessages, outputMessages ?? GenAiMessageJson.TextOutput(recorded, outcome.FinishReason));
                else
                    span.AddEvent(new ActivityEvent(TelemetryNames.GenAiConventions.CompletionEvent,
                        tags: new ActivityTagsCollection { [TelemetryNames.GenAiConventions.CompletionAttribute] = recorded }));
            }
            if (outcome.Error is { } error)
            {
                span.SetTag(TelemetryNames.GenAi.ErrorType, error.GetType().FullName);
                // Provider errors can echo request content, so the message passes the redaction patterns first.
                span.AddEvent(new ActivityEvent("exception", tags: new ActivityTagsCollection
                {
                    ["exception.type"] = error.GetType().FullName,
                    ["exception.message"] = capture.Redact(error.Message),
                }));
            }
        }
        if (outcome.Error is { } failure) span.SetStatus(ActivityStatusCode.Error, capture.Redact(failure.Message));
        if (endTime != default) span.SetEndTime(endTime.UtcDateTime);
        span.Stop();
        Activity.Current = previous;
    }

    /// <summary>Records the call in <c>llm_*</c> and <c>gen_ai.client.*</c> metrics.</summary>
    public static void RecordMetrics(LlmCallOutcome outcome, string? persona, string? serviceName)
    {
        var model = LabelValueBound.Models.Bound(TelemetryNames.LlmLabels.Model, outcome.Model);
        var personaLabel = persona is null ? TelemetryNames.NoPersona : LabelValueBound.Personas.Bound(TelemetryNames.Labels.Persona, persona);
        var service = serviceName ?? UnknownService;

        if (TtaInstrumentation.LlmRequestDuration.Enabled || TtaInstrumentation.LlmCostUsd.Enabled || TtaInstrumentation.LlmCostUnknown.Enabled
            || TtaInstrumentation.LlmTimeToFirstToken.Enabled)
        {
            var tags = new TagList
            {
                { TelemetryNames.LlmLabels.Model, model },
                { TelemetryNames.LlmLabels.Provider, outcome.Provider },
                { TelemetryNames.Labels.Persona, personaLabel },
                { TelemetryNames.Labels.ServiceName, service },
            };
            TtaInstrumentation.LlmRequestDuration.Record(outcome.DurationSeconds, tags);
            if (outcome.TimeToFirstTokenSeconds is { } ttft) TtaInstrumentation.LlmTimeToFirstToken.Record(ttft, tags);
            if (outcome.Cost is { } cost) TtaInstrumentation.LlmCostUsd.Add((double)cost.Total, tags);
            else if (outcome.Error is null) TtaInstrumentation.LlmCostUnknown.Add(1, tags);
        }

        if (TtaInstrumentation.LlmTokens.Enabled)
        {
            if (outcome.InputTokens is { } input) TtaInstrumentation.LlmTokens.Add(input, TokenTags(model, outcome.Provider, TelemetryNames.LlmLabels.Input, personaLabel, service));
            if (outcome.OutputTokens is { } output) TtaInstrumentation.LlmTokens.Add(output, TokenTags(model, outcome.Provider, TelemetryNames.LlmLabels.Output, personaLabel, service));
        }

        if (TtaInstrumentation.GenAiClientOperationDuration.Enabled)
        {
            var tags = GenAiTags(outcome);
            if (outcome.Error is { } error) tags.Add(TelemetryNames.GenAi.ErrorType, error.GetType().FullName);
            TtaInstrumentation.GenAiClientOperationDuration.Record(outcome.DurationSeconds, tags);
        }

        if (TtaInstrumentation.GenAiClientTokenUsage.Enabled)
        {
            if (outcome.InputTokens is { } input)
            {
                var tags = GenAiTags(outcome);
                tags.Add(TelemetryNames.GenAi.TokenType, TelemetryNames.LlmLabels.Input);
                TtaInstrumentation.GenAiClientTokenUsage.Record(input, tags);
            }
            if (outcome.OutputTokens is { } output)
            {
                var tags = GenAiTags(outcome);
                tags.Add(TelemetryNames.GenAi.TokenType, TelemetryNames.LlmLabels.Output);
                TtaInstrumentation.GenAiClientTokenUsage.Record(output, tags);
            }
        }
    }

    private static TagList TokenTags(string model, string provider, string tokenType, string persona, string service) => new()
    {
        { TelemetryNames.LlmLabels.Model, model },
        { TelemetryNames.LlmLabels.Provider, provider },
        { TelemetryNames.LlmLabels.TokenType, tokenType },
        { TelemetryNames.Labels.Persona, persona },
        { TelemetryNames.Labels.ServiceName, service },
    };

    private static TagList GenAiTags(LlmCallOutcome outcome)
    {
        var tags = new TagList
        {
            { TelemetryNames.GenAi.OperationName, TelemetryNames.GenAi.ChatOperation },
            { TelemetryNames.GenAi.ProviderName, outcome.Provider },
            { TelemetryNames.GenAi.RequestModel, LabelValueBound.Models.Bound(TelemetryNames.GenAi.RequestModel, outcome.RequestModel) },
        };
        if (outcome.ResponseModel is not null)
            tags.Add(TelemetryNames.GenAi.ResponseModel, LabelValueBound.Models.Bound(TelemetryNames.GenAi.ResponseModel, outcome.ResponseModel));
        return tags;
    }
}
