using System.Diagnostics;
using System.Text.Json;
using Akka.Actor;
using Microsoft.Extensions.AI;
using TtaActors.Actors.Llm.Prompts;
using TtaActors.Actors.Context;
using TtaActors.Actors.Execution;
using TtaActors.Actors.Llm.RateLimits;
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

    /// <summary>The sampling temperature; null leaves the provider's default.</summary>
    public float? Temperature { get; init; }
    /// <summary>The most output tokens of one call (1 or more); null leaves the provider's default.</summary>
    public int? MaxTokens { get; init; }

    /// <summary>Streams the answer (where the provider supports it) and records the time to the first token.</summary>
    public bool Stream { get; init; }

    /// <summary>False records no prompt or completion for this step, whatever the global capture policy says.</summary>
    public bool CaptureContent { get; init; } = true;

    /// <summary>
    /// Tools the model may call (C# functions made with <see cref="AIFunctionFactory"/>, <see cref="WorkflowTool"/>s, any
    /// <see cref="AIFunction"/>). A step with tools is an agent: an <c>invoke_agent {name}</c> span over its
    /// <c>chat {model}</c> calls and one <c>execute_tool {tool}</c> span per tool call.
    /// </summary>
    public IReadOnlyList<AITool>? Tools { get; init; }

    /// <summary>
    /// Model calls that may ask for tools in one step (1 to <see cref="MaxIterationsLimit"/>, default 10); when they are used up
    /// the model is asked once more without tools, so it answers with what it has.
    /// </summary>
    public int MaxIterations { get; init; } = DefaultMaxIterations;

    /// <summary>What a failing tool does: reported to the model (default) or fails the step.</summary>
    public ToolErrorMode OnToolError { get; init; } = ToolErrorMode.Report;

    /// <summary>The agent's name in <c>gen_ai.agent.name</c> and its span name; default the step's name.</summary>
    public string? AgentName { get; init; }

    /// <summary><see cref="MaxIterations"/> when not set.</summary>
    public const int DefaultMaxIterations = 10;
    /// <summary>The largest <see cref="MaxIterations"/>.</summary>
    public const int MaxIterationsLimit = 100;

    /// <summary>
    /// The prompt from Langfuse's prompt management instead of <see cref="PromptTemplate"/>: a text prompt is the user
    /// message, a chat prompt the conversation (after <see cref="SystemPrompt"/> when one is set). Needs the Langfuse keys
    /// (<see cref="LlmSettings.Prompts"/>); the step's chat spans name the prompt and its version.
    /// </summary>
    public LangfusePromptReference? LangfusePrompt { get; init; }

    /// <summary>The JSON the answer must be; the parsed JSON (a <see cref="System.Text.Json.Nodes.JsonNode"/>) is then the step's output.</summary>
    public LlmOutputSchema? OutputSchema { get; init; }

    /// <summary>
    /// Times the model is asked again, with the validation error, when its answer does not match <see cref="OutputSchema"/>
    /// (0 to <see cref="MaxOutputRetries"/>, default 1); after them the step fails with <see cref="LlmOutputException"/>.
    /// </summary>
    public int OutputRetries { get; init; } = DefaultOutputRetries;

    /// <summary><see cref="OutputRetries"/> when not set.</summary>
    public const int DefaultOutputRetries = 1;
    /// <summary>The largest <see cref="OutputRetries"/>.</summary>
    public const int MaxOutputRetries = 5;
}

/// <summary>An explicit request: a conversation, or a prompt; either replaces the template.</summary>
public sealed record LlmRequest
{
    /// <summary>The conversation to send as it is.</summary>
    public IReadOnlyList<ChatMessage>? Messages { get; init; }
    /// <summary>The user message to send.</summary>
    public string? Prompt { get; init; }

    /// <summary>A request of one user message.</summary>
    public static LlmRequest FromPrompt(string prompt) => new() { Prompt = prompt };
}

/// <summary>Tokens of one call; null where the provider reported nothing.</summary>
public sealed record LlmUsage(long? InputTokens, long? OutputTokens, long? CachedInputTokens = null)
{
    /// <summary>Input plus output tokens; null when the provider reported neither.</summary>
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
    /// <summary>Tool calls the agent made before it answered (0 for a step without tools).</summary>
    public int ToolCalls { get; init; }

    /// <summary>The answer's text.</summary>
    public override string ToString() => Content;
}

