using System.Diagnostics;
using System.Text.Json;
using Akka.Actor;
using Microsoft.Extensions.AI;
using TtaActors.Actors.Context;
using TtaActors.Actors.Execution;
using TtaActors.Actors.Primitives;
using TtaActors.Telemetry;
using TtaActors.Telemetry.Llm;

namespace TtaActors.Actors.Llm;

/// <summary>A provider error whose message had to be redacted; the message names the original error type.</summary>
public sealed class LlmCallException(string message) : Exception(message);

/// <summary>How an LLM step builds its request.</summary>
public sealed record LlmStepOptions
{
    /// <summary>The system message; may use the placeholders of <see cref="PromptTemplate"/>.</summary>
    public string? SystemPrompt { get; init; }

    /// <summary>The user message built from the input; without one the input's text is the message.</summary>
    public string? PromptTemplate { get; init; }

    public float? Temperature { get; init; }
    public int? MaxTokens { get; init; }

    /// <summary>Streams the answer (where the provider supports it) and records the time to the first token.</summary>
    public bool Stream { get; init; }

    /// <summary>False records no prompt or completion for this step, whatever the global capture policy says.</summary>
    public bool CaptureContent { get; init; } = true;
}

/// <summary>An explicit request: a conversation, or a prompt; either replaces the template.</summary>
public sealed record LlmRequest
{
    public IReadOnlyList<ChatMessage>? Messages { get; init; }
    public string? Prompt { get; init; }

    public static LlmRequest FromPrompt(string prompt) => new() { Prompt = prompt };
}

/// <summary>Tokens of one call; null where the provider reported nothing.</summary>
public sealed record LlmUsage(long? InputTokens, long? OutputTokens, long? CachedInputTokens = null)
{
    public long? TotalTokens => InputTokens is null && OutputTokens is null ? null : (InputTokens ?? 0) + (OutputTokens ?? 0);
}

/// <summary>The answer of an LLM step. <see cref="CostUsd"/> is null when the model has no price in the catalog.</summary>
public sealed record LlmResponse(
    string Content,
    string Model,
    string Provider,
    LlmUsage Usage,
    string? FinishReason,
    decimal? CostUsd,
    TimeSpan? TimeToFirstToken)
{
    public override string ToString() => Content;
}

/// <summary>
/// One call to a chat model through <see cref="IChatClient"/>, so any provider with an adapter works. The call is a
/// <c>chat {model}</c> client span under the step's span, with usage and cost (a Langfuse generation).
/// </summary>
public sealed class LlmPrimitive : Primitive
{
    public LlmPrimitive(LlmClient client, LlmSettings settings, LlmStepOptions? options = null, string? name = null) : base(name)
    {
        Client = client ?? throw new ArgumentNullException(nameof(client));
        ArgumentNullException.ThrowIfNull(settings);
        Options = options ?? new LlmStepOptions();
        Costs = settings.Costs;
        Capture = Options.CaptureContent ? settings.Capture : settings.Capture with { Enabled = false };
        if (Options.MaxTokens is < 1) throw new ArgumentOutOfRangeException(nameof(options), Options.MaxTokens, "MaxTokens must be 1 or more.");
        Template = Options.PromptTemplate is null ? null : new PromptTemplate(Options.PromptTemplate);
        SystemTemplate = Options.SystemPrompt is null ? null : new PromptTemplate(Options.SystemPrompt);
    }

    public LlmClient Client { get; }
    public LlmStepOptions Options { get; }
    public CostCatalog Costs { get; }
    public CapturePolicy Capture { get; }
    internal PromptTemplate? Template { get; }
    internal PromptTemplate? SystemTemplate { get; }

    public override IReadOnlyList<Primitive> Children => [];
    public override string TypeName => "LlmPrimitive";

    internal override Props CreateProps(PrimitiveNode node) => LlmActor.Props(this, node);

