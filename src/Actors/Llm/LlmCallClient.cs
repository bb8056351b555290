using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Microsoft.Extensions.AI;
using TtaActors.Actors.Context;
using TtaActors.Actors.Execution;
using TtaActors.Actors.Llm.RateLimits;
using TtaActors.Telemetry;
using TtaActors.Telemetry.Llm;

namespace TtaActors.Actors.Llm;

/// <summary>The LLM calls one step made (each chat call of an agent, and those of the workflows it ran as tools).</summary>
internal sealed class LlmCallTally
{
    private readonly Lock _lock = new();
    private readonly List<LlmCallOutcome> _outcomes = [];
    private readonly List<LlmCallRecord> _records = [];

    /// <summary>Set by a failing tool when the step fails on tool errors.</summary>
    public Exception? ToolFailure { get; set; }

    public IReadOnlyList<LlmCallOutcome> Outcomes
    {
        get { lock (_lock) return _outcomes.ToList(); }
    }

    public IReadOnlyList<LlmCallRecord> Records
    {
        get { lock (_lock) return _records.ToList(); }
    }

    public void Add(LlmCallOutcome outcome)
    {
        lock (_lock)
        {
            _outcomes.Add(outcome);
            if (outcome.Error is null)
                _records.Add(new LlmCallRecord(outcome.Provider, outcome.Model, outcome.InputTokens ?? 0, outcome.OutputTokens ?? 0, outcome.Cost?.Total));
        }
    }

    public void AddNested(IEnumerable<LlmCallRecord> calls)
    {
        lock (_lock) _records.AddRange(calls);
    }

    public (long Tokens, decimal Cost) Spent()
    {
        lock (_lock) return (_records.Sum(r => r.InputTokens + r.OutputTokens), _records.Sum(r => r.CostUsd ?? 0m));
    }
}

