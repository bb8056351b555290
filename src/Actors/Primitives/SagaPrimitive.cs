using System.Diagnostics;
using Akka.Actor;
using Akka.Event;
using TtaActors.Actors.Context;
using TtaActors.Actors.Execution;
using TtaActors.Telemetry;

namespace TtaActors.Actors.Primitives;

/// <summary>
/// Runs the forward primitive; if it fails, runs the compensation with the original input, then answers the forward
/// failure (its original error included). A failing compensation never replaces the forward error: it is recorded on
/// the span (<c>saga.compensation_error</c> and an exception event) and in the failure's context
/// (<see cref="WorkflowStateKeys.SagaCompensationError"/>).
/// </summary>
public sealed class SagaPrimitive : Primitive
{
    public SagaPrimitive(Primitive forward, Primitive compensation, string? name = null) : base(name)
    {
        Forward = forward ?? throw new ArgumentNullException(nameof(forward));
        Compensation = compensation ?? throw new ArgumentNullException(nameof(compensation));
    }

    public Primitive Forward { get; }
    public Primitive Compensation { get; }
    public override IReadOnlyList<Primitive> Children => [Forward, Compensation];
    public override string TypeName => "SagaPrimitive";

    internal override Props CreateProps(PrimitiveNode node) => SagaActor.Props(this, node);
}

internal sealed class SagaActor : UntypedActor
{
    private readonly PrimitiveNode _node;
    private readonly IActorRef _forward;
    private readonly IActorRef _compensation;
    private readonly Dictionary<long, Run> _pending = new();
    private readonly ILoggingAdapter _log = Context.GetLogger();

    public SagaActor(SagaPrimitive definition, PrimitiveNode node)
    {
        _node = node;
        _forward = Context.ActorOf(definition.Forward.CreateProps(node.Child(definition.Forward, "[forward]")), "forward");
        _compensation = Context.ActorOf(
            definition.Compensation.CreateProps(node.Child(definition.Compensation, "[compensation]")), "compensation");
    }

    public static Props Props(SagaPrimitive definition, PrimitiveNode node) =>
        Akka.Actor.Props.Create(() => new SagaActor(definition, node));

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case WorkflowEnvelope envelope:
                Start(new Run(_node, envelope));
                break;
            case PrimitiveSucceeded done when _pending.Remove(done.CallId, out var run):
                if (run.ForwardFailure is { } forwardFailure)
                {
                    CatalogTelemetry.Tag(run, TelemetryNames.Catalog.Attributes.SagaCompensated, true);
                    run.Fail(forwardFailure, Self);
                }
                else
                {
                    CatalogTelemetry.Tag(run, TelemetryNames.Catalog.Attributes.SagaCompensated, false);
                    run.Succeed(done.Output, run.Context.AbsorbRecords(done.Context, run.DispatchedContext!), Self);
                }
                break;
            case PrimitiveFailed failed when _pending.Remove(failed.CallId, out var run):
                if (run.ForwardFailure is { } original) CompensationFailed(run, original, failed.Failure);
                else Compensate(run, failed.Failure);
                break;
            case PrimitiveResult:
                break; // an answer for a run that has already finished
            default:
                Unhandled(message);
                break;
        }
    }

    private void Start(Run run)
    {
        if (RunGuard.Expired(run.Inbound, Context.System.Scheduler) is { } expired)
        {
            run.Fail(expired, Self);
            return;
        }
        Dispatch(run, _forward);
    }

    private void Compensate(Run run, WorkflowFailure forwardFailure)
    {
        run.ForwardFailure = forwardFailure;
        // Compensation undoes work already done, so it runs even when the run is cancelled or overdue.
        Dispatch(run, _compensation, ignoreCancellation: true);
    }

    private void CompensationFailed(Run run, WorkflowFailure forwardFailure, WorkflowFailure compensationFailure)
    {
        _log.Warning("Saga '{0}': compensation failed after the forward step failed ({1}); the forward error is answered. " +
                     "Compensation error: {2}", _node.Path, forwardFailure, compensationFailure);
        if (run.Span is { IsAllDataRequested: true } span)
        {
            span.SetTag(TelemetryNames.Catalog.Attributes.SagaCompensated, false);
            span.SetTag(TelemetryNames.Catalog.Attributes.SagaCompensationError, compensationFailure.ToString());
            if (compensationFailure.Exception is { } error)
                span.AddException(error, new TagList { { TelemetryNames.Attributes.PrimitivePath, compensationFailure.PrimitivePath } });
        }
        var context = (forwardFailure.Context ?? run.Context).WithState(WorkflowStateKeys.SagaCompensationError, compensationFailure);
        run.Fail(forwardFailure with { Context = context }, Self);
    }

    private void Dispatch(Run run, IActorRef target, bool ignoreCancellation = false)
    {
        var callId = WorkflowEnvelope.NextCallId();
        run.DispatchedContext = run.Context.CreateChild();
        _pending.Add(callId, run);
        var envelope = run.ChildEnvelope(callId, run.Inbound.Payload, run.DispatchedContext, Self);
        if (ignoreCancellation) envelope = envelope with { Cancellation = CancellationToken.None, Deadline = null };
        target.Tell(envelope);
    }

    protected override void PreRestart(Exception reason, object message)
    {
        RunGuard.FailAll(_pending.Values, reason, Self);
        _pending.Clear();
        base.PreRestart(reason, message);
    }

    private sealed class Run(PrimitiveNode node, WorkflowEnvelope inbound) : PrimitiveExecution(node, inbound)
    {
        public WorkflowContext? DispatchedContext;
        public WorkflowFailure? ForwardFailure;
    }
}
