using System.Diagnostics;
using System.Text.RegularExpressions;
using System.Runtime.CompilerServices;
using Akka.Actor;
using Akka.Configuration;
using TtaActors.Actors.Context;
using TtaActors.Actors.Primitives;
using TtaActors.Telemetry;
using TtaActors.Telemetry.Llm;

namespace TtaActors.Actors.Execution;

/// <summary>Settings of a materialised workflow.</summary>
public sealed record WorkflowGraphOptions
{
    /// <summary>The workspace (service name) of runs whose context names none.</summary>
    public string ServiceName { get; init; } = "tta-dev-main";

    /// <summary>
    /// Deadline of runs that set none. Null takes <c>tta.workflow.default-deadline</c> from the actor system's
    /// configuration (<see cref="WorkflowGraph.BuiltInDefaultDeadline"/> when it has none);
    /// <see cref="Timeout.InfiniteTimeSpan"/> lets runs take as long as they take.
    /// </summary>
    public TimeSpan? DefaultTimeout { get; init; }

    /// <summary>The clock of run deadlines and checkpoint timestamps; the system clock unless a test moves time by hand.</summary>
    public TimeProvider Clock { get; init; } = TimeProvider.System;

    /// <summary>
    /// Whether composites run a leaf step of user code (<see cref="LambdaPrimitive"/>) inside their own turn, under the
    /// step's own span and metrics, instead of sending it to a leaf actor: two messages less per step. On by default.
    /// Sequential, Retry and the single-child composites do; Parallel and Timeout always dispatch to leaf actors (branches
    /// run side by side; a timer must be able to fire while the step runs). The hook of durable runs
    /// (<c>CompositeActor.StepCompleted</c>) sees every answer either way, except an inline step's immediate success in a
    /// Sequential, which goes to <c>InlineStepSucceeded</c> without an answer object. Turn it off when steps are synchronous and slow
    /// (a blocking call, heavy computation): run inline, such a step holds up the composite's other runs, where a leaf
    /// actor would let runs in other steps go on.
    /// </summary>
    public bool InlineLeafSteps { get; init; } = true;

    /// <summary>
    /// How many copies of the graph's actors share its runs (each run goes to one, in turn), so that one mailbox does not
    /// bound a graph's throughput; null takes the number of processors. A graph with a primitive whose state is shared
    /// by all its runs (a circuit breaker, a cache) is always materialised once.
    /// </summary>
    public int? RootInstances { get; init; }

    /// <summary>
    /// What of a run's input and output its root span records (<c>workflow.input</c> / <c>.output</c>, Langfuse's trace input and output):
    /// truncated and redacted like prompts; a disabled policy records neither. Off by default, because a run's output can
    /// hold what its steps keep out of their own spans (rows read from a database, a sandbox's output); the runtime passes
    /// the LLM capture policy (<c>TTA_LLM_CAPTURE</c>, its size and patterns), so its runs are recorded unless that is off.
    /// </summary>
    public CapturePolicy TraceContent { get; init; } = NoRunContent;

    private static readonly CapturePolicy NoRunContent = CapturePolicy.Default with { Enabled = false };
}

/// <summary>Per-run options.</summary>
public sealed record RunOptions
{
    /// <summary>
    /// The run's deadline, measured from its start; overrides the graph's default. <see cref="System.Threading.Timeout.InfiniteTimeSpan"/>
    /// runs without a deadline.
    /// </summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>
    /// Records timing checkpoints in the run's context (<see cref="WorkflowContext.Checkpoints"/>), named as the original
    /// library names them (<c>{name}.start</c>, <c>sequential.step_{i}.start</c>, ...). Off by default: each one is a new
    /// context and list node.
    /// </summary>
    public bool RecordCheckpoints { get; init; }

    /// <summary>Cancelling it fails the run with an <see cref="OperationCanceledException"/>.</summary>
    public CancellationToken Cancellation { get; init; }

