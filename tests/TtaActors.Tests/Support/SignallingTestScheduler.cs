using Akka.Actor;
using Akka.Configuration;
using Akka.Event;
using Akka.TestKit;

namespace TtaActors.Tests.Support;

/// <summary>
/// A <see cref="TestScheduler"/> that counts what actors schedule, so a spec can wait until a timer exists before
/// advancing virtual time past it (advancing first would leave a timer scheduled later waiting for another advance),
/// and what has fired: <see cref="TestScheduler.Advance(TimeSpan)"/> delivers due tells before it returns, so
/// <see cref="FiredTells"/> says at once whether a timer was due, where the receiving actor's reaction to it would
/// still be racing the spec.
/// </summary>
public sealed class SignallingTestScheduler(Config config, ILoggingAdapter log) : TestScheduler(config, log), ITellScheduler
{
    public const string Hocon = "akka.scheduler.implementation = \"TtaActors.Tests.Support.SignallingTestScheduler, TtaActors.Tests\"";

    private int _scheduled;
    private int _fired;

    /// <summary>How many one-off tells have been scheduled so far.</summary>
    public int ScheduledTells => Volatile.Read(ref _scheduled);

    /// <summary>How many scheduled one-off tells have been delivered to their receiver so far.</summary>
    public int FiredTells => Volatile.Read(ref _fired);

    void ITellScheduler.ScheduleTellOnce(TimeSpan delay, ICanTell receiver, object message, IActorRef sender)
    {
        ScheduleTellOnce(delay, new Counted(receiver, this), message, sender);
        Interlocked.Increment(ref _scheduled);
    }

    void ITellScheduler.ScheduleTellOnce(TimeSpan delay, ICanTell receiver, object message, IActorRef sender, ICancelable cancelable)
    {
        ScheduleTellOnce(delay, new Counted(receiver, this), message, sender, cancelable);
        Interlocked.Increment(ref _scheduled);
    }

    private sealed class Counted(ICanTell receiver, SignallingTestScheduler scheduler) : ICanTell
    {
        public void Tell(object message, IActorRef sender)
        {
            Interlocked.Increment(ref scheduler._fired);
            receiver.Tell(message, sender);
        }
    }
}