    /// <summary>The conversation sent for <paramref name="input"/> in <paramref name="context"/>.</summary>
    internal List<ChatMessage> BuildMessages(object? input, WorkflowContext context)
    {
        var messages = new List<ChatMessage>();
        if (SystemTemplate is not null) messages.Add(new ChatMessage(ChatRole.System, SystemTemplate.Render(input, context)));
        switch (input)
        {
            case LlmRequest { Messages: { Count: > 0 } conversation }:
                messages.AddRange(conversation);
                break;
            case LlmRequest { Prompt: { } prompt }:
                messages.Add(new ChatMessage(ChatRole.User, prompt));
                break;
            case LlmRequest:
                throw new ArgumentException($"LLM step '{DisplayName}' was given an LlmRequest with neither messages nor a prompt.");
            case IEnumerable<ChatMessage> conversation:
                messages.AddRange(conversation);
                break;
            default:
                messages.Add(new ChatMessage(ChatRole.User, Template?.Render(input, context) ?? input?.ToString() ?? ""));
                break;
        }
        return messages;
    }
}

internal sealed class LlmActor : UntypedActor
{
    private readonly LlmPrimitive _definition;
    private readonly PrimitiveNode _node;
    private readonly ChatOptions _chatOptions;

    public LlmActor(LlmPrimitive definition, PrimitiveNode node)
    {
        _definition = definition;
        _node = node;
        _chatOptions = new ChatOptions
        {
            ModelId = definition.Client.Model,
            Temperature = definition.Options.Temperature,
            MaxOutputTokens = definition.Options.MaxTokens,
        };
    }