    /// <summary>The Langfuse trace the run belongs to; by default the run's own trace id.</summary>
    public string? LangfuseTraceId { get; init; }

    /// <summary>The run's id when it was allotted beforehand (a persona session records the run under it); by default a new one.</summary>
    public RunId? RunId { get; init; }

    /// <summary>Where streaming LLM steps of the run send their text as it arrives (a durable run's entity); null sends it nowhere.</summary>
    public Llm.ILlmTextSink? TextSink { get; init; }
}

/// <summary>The answer to one run: its output or its failure, the context it ended with and its trace id.</summary>
public sealed record WorkflowRunResult(RunId RunId, object? Output, WorkflowContext Context, WorkflowFailure? Failure, string? TraceId)
{
    /// <summary>True when the run answered an output (<see cref="Failure"/> is null).</summary>
    public bool Succeeded => Failure is null;

    /// <summary>The run's LLM calls, tokens and cost (of the context it ended with).</summary>
    public RunLlmUsage LlmUsage => RunLlmUsage.Of(Context.LlmCalls);
}

/// <summary>
/// A workflow definition materialised into long-lived actors, one per node of the definition tree. Many runs
/// flow through it at once; each primitive actor keeps per-run state keyed by dispatch, so runs never mix.
/// </summary>
/// <remarks>
/// Stopping the graph (<see cref="StopAsync"/>, or disposing it) stops its actors and fails its runs in flight with
/// <see cref="WorkflowGraphStoppedException"/>; runs started after that fail at once with the same error.
/// </remarks>
public sealed class WorkflowGraph : IAsyncDisposable
{
    /// <summary>The deadline of runs when neither the run, the graph's options nor the configuration set one.</summary>
    public static readonly TimeSpan BuiltInDefaultDeadline = TimeSpan.FromMinutes(5);

    /// <summary>The configuration key of the default deadline: a duration (<c>5m</c>, <c>30s</c>) or <c>none</c>.</summary>
    public const string DefaultDeadlineKey = "tta.workflow.default-deadline";

    /// <summary>The most copies of a graph's actors <see cref="WorkflowGraphOptions.RootInstances"/> may ask for.</summary>
    public const int MaxRootInstances = 64;

    private static long _instances;
    private readonly StrongBox<long> _runsActive;
    private readonly IActorRefProvider _provider;
    private readonly IActorRef[] _roots;
    private uint _nextRoot;
    private readonly RunsInFlight _runs;
    private volatile bool _stopping;
    private int _stopped;

    private WorkflowGraph(string name, Primitive definition, IActorRef[] roots, PrimitiveNode rootNode, WorkflowGraphOptions options,
        TimeSpan? defaultDeadline)
    {
        _provider = ((IInternalActorRef)roots[0]).Provider;
        _roots = roots;
        Name = name;
        Definition = definition;
        Root = roots[0];
        RootNode = rootNode;
        Options = options;
        DefaultDeadline = defaultDeadline;
        RunSpanName = TelemetryNames.Spans.WorkflowRunPrefix + name;
        _runs = new RunsInFlight(options.Clock, defaultDeadline);
        _runsActive = RunLifecycleCounters.RunsActiveOf(name);
    }

    /// <summary>The workflow's name: the root span is <c>workflow.{Name}</c> and the label of its metrics.</summary>
    public string Name { get; }
    /// <summary>The definition the graph was materialised from.</summary>
    public Primitive Definition { get; }

    /// <summary>The root actor of the graph's first copy (see <see cref="Roots"/>).</summary>
    public IActorRef Root { get; }

    /// <summary>The root actors of every copy of the graph (<see cref="WorkflowGraphOptions.RootInstances"/>).</summary>
    public IReadOnlyList<IActorRef> Roots => _roots;
    /// <summary>The options the graph was materialised with.</summary>
    public WorkflowGraphOptions Options { get; }
    internal PrimitiveNode RootNode { get; }

    /// <summary>The graph's runs in flight: their shared deadline timer, and their end when the graph stops.</summary>
    internal RunsInFlight Runs => _runs;