/// <summary>
/// One call to a chat model through <see cref="IChatClient"/>, so any provider with an adapter works. The call is a
/// <c>chat {model}</c> client span under the step's span, with usage and cost (a Langfuse generation).
/// </summary>
public sealed class LlmPrimitive : Primitive
{
    /// <param name="client">The chat client of the step's provider and model.</param>
    /// <param name="settings">Costs, capture policy, budget, rate limits and Langfuse prompts shared by the node's LLM steps.</param>
    /// <param name="options">How the step builds its request; the defaults when null.</param>
    /// <param name="name">The name in spans, metrics and failure paths; the type name when null.</param>
    /// <exception cref="ArgumentOutOfRangeException">MaxIterations, OutputRetries or MaxTokens is out of range.</exception>
    /// <exception cref="ArgumentException">A tool name is invalid or used twice.</exception>
    /// <exception cref="LlmConfigurationException">The step takes a Langfuse prompt but the Langfuse keys are not set.</exception>
    /// <exception cref="FormatException">A prompt template is malformed.</exception>
    public LlmPrimitive(LlmClient client, LlmSettings settings, LlmStepOptions? options = null, string? name = null) : base(name)
    {
        Client = client ?? throw new ArgumentNullException(nameof(client));
        ArgumentNullException.ThrowIfNull(settings);
        Options = options ?? new LlmStepOptions();
        Costs = settings.Costs;
        Budget = settings.Budget;
        RateLimits = settings.RateLimits;
        if (Options.MaxIterations is < 1 or > LlmStepOptions.MaxIterationsLimit)
            throw new ArgumentOutOfRangeException(nameof(options), Options.MaxIterations,
                $"MaxIterations must be 1 to {LlmStepOptions.MaxIterationsLimit}.");
        if (Options.Tools is { } tools)
        {
            foreach (var tool in tools)
            {
                ArgumentNullException.ThrowIfNull(tool, nameof(options));
                LlmToolNames.Check(tool.Name);
            }
            if (tools.GroupBy(t => t.Name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } twice)
                throw new ArgumentException($"LLM step '{DisplayName}' has two tools named '{twice.Key}'.", nameof(options));
        }
        Capture = Options.CaptureContent ? settings.Capture : settings.Capture with { Enabled = false };
        if (Options.OutputRetries is < 0 or > LlmStepOptions.MaxOutputRetries)
            throw new ArgumentOutOfRangeException(nameof(options), Options.OutputRetries, $"OutputRetries must be 0 to {LlmStepOptions.MaxOutputRetries}.");
        if (Options.LangfusePrompt is not null)
        {
            Prompts = settings.Prompts ?? throw new LlmConfigurationException(
                $"LLM step '{DisplayName}' takes its prompt {Options.LangfusePrompt} from Langfuse, but LANGFUSE_PUBLIC_KEY and LANGFUSE_SECRET_KEY are not set.");
        }
        if (Options.MaxTokens is < 1) throw new ArgumentOutOfRangeException(nameof(options), Options.MaxTokens, "MaxTokens must be 1 or more.");
        Template = Options.PromptTemplate is null ? null : new PromptTemplate(Options.PromptTemplate);
        SystemTemplate = Options.SystemPrompt is null ? null : new PromptTemplate(Options.SystemPrompt);
    }

    /// <summary>The chat client the step calls.</summary>
    public LlmClient Client { get; }
    /// <summary>How the step builds its request.</summary>
    public LlmStepOptions Options { get; }
    /// <summary>The prices the step's calls are costed with.</summary>
    public CostCatalog Costs { get; }
    /// <summary>The run's spending limits, checked before each call.</summary>
    public LlmBudget Budget { get; }

    /// <summary>The requests- and tokens-per-minute limits every call of this step waits for.</summary>
    public LlmRateLimiter RateLimits { get; }
    /// <summary>What of prompt and completion the step's spans record (nothing when <see cref="LlmStepOptions.CaptureContent"/> is false).</summary>
    public CapturePolicy Capture { get; }

    /// <summary>Where <see cref="LlmStepOptions.LangfusePrompt"/> comes from; null for a step without one.</summary>
    internal LangfusePrompts? Prompts { get; }

    /// <summary>True when the step has tools, so it runs as an agent.</summary>
    public bool IsAgent => Options.Tools is { Count: > 0 };

    /// <summary>The name of the agent in telemetry.</summary>
    public string AgentName => Options.AgentName ?? DisplayName;
    internal PromptTemplate? Template { get; }
    internal PromptTemplate? SystemTemplate { get; }

    /// <inheritdoc/>
    public override IReadOnlyList<Primitive> Children => [];
    /// <inheritdoc/>
    public override string TypeName => "LlmPrimitive";

