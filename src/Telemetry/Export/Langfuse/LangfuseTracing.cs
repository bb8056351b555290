using System.Diagnostics;
using TtaActors.Telemetry.Llm;

namespace TtaActors.Telemetry.Export.Langfuse;

/// <summary>A generation as reported by code that made the LLM call itself.</summary>
public sealed record GenerationReport
{
    /// <summary>The model called (priced from the cost catalog by this name).</summary>
    public required string Model { get; init; }
    /// <summary>The provider, e.g. <c>openai</c>; <c>unknown</c> when not given.</summary>
    public string Provider { get; init; } = "unknown";
    /// <summary>The prompt text, recorded under the capture policy.</summary>
    public string? Prompt { get; init; }
    /// <summary>The completion text, recorded under the capture policy.</summary>
    public string? Completion { get; init; }
    /// <summary>Input tokens; with <see cref="OutputTokens"/> it gives the generation's cost.</summary>
    public long? InputTokens { get; init; }
    /// <summary>Output tokens; with <see cref="InputTokens"/> it gives the generation's cost.</summary>
    public long? OutputTokens { get; init; }
    /// <summary>Input tokens served from the provider's prompt cache (priced at the cached rate where the catalog has one).</summary>
    public long? CachedInputTokens { get; init; }
    /// <summary>Why the model stopped, e.g. <c>stop</c> or <c>length</c>.</summary>
    public string? FinishReason { get; init; }
    /// <summary>Extra observation metadata (<c>langfuse.observation.metadata.{key}</c>); values are redacted like content.</summary>
    public IReadOnlyDictionary<string, string>? Metadata { get; init; }

    /// <summary>When the call started and ended; both default to now (a zero-length generation).</summary>
    public DateTimeOffset? StartTime { get; init; }
    /// <summary>When the call ended; defaults to <see cref="StartTime"/>.</summary>
    public DateTimeOffset? EndTime { get; init; }
}

/// <summary>
/// The Langfuse-style API of the original library (start a trace with name, persona and chat mode, add generations,
/// end it, flush), mapped onto the same OpenTelemetry spans as workflow runs: a trace is a <c>workflow.{name}</c>
/// root span, a generation a <c>chat {model}</c> span under it, and the Langfuse exporter sends both.
/// </summary>
public sealed class LangfuseTracing(CostCatalog costs, CapturePolicy capture, Func<int, bool>? flush = null, string? serviceName = null)
{
    internal CostCatalog Costs { get; } = costs;
    internal CapturePolicy Capture { get; } = capture;
    internal string? ServiceName { get; } = serviceName;

    /// <summary>Starts a trace; nothing is recorded (and the trace id is null) when no tracer listens.</summary>
    public LangfuseTrace StartTrace(string name, string? persona = null, string? chatMode = null, string? sessionId = null,
        IEnumerable<string>? tags = null, string? input = null)
    {
        if (string.IsNullOrWhiteSpace(name)) throw new ArgumentException("A trace needs a name.", nameof(name));
        var previous = Activity.Current;
        var span = TtaInstrumentation.ActivitySource.StartActivity(TelemetryNames.Spans.WorkflowRunPrefix + name, ActivityKind.Internal,
            parentContext: default);
        Activity.Current = previous;
        var trace = new LangfuseTrace(this, span, name, persona, chatMode, sessionId, tags?.ToArray());
        if (span is { IsAllDataRequested: true })
        {
            span.SetTag(TelemetryNames.Attributes.WorkflowName, name);
            if (persona is not null) span.SetTag(TelemetryNames.Attributes.Persona, persona);
            if (chatMode is not null) span.SetTag(TelemetryNames.Attributes.ChatMode, chatMode);
            if (sessionId is not null) span.SetTag(TelemetryNames.Attributes.WorkflowSessionId, sessionId);
            trace.TagTraceAttributes(span);
            if (Capture.Apply(input) is { } recorded) span.SetTag(TelemetryNames.Langfuse.ObservationInput, recorded);
        }
        return trace;
    }

