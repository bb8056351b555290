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
    /// <param name="condition">Decides, from the input and the context, whether <paramref name="then"/> runs.</param>
    /// <param name="then">Runs when the condition holds.</param>
    /// <param name="else">Runs when it does not; when null the input passes through unchanged.</param>
    /// <param name="name">The name in spans, metrics and failure paths; the type name when null.</param>
    public ConditionalPrimitive(Func<object?, WorkflowContext, bool> condition, Primitive then, Primitive? @else = null,
        string? name = null) : base(name)
    {
        Condition = condition ?? throw new ArgumentNullException(nameof(condition));
        ThenBranch = then ?? throw new ArgumentNullException(nameof(then));
        ElseBranch = @else;
    }

    /// <summary>Decides from the input and the context which branch runs.</summary>
    public Func<object?, WorkflowContext, bool> Condition { get; }
    /// <summary>Runs when the condition holds.</summary>
    public Primitive ThenBranch { get; }
    /// <summary>Runs when the condition does not hold; null passes the input through.</summary>
    public Primitive? ElseBranch { get; }
    /// <inheritdoc/>
    public override IReadOnlyList<Primitive> Children => ElseBranch is null ? [ThenBranch] : [ThenBranch, ElseBranch];
    /// <inheritdoc/>
    public override string TypeName => "ConditionalPrimitive";

    internal override Props CreateProps(PrimitiveNode node) => ConditionalActor.Props(this, node);
}

internal sealed class ConditionalActor : CompositeActor<ConditionalActor.Run>
{
    private readonly Func<object?, WorkflowContext, bool> _condition;
    private readonly IActorRef _then;
    private readonly IActorRef? _else;

    public ConditionalActor(ConditionalPrimitive definition, PrimitiveNode node) : base(node)
    {
        _condition = definition.Condition;
        _then = Context.ActorOf(definition.ThenBranch.CreateProps(node.Child(definition.ThenBranch, "[then]")), "then");
        if (definition.ElseBranch is { } otherwise)
            _else = Context.ActorOf(otherwise.CreateProps(node.Child(otherwise, "[else]")), "else");
    }

    public static Props Props(ConditionalPrimitive definition, PrimitiveNode node) =>
        Akka.Actor.Props.Create(() => new ConditionalActor(definition, node));

    protected override Run CreateRun(WorkflowEnvelope envelope) => new(Node, envelope);

    protected override void OnStart(Run run)
    {
        run.Checkpoint("conditional.start");
        run.Checkpoint("conditional.condition_eval.start");
        bool holds;
        try
        {
            holds = _condition(run.Inbound.Payload, run.Context);
        }
        catch (Exception error)
        {
            Fail(run, error);
            return;
        }
        run.Checkpoint("conditional.condition_eval.end");

        var (branch, target) = holds
            ? (TelemetryNames.Catalog.Branches.Then, _then)
            : _else is null
                ? (TelemetryNames.Catalog.Branches.PassThrough, null)
                : (TelemetryNames.Catalog.Branches.Else, _else);
        CatalogTelemetry.Tag(run, TelemetryNames.Catalog.Attributes.ConditionalBranch, branch);
        if (target is null)
        {
            run.Checkpoint("conditional.end");
            Succeed(run, run.Inbound.Payload, run.Context);
            return;
        }
        run.TookThen = holds;
        run.Checkpoint(holds ? "conditional.branch_then.start" : "conditional.branch_else.start");
        run.BranchContext = run.Context.CreateChild();
        Dispatch(run, 0, target, run.Inbound.Payload, run.BranchContext);
    }

    protected override void OnChildSucceeded(Run run, int child, PrimitiveSucceeded answer)
    {
        run.Context = run.Context.AbsorbRecords(answer.Context, run.BranchContext!);
        run.Checkpoint(run.TookThen ? "conditional.branch_then.end" : "conditional.branch_else.end");
        run.Checkpoint("conditional.end");
        Succeed(run, answer.Output, run.Context);
    }

    protected override void OnChildFailed(Run run, int child, PrimitiveFailed answer) => Fail(run, answer.Failure);

    internal sealed class Run(PrimitiveNode node, WorkflowEnvelope inbound) : CompositeRun(node, inbound)
    {
        public WorkflowContext? BranchContext;
        public bool TookThen;
    }
}
