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
    /// <param name="forward">The work.</param>
    /// <param name="compensation">Runs with the original input if <paramref name="forward"/> fails, to undo what it did.</param>
    /// <param name="name">The name in spans, metrics and failure paths; the type name when null.</param>
    public SagaPrimitive(Primitive forward, Primitive compensation, string? name = null) : base(name)
    {
        Forward = forward ?? throw new ArgumentNullException(nameof(forward));
        Compensation = compensation ?? throw new ArgumentNullException(nameof(compensation));
    }

    /// <summary>The work.</summary>
    public Primitive Forward { get; }
    /// <summary>Runs with the original input if the forward primitive fails.</summary>
    public Primitive Compensation { get; }
    /// <inheritdoc/>
    public override IReadOnlyList<Primitive> Children => [Forward, Compensation];
    /// <inheritdoc/>
    public override string TypeName => "SagaPrimitive";

    internal override Props CreateProps(PrimitiveNode node) => SagaActor.Props(this, node);
}

internal sealed class SagaActor : CompositeActor<SagaActor.Run>
{
    private const int Forward = 0;
    private const int Compensation = 1;
    private readonly IActorRef _forward;
    private readonly IActorRef _compensation;

    public SagaActor(SagaPrimitive definition, PrimitiveNode node) : base(node)
    {
        _forward = Context.ActorOf(definition.Forward.CreateProps(node.Child(definition.Forward, "[forward]")), "forward");
        _compensation = Context.ActorOf(
            definition.Compensation.CreateProps(node.Child(definition.Compensation, "[compensation]")), "compensation");
    }

    public static Props Props(SagaPrimitive definition, PrimitiveNode node) =>
        Akka.Actor.Props.Create(() => new SagaActor(definition, node));

    protected override Run CreateRun(WorkflowEnvelope envelope) => new(Node, envelope);

    protected override void OnStart(Run run)
    {
        run.Checkpoint("saga.start");
        run.Checkpoint("saga.forward.start");
        Dispatch(run, Forward, _forward);
    }

    protected override void OnChildSucceeded(Run run, int child, PrimitiveSucceeded answer)
    {
        run.Context = run.Context.AbsorbRecords(answer.Context, run.DispatchedContext!);
        if (child == Compensation)
        {
            CatalogTelemetry.Tag(run, TelemetryNames.Catalog.Attributes.SagaCompensated, true);
            run.Checkpoint("saga.compensation.end");
            run.Checkpoint("saga.end");
            Fail(run, WithCheckpoints(run, run.ForwardFailure!));
            return;
        }
        CatalogTelemetry.Tag(run, TelemetryNames.Catalog.Attributes.SagaCompensated, false);
        run.Checkpoint("saga.forward.end");
        run.Checkpoint("saga.end");
        Succeed(run, answer.Output, run.Context);
    }

    protected override void OnChildFailed(Run run, int child, PrimitiveFailed answer)
    {
        if (answer.Failure.Context is { } recorded) run.Context = run.Context.AbsorbRecords(recorded, run.DispatchedContext!);
        if (child == Compensation)
        {
            CompensationFailed(run, run.ForwardFailure!, answer.Failure);
            return;
        }
        run.ForwardFailure = answer.Failure;
        run.Checkpoint("saga.forward.end");
        // Compensation runs under the run's deadline and cancellation: a run that is already over fails with that error.
        if (!MayGoOn(run)) return;
        run.Checkpoint("saga.compensation.start");
        Dispatch(run, Compensation, _compensation);
    }

    private void CompensationFailed(Run run, WorkflowFailure forwardFailure, WorkflowFailure compensationFailure)
    {
        Log.Warning("Saga '{0}': compensation failed after the forward step failed ({1}); the forward error is answered. " +
                    "Compensation error: {2}", Node.Path, forwardFailure, compensationFailure);
        if (run.Span is { IsAllDataRequested: true } span)
        {
            span.SetTag(TelemetryNames.Catalog.Attributes.SagaCompensated, false);
            span.SetTag(TelemetryNames.Catalog.Attributes.SagaCompensationError, compensationFailure.ToString());
            if (compensationFailure.Exception is { } error)
                span.AddException(error, new TagList { { TelemetryNames.Attributes.PrimitivePath, compensationFailure.PrimitivePath } });
        }
        run.Checkpoint("saga.compensation.end");
        run.Checkpoint("saga.end");
        var failure = WithCheckpoints(run, forwardFailure);
        var context = (failure.Context ?? run.Context).WithState(WorkflowStateKeys.SagaCompensationError, compensationFailure);
        Fail(run, failure with { Context = context });
    }

    /// <summary>The forward failure, carrying the saga's checkpoints when the run records them.</summary>
    private static WorkflowFailure WithCheckpoints(Run run, WorkflowFailure forwardFailure) =>
        run.RecordsCheckpoints ? forwardFailure with { Context = run.Context } : forwardFailure;

    private void Dispatch(Run run, int child, IActorRef target)
    {
        run.DispatchedContext = run.Context.CreateChild();
        Dispatch(run, child, target, run.Inbound.Payload, run.DispatchedContext);
    }

    internal sealed class Run(PrimitiveNode node, WorkflowEnvelope inbound) : CompositeRun(node, inbound)
    {
        public WorkflowContext? DispatchedContext;
        public WorkflowFailure? ForwardFailure;
    }
}
