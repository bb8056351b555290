using Akka.Actor;
using TtaActors.Actors.Context;
using TtaActors.Actors.Execution;

namespace TtaActors.Actors.Primitives;

/// <summary>Runs steps one after another; the output of step i is the input of step i+1.</summary>
public sealed class SequentialPrimitive : Primitive
{
    /// <param name="steps">The steps, at least one.</param>
    /// <param name="name">The name in spans, metrics and failure paths; the type name when null.</param>
    /// <exception cref="ArgumentException">No steps, or a null step.</exception>
    public SequentialPrimitive(IEnumerable<Primitive> steps, string? name = null) : base(name)
    {
        ArgumentNullException.ThrowIfNull(steps);
        Steps = steps.ToArray();
        if (Steps.Count == 0)
            throw new ArgumentException("A Sequential needs at least one step; it was given none.", nameof(steps));
        if (Steps.Any(s => s is null))
            throw new ArgumentException("A Sequential step must not be null.", nameof(steps));
    }

    /// <summary>The steps, in order.</summary>
    public IReadOnlyList<Primitive> Steps { get; }
    /// <inheritdoc/>
    public override IReadOnlyList<Primitive> Children => Steps;
    /// <inheritdoc/>
    public override string TypeName => "SequentialPrimitive";

    /// <summary>This Sequential under <paramref name="name"/>; a named Sequential is not flattened by <c>&gt;&gt;</c>.</summary>
    public SequentialPrimitive Named(string name) => new(Steps, name);

    internal override Props CreateProps(PrimitiveNode node) => SequentialActor.Props(this, node);
}

internal sealed class SequentialActor : CompositeActor<SequentialActor.Run>
{
    private readonly ChildStep[] _steps;
    private readonly string[] _stepStarts;
    private readonly string[] _stepEnds;

    public SequentialActor(SequentialPrimitive definition, PrimitiveNode node) : base(node)
    {
        _steps = new ChildStep[definition.Steps.Count];
        _stepStarts = new string[_steps.Length];
        _stepEnds = new string[_steps.Length];
        for (var i = 0; i < _steps.Length; i++)
        {
            var step = definition.Steps[i];
            _steps[i] = SpawnChild(step, node.Child(step, $"[{i}]", stepIndex: i), $"step-{i}");
            _stepStarts[i] = $"sequential.step_{i}.start";
            _stepEnds[i] = $"sequential.step_{i}.end";
        }
    }

    public static Props Props(SequentialPrimitive definition, PrimitiveNode node) =>
        Akka.Actor.Props.Create(() => new SequentialActor(definition, node));

    protected override Run CreateRun(WorkflowEnvelope envelope) => new(Node, envelope);

    protected override void OnStart(Run run) => Dispatch(run, 0, run.Inbound.Payload);

    protected override void OnChildSucceeded(Run run, int step, PrimitiveSucceeded answer) => StepDone(run, step, answer.Output, answer.Context);

    protected override void InlineStepSucceeded(Run run, int step, long callId, object? output, WorkflowContext context) =>
        StepDone(run, step, output, context);

    private void StepDone(Run run, int step, object? output, WorkflowContext stepContext)
    {
        run.Context = run.Context.AbsorbRecords(stepContext, run.StepContext!);
        run.Checkpoint(_stepEnds[step]);
        if (step + 1 < _steps.Length) Dispatch(run, step + 1, output);
        else Succeed(run, output, run.Context);
    }

    protected override void OnChildFailed(Run run, int step, PrimitiveFailed answer) => Fail(run, answer.Failure);

    private void Dispatch(Run run, int step, object? input)
    {
        if (!MayGoOn(run)) return;
        run.Checkpoint(_stepStarts[step]);
        // Contexts are immutable values: while no step has recorded anything for the run, the next step's child
        // context equals the previous one, so it is reused instead of copied again (one allocation less per step).
        if (run.StepContext is null || !ReferenceEquals(run.StepContextParent, run.Context))
        {
            run.StepContext = run.Context.CreateChild();
            run.StepContextParent = run.Context;
        }
        Dispatch(run, step, _steps[step], input, run.StepContext);
    }

    internal sealed class Run(PrimitiveNode node, WorkflowEnvelope inbound) : CompositeRun(node, inbound)
    {
        public WorkflowContext? StepContext;

        /// <summary>The run context <see cref="StepContext"/> was derived from.</summary>
        public WorkflowContext? StepContextParent;
    }
}
