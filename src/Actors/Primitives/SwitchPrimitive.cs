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
    public SwitchPrimitive(
        Func<object?, WorkflowContext, string?> selector,
        IReadOnlyDictionary<string, Primitive> cases,
        Primitive? @default = null,
        string? name = null) : base(name)
    {
        Selector = selector ?? throw new ArgumentNullException(nameof(selector));
        ArgumentNullException.ThrowIfNull(cases);
        if (cases.Count == 0 && @default is null)
            throw new ArgumentException("A Switch needs at least one case or a default; it was given neither.", nameof(cases));
        Cases = cases.ToDictionary(c => c.Key, c => c.Value ?? throw new ArgumentException($"Case '{c.Key}' is null.", nameof(cases)));
        CaseKeys = Cases.Keys.ToArray();
        Default = @default;
    }

    public Func<object?, WorkflowContext, string?> Selector { get; }
    public IReadOnlyDictionary<string, Primitive> Cases { get; }
    public IReadOnlyList<string> CaseKeys { get; }
    public Primitive? Default { get; }

    public override IReadOnlyList<Primitive> Children =>
        Default is null ? CaseKeys.Select(k => Cases[k]).ToArray() : [.. CaseKeys.Select(k => Cases[k]), Default];

    public override string TypeName => "SwitchPrimitive";

    internal override Props CreateProps(PrimitiveNode node) => SwitchActor.Props(this, node);
}

internal sealed class SwitchActor : UntypedActor
{
    private readonly Func<object?, WorkflowContext, string?> _selector;
    private readonly PrimitiveNode _node;
    private readonly Dictionary<string, IActorRef> _cases = new();
    private readonly IActorRef? _default;
    private readonly Dictionary<long, Run> _pending = new();

    public SwitchActor(SwitchPrimitive definition, PrimitiveNode node)
    {
        _selector = definition.Selector;
        _node = node;
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

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case WorkflowEnvelope envelope:
                Select(new Run(_node, envelope));
                break;
            case PrimitiveSucceeded done when _pending.Remove(done.CallId, out var run):
                run.Succeed(done.Output, run.Context.AbsorbRecords(done.Context, run.CaseContext!), Self);
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

    private void Select(Run run)
    {
        if (RunGuard.Expired(run.Inbound, Context.System.Scheduler) is { } expired)
        {
            run.Fail(expired, Self);
            return;
        }
        string? key;
        try
        {
            key = _selector(run.Inbound.Payload, run.Context);
        }
        catch (Exception error)
        {
            run.Fail(error, Self);
            return;
        }

        string taken;
        IActorRef? target;
        if (key is not null && _cases.TryGetValue(key, out var matched)) (taken, target) = (key, matched);
        else if (_default is not null) (taken, target) = (TelemetryNames.Catalog.Branches.Default, _default);
        else (taken, target) = (TelemetryNames.Catalog.Branches.PassThrough, null);

        if (key is not null) CatalogTelemetry.Tag(run, TelemetryNames.Catalog.Attributes.SwitchKey, key);
        CatalogTelemetry.Tag(run, TelemetryNames.Catalog.Attributes.SwitchCase, taken);
        if (target is null)
        {
            run.Succeed(run.Inbound.Payload, run.Context, Self);
            return;
        }
        var callId = WorkflowEnvelope.NextCallId();
        run.CaseContext = run.Context.CreateChild();
        _pending.Add(callId, run);
        target.Tell(run.ChildEnvelope(callId, run.Inbound.Payload, run.CaseContext, Self));
    }

    protected override void PreRestart(Exception reason, object message)
    {
        RunGuard.FailAll(_pending.Values, reason, Self);
        _pending.Clear();
        base.PreRestart(reason, message);
    }

    private sealed class Run(PrimitiveNode node, WorkflowEnvelope inbound) : PrimitiveExecution(node, inbound)
    {
        public WorkflowContext? CaseContext;
    }
}