    /// <summary>The provider of the actor system the graph's actors are in.</summary>
    internal IActorRefProvider Provider => _provider;
    internal string RunSpanName { get; }

    /// <summary>The deadline of runs that set none; null when runs have no deadline.</summary>
    public TimeSpan? DefaultDeadline { get; }

    /// <summary>Spawns the actors of <paramref name="definition"/> under <paramref name="system"/>.</summary>
    public static WorkflowGraph Materialize(ActorSystem system, Primitive definition, string name, WorkflowGraphOptions? options = null) =>
        Materialize(system, system.Settings.Config, definition, name, options);

    /// <summary>Spawns the actors of <paramref name="definition"/> as children of an actor (or the system).</summary>
    /// <param name="config">Where <see cref="DefaultDeadlineKey"/> is read when the options set no default timeout.</param>
    /// <param name="factory">The actor (or actor system) the graph's actors become children of.</param>
    /// <param name="definition">The workflow tree.</param>
    /// <param name="name">The workflow's name (root span <c>workflow.{name}</c>).</param>
    /// <param name="options">Pooling, inlining and deadline settings; the defaults when null.</param>
    public static WorkflowGraph Materialize(IActorRefFactory factory, Config config, Primitive definition, string name,
        WorkflowGraphOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(definition);
        if (string.IsNullOrWhiteSpace(name)) throw new ArgumentException("A workflow needs a name.", nameof(name));
        options ??= new WorkflowGraphOptions();
        var defaultDeadline = Bounded(options.DefaultTimeout ?? ConfiguredDeadline(config));
        if (options.RootInstances is < 1 or > MaxRootInstances)
            throw new ArgumentOutOfRangeException(nameof(options), options.RootInstances,
                $"RootInstances of workflow '{name}' must be between 1 and {MaxRootInstances} (or null for one per processor).");
        var node = PrimitiveNode.Root(definition, name, options.InlineLeafSteps);
        var actorName = $"workflow-{ActorNameUnsafe.Replace(name, "_")}-{Interlocked.Increment(ref _instances)}";
        // Before any actor exists, so that a breaker's status can be asked for as soon as this returns.
        foreach (var breaker in Descendants(definition).OfType<CircuitBreakerPrimitive>()) breaker.ExpectMaterialisation();
        var copies = Descendants(definition).Any(p => p.SharesStateAcrossRuns)
            ? 1
            : options.RootInstances ?? Math.Clamp(Environment.ProcessorCount, 1, MaxRootInstances);
        var roots = new IActorRef[copies];
        roots[0] = factory.ActorOf(definition.CreateProps(node), actorName);
        for (var i = 1; i < copies; i++) roots[i] = factory.ActorOf(definition.CreateProps(node), $"{actorName}-{i}");
        return new WorkflowGraph(name, definition, roots, node, options, defaultDeadline);
    }

    /// <summary>The default deadline configured under <see cref="DefaultDeadlineKey"/>; infinite for <c>none</c>.</summary>
    public static TimeSpan ConfiguredDeadline(Config? config)
    {
        if (config is null || !config.HasPath(DefaultDeadlineKey)) return BuiltInDefaultDeadline;
        var value = config.GetString(DefaultDeadlineKey);
        if (string.Equals(value?.Trim(), "none", StringComparison.OrdinalIgnoreCase)) return Timeout.InfiniteTimeSpan;
        TimeSpan deadline;
        try
        {
            deadline = config.GetTimeSpan(DefaultDeadlineKey, null, allowInfinite: false);
        }
        catch (Exception error)
        {
            throw new ConfigurationException(
                $"{DefaultDeadlineKey} = \"{value}\" is not a duration; give one such as 5m or 30s, or none for runs without a deadline.", error);
        }
        if (deadline <= TimeSpan.Zero)
            throw new ConfigurationException(
                $"{DefaultDeadlineKey} = \"{value}\" must be longer than zero; give a duration such as 5m, or none for runs without a deadline.");
        return deadline;
    }

