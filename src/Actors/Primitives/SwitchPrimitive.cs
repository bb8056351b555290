using Akka.Actor;
using TtaActors.Actors.Context;
using TtaActors.Actors.Execution;
using TtaActors.Telemetry;

namespace TtaActors.Actors.Primitives;

/// <summary>
/// Multi-way branch: the selector picks a case key from the input and context; an unknown (or null) key runs the
/// default, and with no default the input passes through unchanged. The span attribute <c>switch.case</c> is the case
/// taken (its key, <c>default</c> or <c>passthrough</c>); <c>switch.key</c> is the key the selector returned.
/// </summary>
public sealed class SwitchPrimitive : Primitive
{
    /// <param name="selector">Picks a case key from the input and the context; null means no case.</param>
    /// <param name="cases">The cases by key.</param>
    /// <param name="default">Runs when no case matches; when null the input passes through unchanged.</param>
    /// <param name="name">The name in spans, metrics and failure paths; the type name when null.</param>
    /// <exception cref="ArgumentException">A case is null.</exception>
    public SwitchPrimitive(
        Func<object?, WorkflowContext, string?> selector,
        IReadOnlyDictionary<string, Primitive> cases,
        Primitive? @default = null,
        string? name = null) : base(name)
    {
        Selector = selector ?? throw new ArgumentNullException(nameof(selector));
        ArgumentNullException.ThrowIfNull(cases);
        Cases = cases.ToDictionary(c => c.Key, c => c.Value ?? throw new ArgumentException($"Case '{c.Key}' is null.", nameof(cases)));
        CaseKeys = Cases.Keys.ToArray();
        Default = @default;
    }

    /// <summary>Picks a case key from the input and the context.</summary>
    public Func<object?, WorkflowContext, string?> Selector { get; }
    /// <summary>The cases by key.</summary>
    public IReadOnlyDictionary<string, Primitive> Cases { get; }
    /// <summary>The case keys, in the order given.</summary>
    public IReadOnlyList<string> CaseKeys { get; }
    /// <summary>Runs when no case matches; null passes the input through.</summary>
    public Primitive? Default { get; }

    /// <inheritdoc/>
    public override IReadOnlyList<Primitive> Children =>
        Default is null ? CaseKeys.Select(k => Cases[k]).ToArray() : [.. CaseKeys.Select(k => Cases[k]), Default];

    /// <inheritdoc/>
    public override string TypeName => "SwitchPrimitive";

    internal override Props CreateProps(PrimitiveNode node) => SwitchActor.Props(this, node);
}

internal sealed class SwitchActor : CompositeActor<SwitchActor.Run>
{
    private readonly Func<object?, WorkflowContext, string?> _selector;
    private readonly Dictionary<string, IActorRef> _cases = new();
    private readonly IActorRef? _default;

    public SwitchActor(SwitchPrimitive definition, PrimitiveNode node) : base(node)
    {
        _selector = definition.Selector;
        for (var i = 0; i < definition.CaseKeys.Count; i++)
        {
            var key = definition.CaseKeys[i];
            var @case = definition.Cases[key];
            _cases[key] = Context.ActorOf(@case.CreateProps(node.Child(@case, $"[{key}]")), $"case-{i}");
        }
        if (definition.Default is { } fallback)
            _default = Context.ActorOf(fallback.CreateProps(node.Child(fallback, "[default]")), "default");
    }

    public static Props Props(SwitchPrimitive definition, PrimitiveNode node) =>
        Akka.Actor.Props.Create(() => new SwitchActor(definition, node));

    protected override Run CreateRun(WorkflowEnvelope envelope) => new(Node, envelope);

    protected override void OnStart(Run run)
    {
        run.Checkpoint("switch.start");
        run.Checkpoint("switch.selector_eval.start");
        string? key;
        try
        {
            key = _selector(run.Inbound.Payload, run.Context);
        }
        catch (Exception error)
        {
            Fail(run, error);
            return;
        }
        run.Checkpoint("switch.selector_eval.end");

        string taken;
        IActorRef? target;
        if (key is not null && _cases.TryGetValue(key, out var matched)) (taken, target) = (key, matched);
        else if (_default is not null) (taken, target) = (TelemetryNames.Catalog.Branches.Default, _default);
        else (taken, target) = (TelemetryNames.Catalog.Branches.PassThrough, null);

        if (key is not null) CatalogTelemetry.Tag(run, TelemetryNames.Catalog.Attributes.SwitchKey, key);
        CatalogTelemetry.Tag(run, TelemetryNames.Catalog.Attributes.SwitchCase, taken);
        if (target is null)
        {
            run.Checkpoint("switch.end");
            Succeed(run, run.Inbound.Payload, run.Context);
            return;
        }
        if (run.RecordsCheckpoints)
        {
            // Named as the original names them: switch.case_{key} for a case, switch.default for the default.
            run.CaseCheckpoint = ReferenceEquals(target, _default) ? "switch.default" : $"switch.case_{key}";
            run.Checkpoint(run.CaseCheckpoint + ".start");
        }
        run.CaseContext = run.Context.CreateChild();
        Dispatch(run, 0, target, run.Inbound.Payload, run.CaseContext);
    }

    protected override void OnChildSucceeded(Run run, int child, PrimitiveSucceeded answer)
    {
        run.Context = run.Context.AbsorbRecords(answer.Context, run.CaseContext!);
        if (run.RecordsCheckpoints) run.Checkpoint(run.CaseCheckpoint + ".end");
        run.Checkpoint("switch.end");
        Succeed(run, answer.Output, run.Context);
    }

    protected override void OnChildFailed(Run run, int child, PrimitiveFailed answer) => Fail(run, answer.Failure);

    internal sealed class Run(PrimitiveNode node, WorkflowEnvelope inbound) : CompositeRun(node, inbound)
    {
        public WorkflowContext? CaseContext;
        public string CaseCheckpoint = "";
    }
}
