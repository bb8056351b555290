using Akka.Actor;
using TtaActors.Actors.Context;
using TtaActors.Actors.Execution;
using TtaActors.Telemetry;

namespace TtaActors.Actors.Primitives;

/// <summary>
/// Runs the primary primitive; only if it fails, runs the fallback with the same input. If both fail, the primary's
/// failure is answered (its original error included), as in the original library.
/// </summary>
public sealed class FallbackPrimitive : Primitive
{
    /// <param name="primary">Runs first.</param>
    /// <param name="fallback">Runs with the same input only if <paramref name="primary"/> fails.</param>
    /// <param name="name">The name in spans, metrics and failure paths; the type name when null.</param>
    public FallbackPrimitive(Primitive primary, Primitive fallback, string? name = null) : base(name)
    {
        Primary = primary ?? throw new ArgumentNullException(nameof(primary));
        Fallback = fallback ?? throw new ArgumentNullException(nameof(fallback));
    }

    /// <summary>Runs first.</summary>
    public Primitive Primary { get; }
    /// <summary>Runs only if the primary fails.</summary>
    public Primitive Fallback { get; }
    /// <inheritdoc/>
    public override IReadOnlyList<Primitive> Children => [Primary, Fallback];
    /// <inheritdoc/>
    public override string TypeName => "FallbackPrimitive";

    internal override Props CreateProps(PrimitiveNode node) => FallbackActor.Props(this, node);
}

internal sealed class FallbackActor : CompositeActor<FallbackActor.Run>
{
    private const int Primary = 0;
    private const int Secondary = 1;
    private readonly IActorRef _primary;
    private readonly IActorRef _fallback;

    public FallbackActor(FallbackPrimitive definition, PrimitiveNode node) : base(node)
    {
        _primary = Context.ActorOf(definition.Primary.CreateProps(node.Child(definition.Primary, "[primary]")), "primary");
        _fallback = Context.ActorOf(definition.Fallback.CreateProps(node.Child(definition.Fallback, "[fallback]")), "fallback");
    }

    public static Props Props(FallbackPrimitive definition, PrimitiveNode node) =>
        Akka.Actor.Props.Create(() => new FallbackActor(definition, node));

    protected override Run CreateRun(WorkflowEnvelope envelope) => new(Node, envelope);

    protected override void OnStart(Run run)
    {
        run.Checkpoint("fallback.start");
        run.Checkpoint("fallback.primary.start");
        Dispatch(run, Primary, _primary);
    }

    protected override void OnChildSucceeded(Run run, int child, PrimitiveSucceeded answer)
    {
        CatalogTelemetry.Tag(run, TelemetryNames.Catalog.Attributes.FallbackUsed, child == Secondary);
        run.Context = run.Context.AbsorbRecords(answer.Context, run.DispatchedContext!);
        run.Checkpoint(child == Primary ? "fallback.primary.end" : "fallback.fallback.end");
        run.Checkpoint("fallback.end");
        Succeed(run, answer.Output, run.Context);
    }

    protected override void OnChildFailed(Run run, int child, PrimitiveFailed answer)
    {
        if (child == Secondary)
        {
            if (answer.Failure.Context is { } fallbackRecords) run.Context = run.Context.AbsorbRecords(fallbackRecords, run.DispatchedContext!);
            run.Checkpoint("fallback.fallback.end");
            run.Checkpoint("fallback.end");
            Fail(run, run.RecordsCheckpoints ? run.PrimaryFailure! with { Context = run.Context } : run.PrimaryFailure!);
            return;
        }
        run.PrimaryFailure = answer.Failure;
        if (answer.Failure.Context is { } recorded) run.Context = run.Context.AbsorbRecords(recorded, run.DispatchedContext!);
        run.Checkpoint("fallback.primary.end");
        CatalogTelemetry.Tag(run, TelemetryNames.Catalog.Attributes.FallbackUsed, true);
        // A cancelled or overdue run starts no more work; the deadline or cancellation error is its answer.
        if (!MayGoOn(run)) return;
        run.Checkpoint("fallback.fallback.start");
        Dispatch(run, Secondary, _fallback);
    }

    private void Dispatch(Run run, int child, IActorRef target)
    {
        run.DispatchedContext = run.Context.CreateChild();
        Dispatch(run, child, target, run.Inbound.Payload, run.DispatchedContext);
    }

    internal sealed class Run(PrimitiveNode node, WorkflowEnvelope inbound) : CompositeRun(node, inbound)
    {
        public WorkflowContext? DispatchedContext;
        public WorkflowFailure? PrimaryFailure;
    }
}