    private static IEnumerable<Primitive> Descendants(Primitive primitive) =>
        primitive.Children.SelectMany(Descendants).Prepend(primitive);

    private static TimeSpan? Bounded(TimeSpan timeout) => timeout == Timeout.InfiniteTimeSpan ? null : timeout;

    /// <summary>Runs the workflow once; a failure is answered as a value, never thrown.</summary>
    /// <remarks>
    /// The run's deadline is <see cref="RunOptions.Timeout"/>, else the graph's default; runs with the default share one
    /// timer of the graph, a run with a deadline of its own gets a timer made here. When it passes, every primitive holding state for the run fails it with <see cref="WorkflowDeadlineExceededException"/>
    /// naming where the run was, and so does this method.
    /// </remarks>
    public Task<WorkflowRunResult> RunAsync(object? input, WorkflowContext? context = null, RunOptions? options = null)
    {
        options ??= NoRunOptions;
        var runId = options.RunId ?? RunId.New();
        var runContext = context ?? WorkflowContext.Create();
        if (runContext.Workspace is null) runContext = runContext with { Workspace = Options.ServiceName };
        var timeout = options.Timeout is { } requested ? Bounded(requested) : DefaultDeadline;
        if (timeout <= TimeSpan.Zero)
            return Task.FromException<WorkflowRunResult>(
                new ArgumentOutOfRangeException(nameof(options), timeout, "A run's timeout must be longer than zero (or infinite)."));
        if (_stopping)
            return Task.FromResult(
                new WorkflowRunResult(runId, null, runContext, WorkflowFailure.From(Name, new WorkflowGraphStoppedException(Name, Name)), null));

        Activity? span;
        try
        {
            span = StartRunSpan(runId, runContext, input);
        }
        catch (Exception error)
        {
            return Task.FromException<WorkflowRunResult>(error);
        }
        var traceParent = TraceParent.From(span ?? Activity.Current);
        var traceId = traceParent.IsEmpty ? null : traceParent.TraceId.ToHexString();

        Interlocked.Increment(ref _runsActive.Value);
        var callId = WorkflowEnvelope.NextCallId();
        // Its task completes with the root's answer, or with the run's failure when the run ends first: every run ends (see Finish).
        var lifetime = RunLifetime.Start(this, runId, callId, timeout, options.Cancellation, options.RecordCheckpoints, runContext, span, traceId);
        if (options.TextSink is not null) lifetime.TextSink = options.TextSink;
        NextRoot().Tell(new WorkflowEnvelope(runId, callId, input, runContext, traceParent, options.LangfuseTraceId ?? traceId, lifetime)
        {
            Deadline = lifetime.Deadline,
            Cancellation = lifetime.Token,
            Lifetime = lifetime,
        }, ActorRefs.NoSender);
        return lifetime.Completion;
    }

    /// <summary>
    /// A run's first answer (the root's, or its failure when the run ended first) as its caller's result: the lifetime is
    /// released, the run no longer counts as active, and its root span ends. Called once per run, on a thread-pool thread
    /// (see <c>RunLifetime.Complete</c>), before the run's task completes.
    /// </summary>
    internal WorkflowRunResult Finish(RunLifetime lifetime, PrimitiveResult answer)
    {
        WorkflowRunResult result;
        try
        {
            result = answer switch
            {
                PrimitiveSucceeded ok => new WorkflowRunResult(lifetime.RunId, ok.Output, ok.Context, null, lifetime.TraceId),
                PrimitiveFailed failed => new WorkflowRunResult(lifetime.RunId, null, failed.Failure.Context ?? lifetime.RunContext, failed.Failure,
                    lifetime.TraceId),
                _ => throw new InvalidOperationException($"Unexpected answer {answer.GetType().Name} from workflow '{Name}'."),
            };
        }
        finally
        {
            lifetime.Dispose();
            Interlocked.Decrement(ref _runsActive.Value);
        }

        if (lifetime.Span is { } span)
        {
            if (result.Succeeded && span.IsAllDataRequested && RunContent.Render(result.Output, Options.TraceContent) is { } output)
                span.AddTag(TelemetryNames.Attributes.WorkflowOutput, output);
            var status = result.Succeeded ? TelemetryNames.Status.Success : TelemetryNames.Status.Error;
            PrimitiveTelemetry.EndSpan(span, status, result.Failure?.Exception, result.Failure?.ToString());
        }
        return result;
    }

