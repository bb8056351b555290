using System.Diagnostics;
using Akka.Actor;
using TtaActors.Actors.Context;
using TtaActors.Telemetry;

namespace TtaActors.Actors.Execution;

/// <summary>
/// One execution of one primitive for one dispatch: its span, its start time, the context it runs in, and the
/// address its single answer goes to. Composite primitives keep their per-run state in subclasses.
/// </summary>
public class PrimitiveExecution
{
    private readonly long _startedAt;
    private bool _finished;

    public PrimitiveExecution(PrimitiveNode node, WorkflowEnvelope inbound) : this(node, inbound, leaveSpanCurrent: false)
    {
    }

    /// <param name="leaveSpanCurrent">Leaves the span as <see cref="Activity.Current"/> for code run under it; the
    /// caller restores the previous current activity (see <see cref="PrimitiveTelemetry.StartSpan"/>).</param>
    internal PrimitiveExecution(PrimitiveNode node, WorkflowEnvelope inbound, bool leaveSpanCurrent)
    {
        Node = node;
        Inbound = inbound;
        Context = inbound.Context;
        _startedAt = Stopwatch.GetTimestamp();
        Span = PrimitiveTelemetry.StartSpan(node.SpanName, ActivityKind.Internal, inbound.TraceParent, leaveSpanCurrent);
        if (Span is { IsAllDataRequested: true }) PrimitiveTelemetry.TagPrimitiveSpan(Span, node, inbound.Context);
        ChildTraceParent = Span is null ? inbound.TraceParent : TraceParent.From(Span.Context);
    }

    public PrimitiveNode Node { get; }
    public WorkflowEnvelope Inbound { get; }
    public Activity? Span { get; }

    /// <summary>The trace parent of everything this execution dispatches.</summary>
    public TraceParent ChildTraceParent { get; protected set; }

    /// <summary>The context of this execution, including what it has recorded so far.</summary>
    public WorkflowContext Context { get; set; }

    public bool IsFinished => _finished;

    public RunId RunId => Inbound.RunId;

    /// <summary>An envelope for a nested primitive: same run, deadline and cancellation, a new dispatch id.</summary>
    public WorkflowEnvelope ChildEnvelope(long callId, object? payload, WorkflowContext context, IActorRef replyTo) =>
        new(Inbound.RunId, callId, payload, context, ChildTraceParent, Inbound.LangfuseTraceId, replyTo)
        {
            Deadline = Inbound.Deadline,
            Cancellation = Inbound.Cancellation,
        };

    public void Succeed(object? output, WorkflowContext context, IActorRef self)
    {
        if (!Finish(null, null)) return;
        Inbound.ReplyTo.Tell(new PrimitiveSucceeded(Inbound.RunId, Inbound.CallId, output, context), self);
    }

    public void Fail(WorkflowFailure failure, IActorRef self)
    {
        if (!Finish(failure.Exception, failure.Message)) return;
        Inbound.ReplyTo.Tell(new PrimitiveFailed(Inbound.RunId, Inbound.CallId, failure), self);
    }

    /// <summary>Fails with an error raised by this primitive itself (not by a nested one).</summary>
    public void Fail(Exception error, IActorRef self) => Fail(WorkflowFailure.From(Node.Path, error), self);

    private bool Finish(Exception? error, string? errorMessage)
    {
        if (_finished) return false;
        _finished = true;
        var ok = errorMessage is null;
        var status = ok ? TelemetryNames.Status.Success : TelemetryNames.Status.Error;
        if (Span is not null)
        {
            PrimitiveTelemetry.EndSpan(Span, status, error, errorMessage);
        }
        PrimitiveTelemetry.RecordExecution(Node, Context, status, Stopwatch.GetElapsedTime(_startedAt).TotalSeconds);
        return true;
    }
}