    public static Props Props(LlmPrimitive definition, PrimitiveNode node) => Akka.Actor.Props.Create(() => new LlmActor(definition, node));

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case WorkflowEnvelope envelope:
                Execute(envelope);
                break;
            case CallFinished finished:
                Finish(finished);
                break;
            case RunEnded ended:
                // The provider may ignore the token; the run's answer and the step's span do not wait for it.
                ended.Execution.Fail(ended.Execution.EndFailure(), Self);
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    private void Execute(WorkflowEnvelope envelope)
    {
        PrimitiveExecution execution;
        try
        {
            execution = new PrimitiveExecution(_node, envelope);
        }
        catch (Exception error)
        {
            UnregisteredDispatch.Fail(envelope, _node, error, Self);
            return;
        }
        if (execution.HasEnded)
        {
            execution.Fail(execution.EndFailure(), Self);
            return;
        }
        List<ChatMessage> messages;
        try
        {
            messages = _definition.BuildMessages(envelope.Payload, envelope.Context);
        }
        catch (Exception error)
        {
            execution.Fail(error, Self);
            return;
        }

        var client = _definition.Client;
        var parent = execution.Span?.Context ?? envelope.TraceParent.ToActivityContext();
        var span = LlmCallTelemetry.StartChatSpan(client.Provider, client.Model, parent, _definition.Options.Temperature, _definition.Options.MaxTokens);
        if (span is { IsAllDataRequested: true })
        {
            PrimitiveTelemetry.TagLangfuseTrace(span, _node.WorkflowName, envelope.Context);
            if (Render(messages) is { } input) span.SetTag(TelemetryNames.Langfuse.ObservationInput, input);
        }

        var call = new Call(execution, span, Stopwatch.GetTimestamp());
        execution.WatchEnd(Self);
        // The run's own token: it fires at the run's deadline, so the call needs no timer of its own.
        CallAsync(client.Chat, messages, call, envelope.Cancellation).ContinueWith(
            static (task, state) => ((IActorRef)state!).Tell(task.Result),
            Self,
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    /// <summary>Runs the call off the actor; never throws, the outcome comes back as a message.</summary>
    private async Task<CallFinished> CallAsync(IChatClient chat, List<ChatMessage> messages, Call call, CancellationToken cancellation)
    {
        try
        {
            if (!_definition.Options.Stream)
            {
                var response = await chat.GetResponseAsync(messages, _chatOptions.Clone(), cancellation).ConfigureAwait(false);
                return new CallFinished(call, response, null, null, null);
            }
            var updates = new List<ChatResponseUpdate>();
            TimeSpan? firstToken = null;
            DateTimeOffset? firstTokenAt = null;
            await foreach (var update in chat.GetStreamingResponseAsync(messages, _chatOptions.Clone(), cancellation).ConfigureAwait(false))
            {
                if (firstToken is null && !string.IsNullOrEmpty(update.Text))
                {
                    firstToken = Stopwatch.GetElapsedTime(call.StartedAt);
                    firstTokenAt = DateTimeOffset.UtcNow;
                }
                updates.Add(update);
            }
            return new CallFinished(call, updates.ToChatResponse(), firstToken, firstTokenAt, null);
        }
        catch (Exception error)
        {
            return new CallFinished(call, null, null, null, error is AggregateException { InnerExceptions.Count: 1 } one ? one.InnerExceptions[0] : error);
        }
    }

    private void Finish(CallFinished finished)
    {
        var (call, response, firstToken, firstTokenAt, error) = finished;
        var execution = call.Execution;
        var client = _definition.Client;
        var usage = response?.Usage;
        var responseModel = response?.ModelId;
        var cost = usage is { InputTokenCount: { } input, OutputTokenCount: { } output }
            ? _definition.Costs.Cost(responseModel ?? client.Model, input, output, usage.CachedInputTokenCount ?? 0)
            : null;
        var outcome = new LlmCallOutcome
        {
            Provider = client.Provider,
            RequestModel = client.Model,
            ResponseModel = responseModel,
            ResponseId = response?.ResponseId,
            InputTokens = usage?.InputTokenCount,
            OutputTokens = usage?.OutputTokenCount,
            CachedInputTokens = usage?.CachedInputTokenCount,
            FinishReason = response?.FinishReason?.Value,
            Cost = cost,
            DurationSeconds = Stopwatch.GetElapsedTime(call.StartedAt).TotalSeconds,
            TimeToFirstTokenSeconds = firstToken?.TotalSeconds,
            FirstTokenAt = firstTokenAt,
            Output = response?.Text,
            Error = error,
        };
        LlmCallLog.Write(Context, call.Span, outcome, execution);
        if (call.Span is not null) LlmCallTelemetry.EndChatSpan(call.Span, outcome, _definition.Capture);
        LlmCallTelemetry.RecordMetrics(outcome, execution.Context.Persona, execution.Context.Workspace);

        if (error is OperationCanceledException && execution.HasEnded)
        {
            execution.Fail(execution.EndFailure(), Self);
            return;
        }
        if (error is not null || response is null)
        {
            execution.Fail(error is null ? new InvalidOperationException($"LLM step '{_node.Path}' got no response.") : Redacted(error), Self);
            return;
        }
        execution.Succeed(new LlmResponse(
            response.Text,
            outcome.Model,
            client.Provider,
            new LlmUsage(outcome.InputTokens, outcome.OutputTokens, outcome.CachedInputTokens),
            outcome.FinishReason,
            cost?.Total,
            firstToken), execution.Context.WithLlmCall(new LlmCallRecord(client.Provider, outcome.Model, outcome.InputTokens ?? 0,
            outcome.OutputTokens ?? 0, cost?.Total)), Self);
    }

    /// <summary>
    /// The error the step fails with: the provider's own, unless its message carries something secret-shaped, in
    /// which case a copy with the redacted message (the original would reach the step's span and the run's failure).
    /// </summary>
    private Exception Redacted(Exception error)
    {
        var message = _definition.Capture.Redact(error.Message);
        return message == error.Message ? error : new LlmCallException($"{error.GetType().FullName}: {message}");
    }

    /// <summary>The conversation as Langfuse shows chat input: a JSON array of role and content, each content captured per policy.</summary>
    private string? Render(List<ChatMessage> messages)
    {
        var capture = _definition.Capture;
        if (!capture.Enabled) return null;
        var items = messages.Select(m => new Dictionary<string, string?> { ["role"] = m.Role.Value, ["content"] = capture.Apply(m.Text) });
        // Each content is already truncated and redacted; the policy must not cut the JSON itself.
        return JsonSerializer.Serialize(items);
    }

    private sealed record Call(PrimitiveExecution Execution, Activity? Span, long StartedAt);

    private sealed record CallFinished(Call Call, ChatResponse? Response, TimeSpan? FirstToken, DateTimeOffset? FirstTokenAt, Exception? Error);
}
