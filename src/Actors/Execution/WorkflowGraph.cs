using System.Diagnostics;
using System.Text.RegularExpressions;
using Akka.Actor;
using TtaActors.Actors.Context;
using TtaActors.Actors.Primitives;
using TtaActors.Telemetry;

namespace TtaActors.Actors.Execution;

/// <summary>Settings of a materialised workflow.</summary>
public sealed record WorkflowGraphOptions
{
    /// <summary>The workspace (service name) of runs whose context names none.</summary>
    public string ServiceName { get; init; } = "tta-dev-main";

    /// <summary>Deadline of runs that set none; null lets runs take as long as they take.</summary>
    public TimeSpan? DefaultTimeout { get; init; }
}

/// <summary>Per-run options.</summary>
public sealed record RunOptions
{
    /// <summary>The run's deadline, measured from its start; overrides the graph's default.</summary>
    public TimeSpan? Timeout { get; init; }

    public CancellationToken Cancellation { get; init; }

    /// <summary>The Langfuse trace the run belongs to; by default the run's own trace id.</summary>
    public string? LangfuseTraceId { get; init; }

    /// <summary>The run's id when it was allotted beforehand (a persona session records the run under it); by default a new one.</summary>
    public RunId? RunId { get; init; }
}

/// <summary>The answer to one run: its output or its failure, the context it ended with and its trace id.</summary>
public sealed record WorkflowRunResult(RunId RunId, object? Output, WorkflowContext Context, WorkflowFailure? Failure, string? TraceId)
{
    public bool Succeeded => Failure is null;
}

/// <summary>
/// A workflow definition materialised into long-lived actors, one per node of the definition tree. Many runs
/// flow through it at once; each primitive actor keeps per-run state keyed by dispatch, so runs never mix.
/// </summary>
public sealed class WorkflowGraph
{
    private static long _instances;
    private readonly IScheduler _scheduler;

    private WorkflowGraph(string name, Primitive definition, IActorRef root, PrimitiveNode rootNode, WorkflowGraphOptions options,
        IScheduler scheduler)
    {
        Name = name;
        Definition = definition;
        Root = root;
        RootNode = rootNode;
        Options = options;
        _scheduler = scheduler;
        RunSpanName = TelemetryNames.Spans.WorkflowRunPrefix + name;
    }

    public string Name { get; }
    public Primitive Definition { get; }
    public IActorRef Root { get; }
    public WorkflowGraphOptions Options { get; }
    internal PrimitiveNode RootNode { get; }
    internal string RunSpanName { get; }

    /// <summary>Spawns the actors of <paramref name="definition"/> under <paramref name="system"/>.</summary>
    public static WorkflowGraph Materialize(ActorSystem system, Primitive definition, string name, WorkflowGraphOptions? options = null) =>
        Materialize(system, system.Scheduler, definition, name, options);

    /// <summary>Spawns the actors of <paramref name="definition"/> as children of an actor (or the system).</summary>
    public static WorkflowGraph Materialize(IActorRefFactory factory, IScheduler scheduler, Primitive definition, string name,
        WorkflowGraphOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(definition);
        if (string.IsNullOrWhiteSpace(name)) throw new ArgumentException("A workflow needs a name.", nameof(name));
        var node = PrimitiveNode.Root(definition, name);
        var actorName = $"workflow-{ActorNameUnsafe.Replace(name, "_")}-{Interlocked.Increment(ref _instances)}";
        var root = factory.ActorOf(definition.CreateProps(node), actorName);
        return new WorkflowGraph(name, definition, root, node, options ?? new WorkflowGraphOptions(), scheduler);
    }

    /// <summary>Runs the workflow once; a failure is answered as a value, never thrown.</summary>
    public async Task<WorkflowRunResult> RunAsync(object? input, WorkflowContext? context = null, RunOptions? options = null)
    {
        options ??= new RunOptions();
        var runId = options.RunId ?? RunId.New();
        var runContext = context ?? WorkflowContext.Create();
        if (runContext.Workspace is null) runContext = runContext with { Workspace = Options.ServiceName };
        var timeout = options.Timeout ?? Options.DefaultTimeout;

        using var span = StartRunSpan(runId, runContext);
        var traceParent = TraceParent.From(span ?? Activity.Current);
        var traceId = traceParent.IsEmpty ? null : traceParent.TraceId.ToHexString();
        var deadline = timeout is { } t ? _scheduler.Now + t : (DateTimeOffset?)null;

        WorkflowRunResult result;
        try
        {
            var answer = await Root.Ask<PrimitiveResult>(
                replyTo => new WorkflowEnvelope(runId, WorkflowEnvelope.NextCallId(), input, runContext, traceParent,
                    options.LangfuseTraceId ?? traceId, replyTo)
                {
                    Deadline = deadline,
                    Cancellation = options.Cancellation,
                },
                timeout,
                options.Cancellation).ConfigureAwait(false);
            result = answer switch
            {
                PrimitiveSucceeded ok => new WorkflowRunResult(runId, ok.Output, ok.Context, null, traceId),
                PrimitiveFailed failed => new WorkflowRunResult(runId, null, failed.Failure.Context ?? runContext, failed.Failure, traceId),
                _ => throw new InvalidOperationException($"Unexpected answer {answer.GetType().Name} from workflow '{Name}'."),
            };
        }
        catch (AskTimeoutException)
        {
            result = Failed(runId, runContext, traceId,
                new WorkflowDeadlineExceededException($"Workflow '{Name}' did not finish within {timeout}."));
        }
        catch (OperationCanceledException cancelled)
        {
            result = Failed(runId, runContext, traceId, new OperationCanceledException($"Workflow '{Name}' was cancelled.", cancelled));
        }

        if (span is not null)
        {
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

    private WorkflowRunResult Failed(RunId runId, WorkflowContext context, string? traceId, Exception error) =>
        new(runId, null, context, WorkflowFailure.From(RootNode.Path, error), traceId);

    private Activity? StartRunSpan(RunId runId, WorkflowContext context)
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
            span.SetTag(TelemetryNames.Attributes.WorkflowId, context.WorkflowId);
            span.SetTag(TelemetryNames.Attributes.WorkflowCorrelationId, context.CorrelationId);
            if (context.SessionId is not null) span.SetTag(TelemetryNames.Attributes.WorkflowSessionId, context.SessionId);
            if (context.Persona is not null) span.SetTag(TelemetryNames.Attributes.Persona, context.Persona);
            if (context.ChatMode is not null) span.SetTag(TelemetryNames.Attributes.ChatMode, context.ChatMode);
            PrimitiveTelemetry.TagLangfuseTrace(span, Name, context);
        }
        return span;
    }

    private static readonly Regex ActorNameUnsafe = new("[^A-Za-z0-9_-]", RegexOptions.Compiled);
}
