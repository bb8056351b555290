using Akka.Actor;
using TtaActors.Actors.Context;
using TtaActors.Actors.Execution;
using TtaActors.Telemetry;

namespace TtaActors.Actors.Primitives;

/// <summary>
/// Runs <see cref="ThenBranch"/> when the condition holds for the input and context, else <see cref="ElseBranch"/>; with no else
/// branch the input passes through unchanged. The branch taken is the span attribute <c>conditional.branch</c>
/// (<c>then</c>, <c>else</c> or <c>passthrough</c>).
/// </summary>
public sealed class ConditionalPrimitive : Primitive
{
    public ConditionalPrimitive(Func<object?, WorkflowContext, bool> condition, Primitive then, Primitive? @else = null,
        string? name = null) : base(name)
    {
        Condition = condition ?? throw new ArgumentNullException(nameof(condition));
        ThenBranch = then ?? throw new ArgumentNullException(nameof(then));
        ElseBranch = @else;
    }

    public Func<object?, WorkflowContext, bool> Condition { get; }
    public Primitive ThenBranch { get; }
    public Primitive? ElseBranch { get; }
    public override IReadOnlyList<Primitive> Children => ElseBranch is null ? [ThenBranch] : [ThenBranch, ElseBranch];
    public override string TypeName => "ConditionalPrimitive";

    internal override Props CreateProps(PrimitiveNode node) => ConditionalActor.Props(this, node);
}

internal sealed class ConditionalActor : UntypedActor
{
    private readonly Func<object?, WorkflowContext, bool> _condition;
    private readonly PrimitiveNode _node;
    private readonly IActorRef _then;
    private readonly IActorRef? _else;
    private readonly Dictionary<long, Run> _pending = new();

    public ConditionalActor(ConditionalPrimitive definition, PrimitiveNode node)
    {
        _condition = definition.Condition;
        _node = node;
        _then = Context.ActorOf(definition.ThenBranch.CreateProps(node.Child(definition.ThenBranch, "[then]")), "then");
        if (definition.ElseBranch is { } otherwise)
            _else = Context.ActorOf(otherwise.CreateProps(node.Child(otherwise, "[else]")), "else");
    }

    public static Props Props(ConditionalPrimitive definition, PrimitiveNode node) =>
        Akka.Actor.Props.Create(() => new ConditionalActor(definition, node));

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case WorkflowEnvelope envelope:
                Decide(new Run(_node, envelope));
                break;
            case PrimitiveSucceeded done when _pending.Remove(done.CallId, out var run):
                run.Succeed(done.Output, run.Context.AbsorbRecords(done.Context, run.BranchContext!), Self);
                break;
            case PrimitiveFailed failed when _pending.Remove(failed.CallId, out var run):
                run.Fail(failed.Failure, Self);
                break;
            case PrimitiveResult:
                break; // an answer for a run that has already finished
            default:
                Unhandled(message);
                break;
        }
    }

    private void Decide(Run run)
    {
        if (RunGuard.Expired(run.Inbound, Context.System.Scheduler) is { } expired)
        {
            run.Fail(expired, Self);
            return;
        }
        bool holds;
        try
        {
            holds = _condition(run.Inbound.Payload, run.Context);
        }
        catch (Exception error)
        {
            run.Fail(error, Self);
            return;
        }

        var (branch, target) = holds
            ? (TelemetryNames.Catalog.Branches.Then, _then)
            : _else is null
                ? (TelemetryNames.Catalog.Branches.PassThrough, null)
                : (TelemetryNames.Catalog.Branches.Else, _else);
        CatalogTelemetry.Tag(run, TelemetryNames.Catalog.Attributes.ConditionalBranch, branch);
        if (target is null)
        {
            run.Succeed(run.Inbound.Payload, run.Context, Self);
            return;
        }
        var callId = WorkflowEnvelope.NextCallId();
        run.BranchContext = run.Context.CreateChild();
        _pending.Add(callId, run);
        target.Tell(run.ChildEnvelope(callId, run.Inbound.Payload, run.BranchContext, Self));
    }

    protected override void PreRestart(Exception reason, object message)
    {
        RunGuard.FailAll(_pending.Values, reason, Self);
        _pending.Clear();
        base.PreRestart(reason, message);
    }

    private sealed class Run(PrimitiveNode node, WorkflowEnvelope inbound) : PrimitiveExecution(node, inbound)
    {
        public WorkflowContext? BranchContext;
    }
}