    /// <summary>Runs the workflow once and returns its output; a failure throws <see cref="WorkflowFailedException"/>.</summary>
    public async Task<object?> ExecuteAsync(object? input, WorkflowContext? context = null, RunOptions? options = null)
    {
        var result = await RunAsync(input, context, options).ConfigureAwait(false);
        return result.Failure is { } failure ? throw new WorkflowFailedException(failure) : result.Output;
    }

    /// <summary>
    /// Stops the graph: its runs in flight fail with <see cref="WorkflowGraphStoppedException"/> (their callers hear it at
    /// once), its actors stop, and runs started afterwards fail with the same error. Completes when every actor of the graph
    /// has terminated; calling it again waits for the same.
    /// </summary>
    /// <param name="cancellation">Stops waiting for the actors to terminate (they still stop).</param>
    public async Task StopAsync(CancellationToken cancellation = default)
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 0)
        {
            // Runs first, so no caller waits on an actor that is going away; answers still in the mailboxes are dropped.
            _stopping = true;
            _runs.Close();
            foreach (var root in _roots) ((IInternalActorRef)root).Stop();
        }
        await Task.WhenAll(_roots.Select(root => root.WatchAsync(cancellation))).ConfigureAwait(false);
    }

    /// <summary>Stops the graph (<see cref="StopAsync"/>).</summary>
    public async ValueTask DisposeAsync() => await StopAsync().ConfigureAwait(false);

    /// <summary>The copy of the graph the next run goes to, in turn.</summary>
    private IActorRef NextRoot() =>
        _roots.Length == 1 ? _roots[0] : _roots[Interlocked.Increment(ref _nextRoot) % (uint)_roots.Length];

    /// <summary>The options of a run given none; immutable, so one instance serves every such run.</summary>
    private static readonly RunOptions NoRunOptions = new();

    private Activity? StartRunSpan(RunId runId, WorkflowContext context, object? input)
    {
        var source = TtaInstrumentation.ActivitySource;
        if (!source.HasListeners()) return null;
        var previous = Activity.Current;
        var span = source.StartActivity(RunSpanName);
        if (span is null) return null;
        Activity.Current = previous;
        if (span.IsAllDataRequested)
        {
            span.SetTag(TelemetryNames.Attributes.WorkflowName, Name);
            span.SetTag(TelemetryNames.Attributes.WorkflowRunId, runId.ToString());
            span.SetTag(TelemetryNames.GenAi.OperationName, TelemetryNames.GenAiConventions.InvokeWorkflowOperation);
            span.SetTag(TelemetryNames.GenAiConventions.WorkflowName, Name);
            span.SetTag(TelemetryNames.Attributes.WorkflowId, context.WorkflowId);
            span.SetTag(TelemetryNames.Attributes.WorkflowCorrelationId, context.CorrelationId);
            PrimitiveTelemetry.TagRunTrace(span, Name, context);
            // The OpenTelemetry names of user and session too, for backends that read those; only on the root.
            if (context.Persona is not null) span.AddTag(TelemetryNames.Langfuse.OtelUserId, context.Persona);
            if (context.SessionId is not null) span.AddTag(TelemetryNames.Langfuse.OtelSessionId, context.SessionId);
            if (RunContent.Render(input, Options.TraceContent) is { } recorded) span.AddTag(TelemetryNames.Attributes.WorkflowInput, recorded);
        }
        return span;
    }

    private static readonly Regex ActorNameUnsafe = new("[^A-Za-z0-9_-]", RegexOptions.Compiled);
}
