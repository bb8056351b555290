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
    public ParallelPrimitive(IEnumerable<Primitive> branches, string? name = null) : base(name)
    {
        ArgumentNullException.ThrowIfNull(branches);
        Branches = branches.ToArray();
        if (Branches.Count == 0)
            throw new ArgumentException("A Parallel needs at least one branch; it was given none.", nameof(branches));
        if (Branches.Any(b => b is null))
            throw new ArgumentException("A Parallel branch must not be null.", nameof(branches));
    }

    public IReadOnlyList<Primitive> Branches { get; }
    public override IReadOnlyList<Primitive> Children => Branches;
    public override string TypeName => "ParallelPrimitive";

    public ParallelPrimitive Named(string name) => new(Branches, name);

    internal override Props CreateProps(PrimitiveNode node) => ParallelActor.Props(this, node);
}

internal sealed class ParallelActor : UntypedActor
{
    private readonly PrimitiveNode _node;
    private readonly IActorRef[] _branches;
    private readonly Dictionary<long, (Run Run, int Branch)> _pending = new();

    public ParallelActor(ParallelPrimitive definition, PrimitiveNode node)
    {
        _node = node;
        _branches = new IActorRef[definition.Branches.Count];
        for (var i = 0; i < _branches.Length; i++)
        {
            var branch = definition.Branches[i];
            _branches[i] = Context.ActorOf(branch.CreateProps(node.Child(branch, $"[{i}]", branchIndex: i)), $"branch-{i}");
        }
    }

    public static Props Props(ParallelPrimitive definition, PrimitiveNode node) =>
        Akka.Actor.Props.Create(() => new ParallelActor(definition, node));

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case WorkflowEnvelope envelope:
                Start(envelope);
                break;
            case PrimitiveSucceeded done when _pending.Remove(done.CallId, out var entry):
                var run = entry.Run;
                run.Results[entry.Branch] = done.Output;
                run.Context = run.Context.AbsorbRecords(done.Context, run.BranchContext);
                if (--run.Remaining == 0) run.Succeed(run.Results, run.Context, Self);
                break;
            case PrimitiveFailed failed when _pending.Remove(failed.CallId, out var entry):
                foreach (var callId in entry.Run.CallIds) _pending.Remove(callId);
                entry.Run.Fail(failed.Failure, Self);
                break;
            case PrimitiveResult:
                break; // a branch of a run that has already failed
            default:
                Unhandled(message);
                break;
        }
    }

    private void Start(WorkflowEnvelope envelope)
    {
        var run = new Run(_node, envelope, _branches.Length);
        if (RunGuard.Expired(envelope, Context.System.Scheduler) is { } expired)
        {
            run.Fail(expired, Self);
            return;
        }
        for (var i = 0; i < _branches.Length; i++)
        {
            var callId = WorkflowEnvelope.NextCallId();
            run.CallIds[i] = callId;
            _pending.Add(callId, (run, i));
            _branches[i].Tell(run.ChildEnvelope(callId, envelope.Payload, run.BranchContext, Self));
        }
    }

    protected override void PreRestart(Exception reason, object message)
    {
        RunGuard.FailAll(_pending.Values.Select(p => p.Run), reason, Self);
        _pending.Clear();
        base.PreRestart(reason, message);
    }

    private sealed class Run : PrimitiveExecution
    {
        public Run(PrimitiveNode node, WorkflowEnvelope inbound, int branches) : base(node, inbound)
        {
            Results = new object?[branches];
            CallIds = new long[branches];
            Remaining = branches;
            BranchContext = inbound.Context.CreateChild();
        }

        public object?[] Results { get; }
        public long[] CallIds { get; }
        public int Remaining;
        public WorkflowContext BranchContext { get; }
    }
}
