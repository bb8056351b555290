using System.Diagnostics;
using System.Runtime.CompilerServices;
using TtaActors.Actors.Context;
using TtaActors.Telemetry;

namespace TtaActors.Actors.Execution;

/// <summary>Spans and metrics of primitive executions, kept off the allocation path when nobody listens.</summary>
internal static class PrimitiveTelemetry
{
    /// <summary>Label value when a run has no workspace; the runtime always sets one.</summary>
    internal const string UnknownService = "unknown_service";

    /// <summary>
    /// Starts a span under <paramref name="parent"/> without leaving it as <see cref="Activity.Current"/>: a
    /// mailbox run processes many messages on one thread, and one run's span must not become another's parent.
    /// With <paramref name="leaveCurrent"/> the span stays current, for a caller that runs user code under it and
    /// restores the previous current activity itself (each change of Activity.Current allocates a new execution context).
    /// </summary>
    public static Activity? StartSpan(string name, ActivityKind kind, TraceParent parent, bool leaveCurrent = false)
    {
        var source = TtaInstrumentation.ActivitySource;
        if (!source.HasListeners()) return null;
        var previous = Activity.Current;
        var activity = parent.IsEmpty
            ? source.StartActivity(name, kind, parentContext: default)
            : source.StartActivity(name, kind, parent.ToActivityContext());
        if (activity is not null && !leaveCurrent) Activity.Current = previous;
        return activity;
    }

    /// <summary>
    /// Starts the span of an execution of <paramref name="node"/> (see <see cref="StartSpan"/>) with its attributes: the
    /// primitive's name and type, the run's ids, session, persona, chat mode and tags, and the node's position.
    /// </summary>
    /// <remarks>
    /// The attributes are handed to the source with the span's start, so the span is made holding them: appended one by
    /// one, each would take the span's lock. Positions are boxed once per node, not per span. Only contract attributes:
    /// exporters that name them otherwise (Langfuse's user, session, metadata and tags) derive their names on their side
    /// when they encode the span.
    /// </remarks>
    public static Activity? StartPrimitiveSpan(PrimitiveNode node, TraceParent parent, WorkflowContext context, bool leaveCurrent = false)
    {
        var source = TtaInstrumentation.ActivitySource;
        if (!source.HasListeners()) return null;
        var previous = Activity.Current;
        var tags = SpanTags.Rent();
        tags.Add(TelemetryNames.Attributes.PrimitiveName, node.Name);
        tags.Add(TelemetryNames.Attributes.PrimitiveType, node.TypeName);
        tags.Add(TelemetryNames.Attributes.WorkflowId, context.WorkflowId);
        tags.Add(TelemetryNames.Attributes.WorkflowCorrelationId, context.CorrelationId);
        if (context.SessionId is not null) tags.Add(TelemetryNames.Attributes.WorkflowSessionId, context.SessionId);
        if (context.Persona is not null) tags.Add(TelemetryNames.Attributes.Persona, context.Persona);
        if (context.ChatMode is not null) tags.Add(TelemetryNames.Attributes.ChatMode, context.ChatMode);
        if (RunTags.Of(context.Tags) is { } runTags) tags.Add(TelemetryNames.Attributes.WorkflowTags, runTags);
        if (node.StepIndexTag is { } step) tags.Add(TelemetryNames.Attributes.StepIndex, step);
        if (node.BranchIndexTag is { } branch) tags.Add(TelemetryNames.Attributes.BranchIndex, branch);
        Activity? activity;
        try
        {
            activity = source.StartActivity(node.SpanName, ActivityKind.Internal, parent.ToActivityContext(), tags);
        }
        finally
        {
            tags.Return();
        }
        if (activity is not null && !leaveCurrent) Activity.Current = previous;
        return activity;
    }

    /// <summary>
    /// The attributes of one primitive span while it starts: one instance per thread, reused, so that handing them to the
    /// source allocates nothing. The source enumerates them only while it makes the span (samplers see them then).
    /// </summary>
    private sealed class SpanTags : IEnumerable<KeyValuePair<string, object?>>, IEnumerator<KeyValuePair<string, object?>>
    {
        /// <summary>The most attributes <see cref="StartPrimitiveSpan"/> gives a span.</summary>
        private const int Capacity = 10;

        [ThreadStatic] private static SpanTags? _free;

        private readonly KeyValuePair<string, object?>[] _tags = new KeyValuePair<string, object?>[Capacity];
        private int _count;
        private int _position = -1;

        /// <summary>This thread's instance; a new one if it is in use (a listener starting a span while one starts).</summary>
        public static SpanTags Rent()
        {
            var tags = _free ?? new SpanTags();
            _free = null;
            return tags;
        }

        /// <summary>Forgets the values (they are not kept alive) and makes the instance this thread's again.</summary>
        public void Return()
        {
            Array.Clear(_tags, 0, _count);
            _count = 0;
            _position = -1;
            _free = this;
        }

        public void Add(string key, object? value) => _tags[_count++] = new(key, value);

        public IEnumerator<KeyValuePair<string, object?>> GetEnumerator()
        {
            _position = -1;
            return this;
        }

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

        public bool MoveNext() => ++_position < _count;

        public KeyValuePair<string, object?> Current => _tags[_position];

        object System.Collections.IEnumerator.Current => Current;

        public void Reset() => _position = -1;

        public void Dispose()
        {
        }
    }

