using Akka.Actor;
using TtaActors.Actors.Context;
using TtaActors.Actors.Execution;

namespace TtaActors.Actors.Primitives;

/// <summary>Runs steps one after another; the output of step i is the input of step i+1.</summary>
public sealed class SequentialPrimitive : Primitive
{
    public SequentialPrimitive(IEnumerable<Primitive> steps, string? name = null) : base(name)
    {
        ArgumentNullException.ThrowIfNull(steps);
        Steps = steps.ToArray();
        if (Steps.Count == 0)
            throw new ArgumentException("A Sequential needs at least one step; it was given none.", nameof(steps));
        if (Steps.Any(s => s is null))
            throw new ArgumentException("A Sequential step must not be null.", nameof(steps));
    }

    public IReadOnlyList<Primitive> Steps { get; }
    public override IReadOnlyList<Primitive> Children => Steps;
    public override string TypeName => "SequentialPrimitive";

    public SequentialPrimitive Named(string name) => new(Steps, name);

    internal override Props CreateProps(PrimitiveNode node) => SequentialActor.Props(this, node);
}

internal sealed class SequentialActor : UntypedActor
{
    private readonly PrimitiveNode _node;
    private readonly IActorRef[] _steps;
    private readonly Dictionary<long, Run> _pending = new();

    public SequentialActor(SequentialPrimitive definition, PrimitiveNode node)
    {
        _node = node;
        _steps = new IActorRef[definition.Steps.Count];
        for (var i = 0; i < _steps.Length; i++)
        {
            var step = definition.Steps[i];
            _steps[i] = Context.ActorOf(step.CreateProps(node.Child(step, $"[{i}]", stepIndex: i)), $"step-{i}");
        }
    }

    public static Props Props(SequentialPrimitive definition, PrimitiveNode node) =>
        Akka.Actor.Props.Create(() => new SequentialActor(definition, node));

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case WorkflowEnvelope envelope:
                Dispatch(new Run(_node, envelope), 0, envelope.Payload);
                break;
            case PrimitiveSucceeded done when _pending.Remove(done.CallId, out var run):
                run.Context = run.Context.AbsorbRecords(done.Context, run.StepContext!);
                if (run.Step + 1 < _steps.Length) Dispatch(run, run.Step + 1, done.Output);
                else run.Succeed(done.Output, run.Context, Self);
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

    private void Dispatch(Run run, int step, object? input)
    {
        if (RunGuard.Expired(run.Inbound, Context.System.Scheduler) is { } expired)
        {
            run.Fail(expired, Self);
            return;
        }
        var callId = WorkflowEnvelope.NextCallId();
        run.Step = step;
        // Contexts are immutable values: while no step has recorded anything for the run, the next step's child
        // context equals the previous one, so it is reused instead of copied again (one allocation less per step).
        if (run.StepContext is null || !ReferenceEquals(run.StepContextParent, run.Context))
        {
            run.StepContext = run.Context.CreateChild();
            run.StepContextParent = run.Context;
        }
        _pending.Add(callId, run);
        _steps[step].Tell(run.ChildEnvelope(callId, input, run.StepContext, Self));
    }

    protected override void PreRestart(Exception reason, object message)
    {
        RunGuard.FailAll(_pending.Values, reason, Self);
        _pending.Clear();
        base.PreRestart(reason, message);
    }

    private sealed class Run(PrimitiveNode node, WorkflowEnvelope inbound) : PrimitiveExecution(node, inbound)
    {
        public int Step;
        public WorkflowContext? StepContext;

        /// <summary>The run context <see cref="StepContext"/> was derived from.</summary>
        public WorkflowContext? StepContextParent;
    }
}
