using Akka.Actor;
using TtaActors.Actors.Context;
using TtaActors.Actors.Execution;

namespace TtaActors.Actors.Primitives;

/// <summary>
/// Gives every branch the same input; answers the branches' outputs in branch order. The first failing branch
/// fails the whole primitive and the other branches' results are discarded.
/// </summary>
public sealed class ParallelPrimitive : Primitive
{
    /// <param name="branches">The branches, at least one; the output is their outputs as an array, in branch order.</param>
    /// <param name="name">The name in spans, metrics and failure paths; the type name when null.</param>
    /// <exception cref="ArgumentException">No branches, or a null branch.</exception>
    public ParallelPrimitive(IEnumerable<Primitive> branches, string? name = null) : this(branches, null, name)
    {
    }

    /// <param name="combine">Turns the branches' outputs (in branch order) into the primitive's output; the typed API
    /// answers a tuple or a record this way, with the same actors and spans as the untyped Parallel.</param>
    /// <param name="branches">The branches, at least one.</param>
    /// <param name="name">The name in spans, metrics and failure paths; the type name when null.</param>
    internal ParallelPrimitive(IEnumerable<Primitive> branches, Func<object?[], object?>? combine, string? name) : base(name)
    {
        Combine = combine;
        ArgumentNullException.ThrowIfNull(branches);
        Branches = branches.ToArray();
        if (Branches.Count == 0)
            throw new ArgumentException("A Parallel needs at least one branch; it was given none.", nameof(branches));
        if (Branches.Any(b => b is null))
            throw new ArgumentException("A Parallel branch must not be null.", nameof(branches));
    }

    /// <summary>The branches, in the order their outputs are answered.</summary>
    public IReadOnlyList<Primitive> Branches { get; }
    /// <inheritdoc/>
    public override IReadOnlyList<Primitive> Children => Branches;
    /// <inheritdoc/>
    public override string TypeName => "ParallelPrimitive";

    /// <summary>What the branches' outputs become; null answers them as an array.</summary>
    internal Func<object?[], object?>? Combine { get; }

    // A combined Parallel answers one value shaped by its branch count, so `|` must not splice more branches into it.
    internal override bool Flattens => base.Flattens && Combine is null;

    /// <summary>This Parallel under <paramref name="name"/>; a named Parallel is not flattened by <c>|</c>.</summary>
    public ParallelPrimitive Named(string name) => new(Branches, Combine, name);

    internal override Props CreateProps(PrimitiveNode node) => ParallelActor.Props(this, node);
}

internal sealed class ParallelActor : CompositeActor<ParallelActor.Run>
{
    private const string FanOut = "parallel.fan_out";
    private const string FanIn = "parallel.fan_in";
    private readonly IActorRef[] _branches;
    private readonly Func<object?[], object?>? _combine;
    private readonly string[] _branchStarts;
    private readonly string[] _branchEnds;

    public ParallelActor(ParallelPrimitive definition, PrimitiveNode node) : base(node)
    {
        _combine = definition.Combine;
        _branches = new IActorRef[definition.Branches.Count];
        _branchStarts = new string[_branches.Length];
        _branchEnds = new string[_branches.Length];
        for (var i = 0; i < _branches.Length; i++)
        {
            var branch = definition.Branches[i];
            _branches[i] = Context.ActorOf(branch.CreateProps(node.Child(branch, $"[{i}]", branchIndex: i)), $"branch-{i}");
            _branchStarts[i] = $"parallel.branch_{i}.start";
            _branchEnds[i] = $"parallel.branch_{i}.end";
        }
    }

    public static Props Props(ParallelPrimitive definition, PrimitiveNode node) =>
        Akka.Actor.Props.Create(() => new ParallelActor(definition, node));

    protected override Run CreateRun(WorkflowEnvelope envelope) => new(Node, envelope, _branches.Length);

    protected override void OnStart(Run run)
    {
        run.Checkpoint(FanOut);
        foreach (var start in _branchStarts) run.Checkpoint(start);
        var branchContext = run.BranchContext = run.Context.CreateChild();
        DispatchAll(run, _branches, run.Inbound.Payload, branchContext);
    }

    protected override void OnChildSucceeded(Run run, int branch, PrimitiveSucceeded answer)
    {
        run.Results[branch] = answer.Output;
        run.Context = run.Context.AbsorbRecords(answer.Context, run.BranchContext!);
        run.Checkpoint(_branchEnds[branch]);
        if (--run.Remaining > 0) return;
        run.Checkpoint(FanIn);
        Succeed(run, _combine is null ? run.Results : _combine(run.Results), run.Context);
    }

    // The first failure fails the whole primitive; the other branches' answers are late answers from here on.
    protected override void OnChildFailed(Run run, int branch, PrimitiveFailed answer) => Fail(run, answer.Failure);

    internal sealed class Run : CompositeRun
    {
        public Run(PrimitiveNode node, WorkflowEnvelope inbound, int branches) : base(node, inbound)
        {
            Results = new object?[branches];
            Remaining = branches;
        }

        public object?[] Results { get; }
        public int Remaining;
        public WorkflowContext? BranchContext;
    }
}