    /// <summary>Hands every finished span to the exporters and waits for them; false when the timeout passed first.</summary>
    public bool Flush(TimeSpan timeout) => flush?.Invoke((int)Math.Clamp(timeout.TotalMilliseconds, 0, int.MaxValue)) ?? true;
}

/// <summary>One trace of the Langfuse-style API; dispose or <see cref="End"/> it to finish its root span.</summary>
public sealed class LangfuseTrace : IDisposable
{
    private readonly LangfuseTracing _owner;
    private readonly Activity? _span;
    private readonly string _name;
    private readonly string? _persona;
    private readonly string? _chatMode;
    private readonly string? _sessionId;
    private readonly string[]? _tags;

    internal LangfuseTrace(LangfuseTracing owner, Activity? span, string name, string? persona, string? chatMode, string? sessionId, string[]? tags)
    {
        _owner = owner;
        _span = span;
        _name = name;
        _persona = persona;
        _chatMode = chatMode;
        _sessionId = sessionId;
        _tags = tags;
    }

    /// <summary>The Langfuse trace id (the OpenTelemetry trace id in hex), or null when nothing is recorded.</summary>
    public string? TraceId => _span?.TraceId.ToHexString();

    /// <summary>True once <see cref="End"/> or <see cref="Dispose"/> was called; a generation added afterwards throws.</summary>
    public bool IsEnded { get; private set; }

    /// <summary>Records one LLM call as a generation of this trace, with its cost from the catalog; returns that cost.</summary>
    public LlmCost? CreateGeneration(GenerationReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        if (IsEnded) throw new InvalidOperationException($"Trace '{_name}' has ended; start a new trace for more generations.");
        var cost = report.InputTokens is { } input && report.OutputTokens is { } output
            ? _owner.Costs.Cost(report.Model, input, output, report.CachedInputTokens ?? 0)
            : null;
        var start = report.StartTime ?? DateTimeOffset.UtcNow;
        var end = report.EndTime ?? start;
        var outcome = new LlmCallOutcome
        {
            Provider = report.Provider,
            RequestModel = report.Model,
            ResponseModel = report.Model,
            InputTokens = report.InputTokens,
            OutputTokens = report.OutputTokens,
            CachedInputTokens = report.CachedInputTokens,
            FinishReason = report.FinishReason,
            Cost = cost,
            DurationSeconds = (end - start).TotalSeconds,
            Output = report.Completion,
        };
        if (_span is not null)
        {
            var generation = LlmCallTelemetry.StartChatSpan(report.Provider, report.Model, _span.Context, startTime: start, conventions: _owner.Capture.Conventions);
            if (generation is not null)
            {
                if (generation.IsAllDataRequested)
                {
                    TagTraceAttributes(generation);
                    LlmCallTelemetry.RecordInput(generation, report.Prompt, _owner.Capture);
                    foreach (var (key, value) in report.Metadata ?? new Dictionary<string, string>())
                        generation.SetTag(TelemetryNames.Langfuse.ObservationMetadataPrefix + key, _owner.Capture.Redact(value));
                }
                LlmCallTelemetry.EndChatSpan(generation, outcome, _owner.Capture, end);
            }
        }
        LlmCallTelemetry.RecordMetrics(outcome, _persona, _owner.ServiceName);
        return cost;
    }

    /// <summary>Ends the trace, with its output if given.</summary>
    public void End(string? output = null)
    {
        if (IsEnded) return;
        IsEnded = true;
        if (_span is null) return;
        if (_span.IsAllDataRequested && _owner.Capture.Apply(output) is { } recorded)
            _span.SetTag(TelemetryNames.Langfuse.ObservationOutput, recorded);
        var previous = Activity.Current;
        _span.Stop();
        Activity.Current = previous;
    }

    /// <summary>Ends the trace without output (see <see cref="End"/>).</summary>
    public void Dispose() => End();

    internal void TagTraceAttributes(Activity span) =>
        LangfuseTraceAttributes.Tag(span, _name, _persona, _sessionId, _chatMode, _owner.ServiceName, _tags);
}
