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
    public FallbackPrimitive(Primitive primary, Primitive fallback, string? name = null) : base(name)
    {
        Primary = primary ?? throw new ArgumentNullException(nameof(primary));
        Fallback = fallback ?? throw new ArgumentNullException(nameof(fallback));
    }

    public Primitive Primary { get; }
    public Primitive Fallback { get; }
    public override IReadOnlyList<Primitive> Children => [Primary, Fallback];
    public override string TypeName => "FallbackPrimitive";

    internal override Props CreateProps(PrimitiveNode node) => FallbackActor.Props(this, node);
}

internal sealed class FallbackActor : UntypedActor
{
    private readonly PrimitiveNode _node;
    private readonly IActorRef _primary;
    private readonly IActorRef _fallback;
    private readonly Dictionary<long, Run> _pending = new();

    public FallbackActor(FallbackPrimitive definition, PrimitiveNode node)
    {
        _node = node;
        _primary = Context.ActorOf(definition.Primary.CreateProps(node.Child(definition.Primary, "[primary]")), "primary");
        _fallback = Context.ActorOf(definition.Fallback.CreateProps(node.Child(definition.Fallback, "[fallback]")), "fallback");
    }

    public static Props Props(FallbackPrimitive definition, PrimitiveNode node) =>
        Akka.Actor.Props.Create(() => new FallbackActor(definition, node));

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case WorkflowEnvelope envelope:
                Start(new Run(_node, envelope));
                break;
            case PrimitiveSucceeded done when _pending.Remove(done.CallId, out var run):
                CatalogTelemetry.Tag(run, TelemetryNames.Catalog.Attributes.FallbackUsed, run.PrimaryFailure is not null);
                run.Succeed(done.Output, run.Context.AbsorbRecords(done.Context, run.DispatchedContext!), Self);
                break;
            case PrimitiveFailed failed when _pending.Remove(failed.CallId, out var run):
                if (run.PrimaryFailure is null) TryFallback(run, failed.Failure);
                else run.Fail(run.PrimaryFailure, Self);
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
        Dispatch(run, _primary);
    }

    private void TryFallback(Run run, WorkflowFailure primaryFailure)
    {
        run.PrimaryFailure = primaryFailure;
        CatalogTelemetry.Tag(run, TelemetryNames.Catalog.Attributes.FallbackUsed, true);
        // A cancelled or overdue run starts no more work; the primary's failure is its answer.
        if (RunGuard.Expired(run.Inbound, Context.System.Scheduler) is not null)
        {
            run.Fail(primaryFailure, Self);
            return;
        }
        Dispatch(run, _fallback);
    }

    private void Dispatch(Run run, IActorRef target)
    {
        var callId = WorkflowEnvelope.NextCallId();
        run.DispatchedContext = run.Context.CreateChild();
        _pending.Add(callId, run);
        target.Tell(run.ChildEnvelope(callId, run.Inbound.Payload, run.DispatchedContext, Self));
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
        public WorkflowFailure? PrimaryFailure;
    }
}
