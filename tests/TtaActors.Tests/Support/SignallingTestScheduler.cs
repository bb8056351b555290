using Akka.Actor;
using Akka.Configuration;
using Akka.Event;
using Akka.TestKit;

namespace TtaActors.Tests.Support;

/// <summary>
/// A <see cref="TestScheduler"/> that counts what actors schedule, so a spec can wait until a timer exists before
/// advancing virtual time past it (advancing first would leave a timer scheduled later waiting for another advance).
/// </summary>
public sealed class SignallingTestScheduler(Config config, ILoggingAdapter log) : TestScheduler(config, log), ITellScheduler
{
    public const string Hocon = "akka.scheduler.implementation = \"TtaActors.Tests.Support.SignallingTestScheduler, TtaActors.Tests\"";

    private int _scheduled;

    /// <summary>How many one-off tells have been scheduled so far.</summary>
    public int ScheduledTells => Volatile.Read(ref _scheduled);

    void ITellScheduler.ScheduleTellOnce(TimeSpan delay, ICanTell receiver, object message, IActorRef sender)
    {
        ScheduleTellOnce(delay, receiver, message, sender);
        Interlocked.Increment(ref _scheduled);
    }

    void ITellScheduler.ScheduleTellOnce(TimeSpan delay, ICanTell receiver, object message, IActorRef sender, ICancelable cancelable)
    {
        ScheduleTellOnce(delay, receiver, message, sender, cancelable);
        Interlocked.Increment(ref _scheduled);
    }
}