    internal override Props CreateProps(PrimitiveNode node) => LlmActor.Props(this, node);

    /// <summary>The conversation sent for <paramref name="input"/> in <paramref name="context"/>.</summary>
    internal List<ChatMessage> BuildMessages(object? input, WorkflowContext context, LangfusePrompt? managed = null)
    {
        var messages = new List<ChatMessage>();
        if (SystemTemplate is not null) messages.Add(new ChatMessage(ChatRole.System, SystemTemplate.Render(input, context)));
        if (managed is not null)
        {
            messages.AddRange(managed.Render(input, context));
            return messages;
        }
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
            case PromptResolved resolved:
                OnPromptResolved(resolved);
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
        if (_definition.Prompts is { } prompts)
        {
            // Fetched off the actor (from the cache, or from Langfuse within its request timeout); the call starts when it is back.
            ResolvePromptAsync(prompts, envelope).ContinueWith(
                static (task, state) =>
                {
                    var (self, execution, envelope) = ((IActorRef, PrimitiveExecution, WorkflowEnvelope))state!;
                    self.Tell(new PromptResolved(execution, envelope, task.Result.Prompt, task.Result.Messages, task.Result.Error));
                },
                (Self, execution, envelope),
                CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously,
                TaskScheduler.Default);
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
        Start(execution, envelope, messages, null);
    }

    private async Task<(LangfusePrompt? Prompt, List<ChatMessage>? Messages, Exception? Error)> ResolvePromptAsync(LangfusePrompts prompts,
        WorkflowEnvelope envelope)
    {
        try
        {
            var prompt = await prompts.GetAsync(_definition.Options.LangfusePrompt!, envelope.Cancellation).ConfigureAwait(false);
            return (prompt, _definition.BuildMessages(envelope.Payload, envelope.Context, prompt), null);
        }
        catch (Exception error)
        {
            return (null, null, error);
        }
    }

    private void OnPromptResolved(PromptResolved resolved)
    {
        var execution = resolved.Execution;
        if (execution.HasEnded)
        {
            execution.Fail(execution.EndFailure(), Self);
            return;
        }
        if (resolved.Error is not null || resolved.Messages is null)
        {
            execution.Fail(resolved.Error ?? new InvalidOperationException($"LLM step '{_node.Path}' got no prompt."), Self);
            return;
        }
        Start(execution, resolved.Envelope, resolved.Messages, resolved.Prompt);
    }

    private void Start(PrimitiveExecution execution, WorkflowEnvelope envelope, List<ChatMessage> messages, LangfusePrompt? prompt)
    {
        var client = _definition.Client;
        var parent = execution.Span?.Context ?? envelope.TraceParent.ToActivityContext();
        Activity? agent = null;
        if (_definition.IsAgent)
        {
            var capture = _definition.Capture;
            agent = AgentTelemetry.StartAgentSpan(_definition.AgentName, client.Provider, client.Model, parent, envelope.Context.SessionId,
                capture.Conventions);
            if (agent is { IsAllDataRequested: true })
            {
                PrimitiveTelemetry.TagRunTrace(agent, _node.WorkflowName, envelope.Context);
                if (LlmCallClient.Render(messages, capture) is { } input) agent.SetTag(TelemetryNames.LlmObservations.Input, input);
                if (capture.Conventions == GenAiConventions.LatestExperimental)
                {
                    var (inputMessages, instructions) = GenAiMessages.Input(messages, capture);
                    LlmCallTelemetry.RecordContent(agent, capture, null, inputMessages, instructions);
                }
            }
        }

        var tally = new LlmCallTally();
        var system = Context.System;
        var calls = new LlmCallClient(client.Chat, _definition, _node.WorkflowName, _node.Path, envelope.Context, agent?.Context ?? parent, tally,
            (outcome, span) => LlmCallLog.Write(system, span, outcome, execution), envelope.Deadline) { Prompt = prompt };
        var call = new Call(execution, agent, Stopwatch.GetTimestamp(), tally, calls);
        execution.WatchEnd(Self);
        // The run's own token: it fires at the run's deadline, so the call needs no timer of its own.
        CallAsync(messages, call, envelope.Context, envelope.Lifetime?.TextSink, envelope.Cancellation).ContinueWith(
            static (task, state) => ((IActorRef)state!).Tell(task.Result),
            Self,
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    /// <summary>Runs the call (or the agent's model/tool loop) off the actor; never throws, the outcome comes back as a message.</summary>
    private async Task<CallFinished> CallAsync(List<ChatMessage> messages, Call call, WorkflowContext context, ILlmTextSink? text,
        CancellationToken cancellation)
    {
        try
        {
            IChatClient chat = call.Calls;
            var options = _chatOptions.Clone();
            if (_definition.IsAgent)
            {
                options.Tools = [.. _definition.Options.Tools!];
                chat = new FunctionInvokingChatClient(call.Calls)
                {
                    MaximumIterationsPerRequest = _definition.Options.MaxIterations,
                    AllowConcurrentInvocation = false,
                    FunctionInvoker = (invocation, token) => InvokeToolAsync(invocation, call, context, token),
                };
            }
            if (_definition.Options.OutputSchema is { } schema) options.ResponseFormat = schema.ResponseFormat;
            var response = await AskAsync(chat, messages, options, text, cancellation).ConfigureAwait(false);
            if (_definition.Options.OutputSchema is { } output && call.Tally.ToolFailure is null)
            {
                for (var attempt = 0; ; attempt++)
                {
                    var (json, path, problem) = output.Check(AnswerOf(response));
                    if (problem is null) return new CallFinished(call, response, null) { Json = json };
                    if (attempt >= _definition.Options.OutputRetries)
                        return new CallFinished(call, response, new LlmOutputException(
                            $"LLM step '{_node.Path}': the answer does not match the output schema '{output.Name}' {LlmOutputSchema.DescribePath(path)}: {problem} " +
                            $"({attempt + 1} answer(s), OutputRetries {_definition.Options.OutputRetries}).", path, problem));
                    // The conversation so far (with any tool turns), the answer, and what was wrong with it.
                    messages = [.. messages, .. response.Messages, new ChatMessage(ChatRole.User, LlmOutputSchema.FollowUp(path, problem))];
                    response = await AskAsync(chat, messages, options, text, cancellation).ConfigureAwait(false);
                }
            }
            return new CallFinished(call, response, call.Tally.ToolFailure);
        }
        catch (Exception error)
        {
            return new CallFinished(call, null, error is AggregateException { InnerExceptions.Count: 1 } one ? one.InnerExceptions[0] : error);
        }
    }

    private async Task<ChatResponse> AskAsync(IChatClient chat, List<ChatMessage> messages, ChatOptions options, ILlmTextSink? text,
        CancellationToken cancellation)
    {
        if (!_definition.Options.Stream) return await chat.GetResponseAsync(messages, options, cancellation).ConfigureAwait(false);
        var updates = new List<ChatResponseUpdate>();
        string? messageId = null;
        await foreach (var update in chat.GetStreamingResponseAsync(messages, options, cancellation).ConfigureAwait(false))
        {
            updates.Add(update);
            if (text is null || update.Text is not { Length: > 0 } delta) continue;
            if (messageId is null)
            {
                messageId = update.MessageId is { Length: > 0 and <= 128 } id ? id : Guid.NewGuid().ToString("N");
                text.Started(messageId, _node.Path);
            }
            text.Delta(messageId, delta);
        }
        if (messageId is not null) text!.Ended(messageId);
        return updates.ToChatResponse();
    }

    /// <summary>The step's answer: an agent's response holds the whole loop (tool calls and results), its answer is the last message.</summary>
    private string AnswerOf(ChatResponse response) => _definition.IsAgent ? response.Messages.LastOrDefault()?.Text ?? "" : response.Text;

    /// <summary>
    /// One tool call: an <c>execute_tool</c> span (current while the tool runs, so a workflow or HTTP call it makes is its
    /// child), the arguments and result under the capture policy, and a failure reported to the model or kept to fail the step.
    /// </summary>
    private async ValueTask<object?> InvokeToolAsync(FunctionInvocationContext invocation, Call call, WorkflowContext context, CancellationToken cancellation)
    {
        var tool = invocation.Function;
        var capture = _definition.Capture;
        var type = tool is ITypedTool typed ? typed.ToolType : TelemetryNames.GenAiAgents.FunctionToolType;
        var span = AgentTelemetry.StartToolSpan(tool.Name, invocation.CallContent.CallId, type, tool.Description,
            call.Span?.Context ?? default);
        if (span is { IsAllDataRequested: true })
        {
            PrimitiveTelemetry.TagRunTrace(span, _node.WorkflowName, context);
            if (capture.Enabled)
                AgentTelemetry.RecordToolArguments(span, ToolContext.ArgumentsJson(invocation.Arguments).ToJsonString(), capture);
        }
        invocation.Arguments.Context ??= new Dictionary<object, object?>();
        invocation.Arguments.Context[typeof(WorkflowContext)] = context.Metadata.ContainsKey(ToolContext.TraceNameKey)
            ? context
            : context.WithMetadata(ToolContext.TraceNameKey, _node.WorkflowName);
        invocation.Arguments.Context[typeof(LlmCallTally)] = call.Tally;
        var started = Stopwatch.GetTimestamp();
        var previous = Activity.Current;
        if (span is not null) Activity.Current = span;
        try
        {
            var result = await tool.InvokeAsync(invocation.Arguments, cancellation).ConfigureAwait(false);
            Activity.Current = previous;
            AgentTelemetry.EndToolSpan(span, tool.Name, capture.Enabled ? LlmCallClient.ResultText(result) : null, null,
                Stopwatch.GetElapsedTime(started).TotalSeconds, capture, type);
            return result;
        }
        catch (Exception error) when (!cancellation.IsCancellationRequested)
        {
            Activity.Current = previous;
            AgentTelemetry.EndToolSpan(span, tool.Name, null, error, Stopwatch.GetElapsedTime(started).TotalSeconds, capture, type);
            var message = capture.Redact(error.Message);
            if (_definition.Options.OnToolError == ToolErrorMode.Fail)
            {
                call.Tally.ToolFailure ??= new LlmToolException($"LLM step '{_node.Path}': tool '{tool.Name}' failed: {message}", error);
                invocation.Terminate = true;
            }
            return $"Error: tool '{tool.Name}' failed: {message}";
        }
        finally
        {
            Activity.Current = previous;
        }
    }

    private void Finish(CallFinished finished)
    {
        var (call, response, error) = finished;
        var execution = call.Execution;
        var client = _definition.Client;
        var outcomes = call.Tally.Outcomes;
        var last = outcomes.LastOrDefault(o => o.Error is null);
        var answer = response is null ? null : AnswerOf(response);
        if (_definition.IsAgent)
            AgentTelemetry.EndAgentSpan(call.Span, _definition.AgentName, answer, error is null ? null : Redacted(error),
                Stopwatch.GetElapsedTime(call.StartedAt).TotalSeconds, _definition.Capture, client.Provider, client.Model);

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
        var context = execution.Context;
        foreach (var record in call.Tally.Records) context = context.WithLlmCall(record);
        var succeeded = outcomes.Where(o => o.Error is null).ToList();
        long? Sum(Func<LlmCallOutcome, long?> of) => succeeded.Any(o => of(o) is not null) ? succeeded.Sum(o => of(o) ?? 0) : null;
        decimal? cost = succeeded.Count > 0 && succeeded.All(o => o.Cost is not null) ? succeeded.Sum(o => o.Cost!.Total) : null;
        if (_definition.Options.OutputSchema is not null)
        {
            execution.Succeed(finished.Json, context, Self);
            return;
        }
        execution.Succeed(new LlmResponse(
            answer!,
            last?.Model ?? response.ModelId ?? client.Model,
            client.Provider,
            new LlmUsage(Sum(o => o.InputTokens), Sum(o => o.OutputTokens), Sum(o => o.CachedInputTokens)),
            response.FinishReason?.Value ?? last?.FinishReason,
            cost,
            call.Calls.FirstToken) { ToolCalls = CountToolCalls(response) }, context, Self);
    }

    private static int CountToolCalls(ChatResponse response) =>
        response.Messages.SelectMany(m => m.Contents).OfType<FunctionResultContent>().Count();

    /// <summary>
    /// The error the step fails with: the provider's own, unless its message carries something secret-shaped, in
    /// which case a copy with the redacted message (the original would reach the step's span and the run's failure).
    /// </summary>
    private Exception Redacted(Exception error)
    {
        var message = _definition.Capture.Redact(error.Message);
        return message == error.Message ? error : new LlmCallException($"{error.GetType().FullName}: {message}");
    }

    /// <summary>One execution: <see cref="Span"/> is the agent span (null without tools).</summary>
    private sealed record Call(PrimitiveExecution Execution, Activity? Span, long StartedAt, LlmCallTally Tally, LlmCallClient Calls);

    private sealed record CallFinished(Call Call, ChatResponse? Response, Exception? Error)
    {
        /// <summary>The answer parsed and checked against the step's output schema; null for a step without one.</summary>
        public System.Text.Json.Nodes.JsonNode? Json { get; init; }
    }

    private sealed record PromptResolved(PrimitiveExecution Execution, WorkflowEnvelope Envelope, LangfusePrompt? Prompt, List<ChatMessage>? Messages,
        Exception? Error);
}