    /// <summary>The run's session, persona, chat mode and tags on a span just started, appended without the scan <c>SetTag</c> makes.</summary>
    public static void TagRunFields(Activity span, WorkflowContext context)
    {
        if (context.SessionId is not null) span.AddTag(TelemetryNames.Attributes.WorkflowSessionId, context.SessionId);
        if (context.Persona is not null) span.AddTag(TelemetryNames.Attributes.Persona, context.Persona);
        if (context.ChatMode is not null) span.AddTag(TelemetryNames.Attributes.ChatMode, context.ChatMode);
        if (RunTags.Of(context.Tags) is { } tags) span.AddTag(TelemetryNames.Attributes.WorkflowTags, tags);
    }

    /// <summary>
    /// The run's trace fields on a span that may already hold tags (a run's root, an LLM, agent or tool span): the trace
    /// name, workspace, persona, session, chat mode and tags, from which the Langfuse exporter makes the trace's fields.
    /// </summary>
    /// <remarks>A workflow run as an agent's tool keeps the calling run's trace name (one trace, one name).</remarks>
    public static void TagRunTrace(Activity span, string workflowName, WorkflowContext context)
    {
        span.SetTag(TelemetryNames.Attributes.WorkflowTraceName,
            context.Metadata.Count > 0 && context.Metadata.TryGetValue(Llm.ToolContext.TraceNameKey, out var traceName) ? traceName : workflowName);
        if (context.Workspace is not null) span.SetTag(TelemetryNames.Attributes.WorkflowWorkspace, context.Workspace);
        if (context.SessionId is not null) span.SetTag(TelemetryNames.Attributes.WorkflowSessionId, context.SessionId);
        if (context.Persona is not null) span.SetTag(TelemetryNames.Attributes.Persona, context.Persona);
        if (context.ChatMode is not null) span.SetTag(TelemetryNames.Attributes.ChatMode, context.ChatMode);
        if (RunTags.Of(context.Tags) is { } tags) span.SetTag(TelemetryNames.Attributes.WorkflowTags, tags);
    }

    /// <summary>The OpenTelemetry exception event attribute that <see cref="Activity.AddException"/> fills from <c>ToString()</c>.</summary>
    private const string ExceptionStackTraceTag = "exception.stacktrace";

    /// <summary>
    /// An exception's text, made once: a failure is recorded on the span of every primitive it passes on its way up (the
    /// step, a retry attempt, each enclosing composite), and formatting its stack trace costs kilobytes each time.
    /// </summary>
    private static readonly ConditionalWeakTable<Exception, string> StackTraces = new();

    /// <summary>Ends a span with its outcome; stopping restores nothing on this thread (see <see cref="StartSpan"/>).</summary>
    public static void EndSpan(Activity span, string status, Exception? error, string? errorMessage)
    {
        var previous = Activity.Current;
        // Appended, not set: nothing else writes the status, and a span ends once, so the scan SetTag makes would find nothing.
        if (span.IsAllDataRequested) span.AddTag(TelemetryNames.Attributes.PrimitiveStatus, status);
        if (errorMessage is not null)
        {
            span.SetStatus(ActivityStatusCode.Error, errorMessage);
            if (error is not null && span.IsAllDataRequested)
                span.AddException(error, new TagList { { ExceptionStackTraceTag, StackTraces.GetValue(error, static e => e.ToString()) } });
        }
        span.Stop();
        // When the span ending was itself current (a leaf step completing synchronously under its own span), Stop has
        // already moved Current to its parent; assigning the stopped span back would make Activity throw and catch
        // an InvalidOperationException internally on every call, which cost more than everything else a span does.
        if (previous is null || !previous.IsStopped) Activity.Current = previous;
    }

    /// <summary>
    /// The start of an execution for its duration metric: nothing when it has a span, whose own start and stop times give
    /// the duration (the metric and the span then agree exactly, and a step reads the clock two times less); else now.
    /// </summary>
    public static long StartedAt(Activity? span) => span is null ? Stopwatch.GetTimestamp() : 0;

    /// <summary>Seconds since <see cref="StartedAt"/>: the stopped span's duration, else the time since the timestamp.</summary>
    public static double Elapsed(Activity? span, long startedAt) =>
        span is not null ? span.Duration.TotalSeconds : Stopwatch.GetElapsedTime(startedAt).TotalSeconds;

    public static void RecordExecution(PrimitiveNode node, WorkflowContext context, string status, double seconds)
    {
        var duration = TtaInstrumentation.PrimitiveExecutionDuration;
        var count = TtaInstrumentation.PrimitiveExecutions;
        if (!duration.Enabled && !count.Enabled) return;
        var persona = context.Persona is { } named ? LabelValueBound.Personas.Bound(TelemetryNames.Labels.Persona, named) : TelemetryNames.NoPersona;
        var service = context.Workspace ?? UnknownService;
        if (duration.Enabled)
        {
            duration.Record(seconds, new TagList
            {
                { TelemetryNames.Labels.PrimitiveName, node.Name },
                { TelemetryNames.Labels.PrimitiveType, node.TypeName },
                { TelemetryNames.Labels.Status, status },
                { TelemetryNames.Labels.Persona, persona },
                { TelemetryNames.Labels.ServiceName, service },
            });
        }
        if (count.Enabled) ExecutionCounts.Increment(node, status, persona, service);
    }
}