/// <summary>
/// Wraps the provider's client for one step execution: before each call it checks the run's budget, then makes the call a
/// <c>chat {model}</c> client span (under the agent span, or the step's span without tools) with usage and cost, and
/// records it in the LLM metrics and the step's tally. Under a <see cref="FunctionInvokingChatClient"/> every model call of
/// the tool loop passes through here. <paramref name="ended"/> sees each call's outcome while its span is still current-able
/// (before it stops), for the call's log line.
/// </summary>
internal sealed class LlmCallClient(
    IChatClient inner,
    LlmPrimitive definition,
    string workflowName,
    string stepPath,
    WorkflowContext context,
    ActivityContext parent,
    LlmCallTally tally,
    Action<LlmCallOutcome, Activity?>? ended = null,
    DateTimeOffset? deadline = null) : DelegatingChatClient(inner)
{
    private readonly LlmClient _client = definition.Client;

    public TimeSpan? FirstToken { get; private set; }

    /// <summary>The Langfuse prompt the step's messages came from; its name and version link each generation to it.</summary>
    public Prompts.LangfusePrompt? Prompt { get; init; }

    public override async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        var list = messages as IReadOnlyList<ChatMessage> ?? messages.ToList();
        var estimate = Estimate(list);
        CheckBudget(estimate);
        var span = Start(list);
        var started = Stopwatch.GetTimestamp();
        ChatResponse? response = null;
        Exception? error = null;
        RateLimitLease? lease = null;
        var scope = Scope(span);
        try
        {
            lease = await AcquireAsync(span, estimate, cancellationToken).ConfigureAwait(false);
            started = Stopwatch.GetTimestamp();
            using (LlmCallScope.Enter(scope)) response = await base.GetResponseAsync(list, options, cancellationToken).ConfigureAwait(false);
            return response;
        }
        catch (Exception failure)
        {
            error = scope.Failure ?? failure;
            if (scope.Failure is { } limited) throw limited;
            throw;
        }
        finally
        {
            lease?.Settle(Total(response?.Usage));
            End(span, started, response, error, null, null);
        }
    }

    public override async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages,
        ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var list = messages as IReadOnlyList<ChatMessage> ?? messages.ToList();
        var estimate = Estimate(list);
        CheckBudget(estimate);
        var span = Start(list);
        var started = Stopwatch.GetTimestamp();
        var updates = new List<ChatResponseUpdate>();
        TimeSpan? firstToken = null;
        DateTimeOffset? firstTokenAt = null;
        Exception? error = null;
        RateLimitLease? lease = null;
        var scope = Scope(span);
        try
        {
            lease = await AcquireAsync(span, estimate, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception failure)
        {
            End(span, started, null, failure, null, null);
            throw;
        }
        started = Stopwatch.GetTimestamp();
        var stream = base.GetStreamingResponseAsync(list, options, cancellationToken).GetAsyncEnumerator(cancellationToken);
        ChatResponse? response = null;
        try
        {
            while (true)
            {
                ChatResponseUpdate update;
                try
                {
                    bool moved;
                    // The request goes out (and a 429 is waited out) inside the first MoveNextAsync.
                    using (LlmCallScope.Enter(scope)) moved = await stream.MoveNextAsync().ConfigureAwait(false);
                    if (!moved) break;
                    update = stream.Current;
                }
                catch (Exception failure)
                {
                    error = scope.Failure ?? failure;
                    if (scope.Failure is { } limited) throw limited;
                    throw;
                }
                if (firstToken is null && !string.IsNullOrEmpty(update.Text))
                {
                    firstToken = Stopwatch.GetElapsedTime(started);
                    firstTokenAt = DateTimeOffset.UtcNow;
                    FirstToken ??= firstToken;
                }
                updates.Add(update);
                yield return update;
            }
        }
        finally
        {
            await stream.DisposeAsync().ConfigureAwait(false);
            response = error is null ? updates.ToChatResponse() : null;
            lease?.Settle(Total(response?.Usage));
            End(span, started, response, error, firstToken, firstTokenAt);
        }
    }

    private static long? Total(UsageDetails? usage) =>
        usage is null || (usage.InputTokenCount is null && usage.OutputTokenCount is null)
            ? usage?.TotalTokenCount
            : (usage.InputTokenCount ?? 0) + (usage.OutputTokenCount ?? 0);

    /// <summary>The call's tokens before it is sent: the prompt's count, and max_tokens for the answer (0 without it).</summary>
    private (long Input, long Output) Estimate(IReadOnlyList<ChatMessage> messages) =>
        (_client.CountInputTokens(messages), definition.Options.MaxTokens ?? 0);

    private LlmCallScope Scope(Activity? span) => new()
    {
        Provider = _client.Provider,
        Model = _client.Model,
        Deadline = deadline,
        Waited = (reason, wait, retry) => RecordWait(span, reason, wait, retry),
    };

    /// <summary>Waits (a timer, no thread) for the provider's and model's rate limits, each wait an event on the chat span.</summary>
    private ValueTask<RateLimitLease?> AcquireAsync(Activity? span, (long Input, long Output) estimate, CancellationToken cancellation) =>
        definition.RateLimits.AcquireAsync(_client.Provider, _client.Model, estimate.Input + estimate.Output, deadline,
            (reason, wait) => RecordWait(span, reason, wait, null), cancellation);

    private static void RecordWait(Activity? span, string reason, TimeSpan wait, int? retry)
    {
        if (span is not { IsAllDataRequested: true }) return;
        var tags = new ActivityTagsCollection
        {
            [TelemetryNames.LlmRateLimits.WaitReasonAttribute] = reason,
            [TelemetryNames.LlmRateLimits.WaitSecondsAttribute] = wait.TotalSeconds,
        };
        if (retry is { } attempt) tags[TelemetryNames.LlmRateLimits.RetryAttemptAttribute] = attempt;
        span.AddEvent(new ActivityEvent(TelemetryNames.LlmRateLimits.WaitEvent, tags: tags));
    }

    /// <summary>
    /// The run's cost and token limits and the session's token budget, each against what the run (and, for the session,
    /// the persona before it) has spent plus this call's estimate; checked before every call, tool-loop calls included.
    /// </summary>
    private void CheckBudget((long Input, long Output) estimate)
    {
        var budget = definition.Budget;
        var session = context.SessionBudget;
        if (budget.IsNone && session is null) return;
        var before = context.LlmCalls;
        var (tokens, cost) = tally.Spent();
        var spent = (tokens + before.Sum(c => c.InputTokens + c.OutputTokens), cost + before.Sum(c => c.CostUsd ?? 0m));
        LlmBudgetCheck.CheckSession(session, stepPath, _client.Model, spent.Item1, estimate.Input, estimate.Output);
        if (budget.IsNone) return;
        var estimatedCost = definition.Costs.Cost(_client.Model, estimate.Input, estimate.Output)?.Total;
        LlmBudgetCheck.Check(budget, stepPath, _client.Model, spent, estimate.Input, estimate.Output, estimatedCost);
    }

    private Activity? Start(IReadOnlyList<ChatMessage> messages)
    {
        var capture = definition.Capture;
        var span = LlmCallTelemetry.StartChatSpan(_client.Provider, _client.Model, parent, definition.Options.Temperature, definition.Options.MaxTokens,
            conversationId: context.SessionId, conventions: capture.Conventions);
        if (span is { IsAllDataRequested: true })
        {
            PrimitiveTelemetry.TagRunTrace(span, workflowName, context);
            var input = Render(messages, capture);
            if (input is not null) span.SetTag(TelemetryNames.LlmObservations.Input, input);
            if (capture.Conventions == GenAiConventions.LatestExperimental)
            {
                var (inputMessages, instructions) = GenAiMessages.Input(messages, capture);
                LlmCallTelemetry.RecordContent(span, capture, null, inputMessages, instructions);
            }
            else LlmCallTelemetry.RecordContent(span, capture, input, null, null);
            if (Prompt is not null)
            {
                span.SetTag(TelemetryNames.LlmObservations.PromptName, Prompt.Name);
                // A fallback prompt has no version in Langfuse: naming one would be a lie.
                if (Prompt.IsFallback) span.SetTag(TelemetryNames.LlmObservations.PromptFallback, true);
                else if (Prompt.Version is { } version) span.SetTag(TelemetryNames.LlmObservations.PromptVersion, version);
            }
        }
        return span;
    }

    private void End(Activity? span, long started, ChatResponse? response, Exception? error, TimeSpan? firstToken, DateTimeOffset? firstTokenAt)
    {
        var usage = response?.Usage;
        var responseModel = response?.ModelId;
        var cost = usage is { InputTokenCount: { } input, OutputTokenCount: { } output }
            ? definition.Costs.Cost(responseModel ?? _client.Model, input, output, usage.CachedInputTokenCount ?? 0)
            : null;
        var outcome = new LlmCallOutcome
        {
            Provider = _client.Provider,
            RequestModel = _client.Model,
            ResponseModel = responseModel,
            ResponseId = response?.ResponseId,
            InputTokens = usage?.InputTokenCount,
            OutputTokens = usage?.OutputTokenCount,
            CachedInputTokens = usage?.CachedInputTokenCount,
            FinishReason = response?.FinishReason?.Value,
            Cost = cost,
            DurationSeconds = Stopwatch.GetElapsedTime(started).TotalSeconds,
            TimeToFirstTokenSeconds = firstToken?.TotalSeconds,
            FirstTokenAt = firstTokenAt,
            Output = response is null ? null : OutputText(response),
            Error = error,
        };
        ended?.Invoke(outcome, span);
        if (span is not null)
        {
            var outputMessages = response is not null && definition.Capture.Conventions == GenAiConventions.LatestExperimental
                ? GenAiMessages.Output(response, definition.Capture)
                : null;
            LlmCallTelemetry.EndChatSpan(span, outcome, definition.Capture, outputMessages: outputMessages);
        }
        LlmCallTelemetry.RecordMetrics(outcome, context.Persona, context.Workspace);
        tally.Add(outcome);
    }

    /// <summary>The completion as recorded: its text, or the tool calls the model asked for when it wrote none.</summary>
    private static string OutputText(ChatResponse response)
    {
        if (!string.IsNullOrEmpty(response.Text)) return response.Text;
        var calls = response.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>().ToList();
        return calls.Count == 0 ? response.Text : JsonSerializer.Serialize(calls.Select(ToolCallJson));
    }

    /// <summary>
    /// The conversation as <c>llm.input</c> records it (and Langfuse shows chat input): a JSON array of role and content (OpenAI's shape, with
    /// <c>tool_calls</c> and <c>tool_call_id</c> for tool turns), each text captured per policy.
    /// </summary>
    internal static string? Render(IReadOnlyList<ChatMessage> messages, CapturePolicy capture)
    {
        if (!capture.Enabled) return null;
        var items = new List<Dictionary<string, object?>>();
        foreach (var message in messages)
        {
            var results = message.Contents.OfType<FunctionResultContent>().ToList();
            if (results.Count > 0)
            {
                foreach (var result in results)
                {
                    items.Add(new Dictionary<string, object?>
                    {
                        ["role"] = "tool",
                        ["tool_call_id"] = result.CallId,
                        ["content"] = capture.Apply(ResultText(result.Result)),
                    });
                }
                continue;
            }
            var item = new Dictionary<string, object?> { ["role"] = message.Role.Value, ["content"] = capture.Apply(message.Text) };
            var calls = message.Contents.OfType<FunctionCallContent>().ToList();
            if (calls.Count > 0) item["tool_calls"] = calls.Select(c => ToolCallJson(c, capture)).ToList();
            items.Add(item);
        }
        // Each content is already truncated and redacted; the policy must not cut the JSON itself.
        return JsonSerializer.Serialize(items);
    }

    private static Dictionary<string, object?> ToolCallJson(FunctionCallContent call) => ToolCallJson(call, null);

    private static Dictionary<string, object?> ToolCallJson(FunctionCallContent call, CapturePolicy? capture)
    {
        var arguments = call.Arguments is null ? "{}" : JsonSerializer.Serialize(call.Arguments, AIJsonUtilities.DefaultOptions);
        return new Dictionary<string, object?>
        {
            ["id"] = call.CallId,
            ["type"] = "function",
            ["function"] = new Dictionary<string, object?> { ["name"] = call.Name, ["arguments"] = capture is null ? arguments : capture.Apply(arguments) },
        };
    }

    internal static string? ResultText(object? result) => result switch
    {
        null => null,
        string text => text,
        JsonElement { ValueKind: JsonValueKind.String } element => element.GetString(),
        _ => JsonSerializer.Serialize(result, AIJsonUtilities.DefaultOptions),
    };
}
