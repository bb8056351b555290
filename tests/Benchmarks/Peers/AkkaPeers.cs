using System.Diagnostics;
using Akka.Actor;

namespace TtaActors.Benchmarks.Peers;

/// <summary>
/// The bare Akka.NET peers: what a developer writes by hand without a workflow runtime. The trace context travels
/// in the message, one Activity per hop, as it must across a mailbox.
/// </summary>
public static class AkkaPeers
{
    /// <summary>A chain of <paramref name="length"/> actors; each adds one and forwards, the last answers the caller.</summary>
    public static IActorRef Chain(ActorSystem system, int length, string name)
    {
        IActorRef? next = null;
        for (var i = length - 1; i >= 0; i--) next = system.ActorOf(Props.Create(() => new HopActor(next)), $"{name}-hop-{i}");
        return next!;
    }

    /// <summary>A coordinator that sends the input to <paramref name="branches"/> worker actors and answers with all results.</summary>
    public static IActorRef FanOut(ActorSystem system, int branches, string name) =>
        system.ActorOf(Props.Create(() => new FanOutActor(branches)), name);

    public sealed record Hop(int Value, ActivityContext Parent);

    private sealed class HopActor(IActorRef? next) : UntypedActor
    {
        protected override void OnReceive(object message)
        {
            var hop = (Hop)message;
            using var span = PeerTelemetry.Source.StartActivity("hop", ActivityKind.Internal, hop.Parent);
            var forward = new Hop(hop.Value + 1, span?.Context ?? default);
            if (next is null) Sender.Tell(forward.Value);
            else next.Forward(forward);
        }
    }

    private sealed record Branch(long RunId, int Index, int Value, ActivityContext Parent);

    private sealed record BranchDone(long RunId, int Index, int Value);

    private sealed class FanOutActor : UntypedActor
    {
        private readonly IActorRef[] _branches;
        private readonly Dictionary<long, Gather> _pending = new();
        private long _lastRun;

        public FanOutActor(int branches) =>
            _branches = Enumerable.Range(0, branches).Select(i => Context.ActorOf(Props.Create(() => new BranchActor()), $"branch-{i}")).ToArray();

        protected override void OnReceive(object message)
        {
            switch (message)
            {
                case Hop start:
                {
                    var runId = ++_lastRun;
                    var gather = new Gather(Sender, _branches.Length);
                    _pending.Add(runId, gather);
                    for (var i = 0; i < _branches.Length; i++) _branches[i].Tell(new Branch(runId, i, start.Value, start.Parent));
                    break;
                }
                case BranchDone done when _pending.TryGetValue(done.RunId, out var gather):
                    gather.Results[done.Index] = done.Value;
                    if (--gather.Remaining == 0)
                    {
                        _pending.Remove(done.RunId);
                        gather.Caller.Tell(gather.Results);
                    }
                    break;
            }
        }

        private sealed class Gather(IActorRef caller, int branches)
        {
            public IActorRef Caller { get; } = caller;
            public int[] Results { get; } = new int[branches];
            public int Remaining = branches;
        }
    }

    private sealed class BranchActor : UntypedActor
    {
        protected override void OnReceive(object message)
        {
            var branch = (Branch)message;
            using var span = PeerTelemetry.Source.StartActivity("branch", ActivityKind.Internal, branch.Parent);
            Sender.Tell(new BranchDone(branch.RunId, branch.Index, branch.Value + 1));
        }
    }
}
