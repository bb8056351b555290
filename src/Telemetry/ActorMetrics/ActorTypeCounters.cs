using System.Collections.Concurrent;

namespace TtaActors.Telemetry.ActorMetrics;

/// <summary>
/// Counters shared by every actor of one type in one workspace. Written with one atomic add per enqueue and per
/// dequeue (the cost of the whole feature on the message path) and read by the metric callbacks.
/// </summary>
public sealed class ActorTypeCounters
{
    private long _enqueued;
    private long _received;
    private long _discarded;
    private long _started;
    private long _stopped;
    private long _restarts;

    internal ActorTypeCounters(string serviceName, string actorType)
    {
        ServiceName = serviceName;
        ActorType = actorType;
    }

    /// <summary>The workspace the counters belong to (the <c>service_name</c> label).</summary>
    public string ServiceName { get; }
    /// <summary>The <c>actor_type</c> label: see <see cref="ActorTypeRegistry.LabelOf"/>.</summary>
    public string ActorType { get; }

    /// <summary>Messages taken out of a mailbox for processing by an actor of this type.</summary>
    public long Received => Volatile.Read(ref _received);

    /// <summary>Messages waiting in the mailboxes of actors of this type.</summary>
    public long MailboxDepth => Volatile.Read(ref _enqueued) - Volatile.Read(ref _received) - Volatile.Read(ref _discarded);

    /// <summary>Actors of this type whose mailbox is open.</summary>
    public long Live => Volatile.Read(ref _started) - Volatile.Read(ref _stopped);

    /// <summary>Restarts of actors of this type by their supervisors.</summary>
    public long Restarts => Volatile.Read(ref _restarts);

    internal void OnEnqueued() => Interlocked.Increment(ref _enqueued);
    internal void OnReceived() => Interlocked.Increment(ref _received);
    internal void OnDiscarded() => Interlocked.Increment(ref _discarded);
    internal void OnStarted() => Interlocked.Increment(ref _started);
    internal void OnStopped() => Interlocked.Increment(ref _stopped);
    internal void OnRestarted() => Interlocked.Increment(ref _restarts);
}

/// <summary>Every <see cref="ActorTypeCounters"/> of the process, by workspace and actor type (a bounded set).</summary>
public static class ActorTypeRegistry
{
    private static readonly ConcurrentDictionary<(string Service, Type Type), ActorTypeCounters> Counters = new();

    /// <summary>Every counter set made so far, read by the actor metric callbacks.</summary>
    public static IEnumerable<ActorTypeCounters> All => Counters.Values;

    /// <summary>The counters of one actor type in one workspace, made on first use and shared afterwards.</summary>
    public static ActorTypeCounters For(string serviceName, Type actorType) =>
        Counters.GetOrAdd((serviceName, actorType), static key => new ActorTypeCounters(key.Service, LabelOf(key.Type)));

    /// <summary>The <c>actor_type</c> label: the class name without namespace or generic arity.</summary>
    public static string LabelOf(Type type)
    {
        var name = type.Name;
        var tick = name.IndexOf('`');
        return tick < 0 ? name : name[..tick];
    }
}
