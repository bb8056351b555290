using Akka.Actor;
using Akka.Configuration;
using Akka.Dispatch;
using Akka.Dispatch.MessageQueues;

namespace TtaActors.Telemetry.ActorMetrics;

/// <summary>
/// The default mailbox of a TtaActors node, with counting: an unbounded queue that adds one to its actor type's
/// counters per enqueue and per dequeue. That gives messages received and mailbox depth per actor type, and (from
/// mailbox open and clean-up) live actors, for every actor, without Phobos and without touching actor code.
/// Enabled by <see cref="InstrumentedMailboxConfig"/>.
/// </summary>
public sealed class InstrumentedMailbox(Settings settings, Config config)
    : MailboxType(settings, config), IProducesMessageQueue<CountingMessageQueue>
{
    private readonly string _serviceName = InstrumentedMailboxConfig.ServiceNameOf(settings);

    /// <summary>Makes the counting queue of one actor, registered under the actor's type.</summary>
    public override IMessageQueue Create(IActorRef owner, ActorSystem system) =>
        new CountingMessageQueue(ActorTypeRegistry.For(_serviceName, InstrumentedMailboxConfig.ActorTypeOf(owner)));
}

/// <summary>The deque-based variant (actors that stash), counting the same way.</summary>
public sealed class InstrumentedDequeMailbox(Settings settings, Config config)
    : MailboxType(settings, config), IProducesMessageQueue<CountingDequeMessageQueue>
{
    private readonly string _serviceName = InstrumentedMailboxConfig.ServiceNameOf(settings);

    /// <summary>Makes the counting deque of one actor, registered under the actor's type.</summary>
    public override IMessageQueue Create(IActorRef owner, ActorSystem system) =>
        new CountingDequeMessageQueue(ActorTypeRegistry.For(_serviceName, InstrumentedMailboxConfig.ActorTypeOf(owner)));
}

/// <summary>Implemented by the counting queues so an actor's counters can be found from its mailbox.</summary>
public interface ICountingMessageQueue
{
    /// <summary>The counters of the owning actor's type.</summary>
    ActorTypeCounters Counters { get; }
}

/// <summary>An unbounded mailbox queue that counts enqueues, dequeues and discarded messages for its actor type.</summary>
public sealed class CountingMessageQueue : IMessageQueue, IUnboundedMessageQueueSemantics, ICountingMessageQueue
{
    private readonly UnboundedMessageQueue _queue = new();

    /// <summary>Opens the queue and counts its actor as live.</summary>
    public CountingMessageQueue(ActorTypeCounters counters)
    {
        Counters = counters;
        counters.OnStarted();
    }

    /// <summary>The counters this queue adds to.</summary>
    public ActorTypeCounters Counters { get; }
    /// <summary>True when a message is waiting.</summary>
    public bool HasMessages => _queue.HasMessages;
    /// <summary>Messages waiting in this queue.</summary>
    public int Count => _queue.Count;

    /// <summary>Queues the message and counts it as enqueued.</summary>
    public void Enqueue(IActorRef receiver, Envelope envelope)
    {
        _queue.Enqueue(receiver, envelope);
        Counters.OnEnqueued();
    }

    /// <summary>Takes the next message, counting it as received.</summary>
    public bool TryDequeue(out Envelope envelope)
    {
        if (!_queue.TryDequeue(out envelope)) return false;
        Counters.OnReceived();
        return true;
    }

    /// <summary>Moves what is left to dead letters (counted as discarded, not received) and counts the actor as stopped.</summary>
    public void CleanUp(IActorRef owner, IMessageQueue deadletters)
    {
        while (_queue.TryDequeue(out var envelope))
        {
            Counters.OnDiscarded();
            deadletters.Enqueue(owner, envelope);
        }
        Counters.OnStopped();
    }
}

/// <summary>The deque-based counting queue (for actors that stash): a <see cref="CountingMessageQueue"/> inside Akka's deque wrapper.</summary>
/// <param name="counters">The counters of the owning actor's type.</param>
public sealed class CountingDequeMessageQueue(ActorTypeCounters counters)
    : DequeWrapperMessageQueue(new CountingMessageQueue(counters)), IUnboundedDequeBasedMessageQueueSemantics, ICountingMessageQueue
{
    /// <summary>The counters this queue adds to.</summary>
    public ActorTypeCounters Counters { get; } = counters;
}

/// <summary>The HOCON that makes the counting mailboxes the defaults, and the lookups they share.</summary>
public static class InstrumentedMailboxConfig
{
    /// <summary>HOCON key of the workspace the counters are labelled with (<c>service_name</c>).</summary>
    public const string ServiceNameKey = "tta.service-name";

    /// <summary>The <c>service_name</c> the counters carry when the configuration names no workspace.</summary>
    public const string UnknownService = "unknown_service";

    /// <summary>Makes every default and deque-based mailbox a counting one and names the workspace.</summary>
    public static Config For(string serviceName) => ConfigurationFactory.ParseString($$"""
        tta.service-name = "{{serviceName.Replace("\\", "\\\\").Replace("\"", "\\\"")}}"
        akka.actor.default-mailbox.mailbox-type = "{{typeof(InstrumentedMailbox).AssemblyQualifiedNameShort()}}"
        akka.actor.mailbox.unbounded-deque-based.mailbox-type = "{{typeof(InstrumentedDequeMailbox).AssemblyQualifiedNameShort()}}"
        """);

    internal static string ServiceNameOf(Settings settings)
    {
        var name = settings.Config.GetString(ServiceNameKey, null);
        return string.IsNullOrWhiteSpace(name) ? UnknownService : name;
    }

    internal static Type ActorTypeOf(IActorRef owner) =>
        owner is ActorRefWithCell { Underlying.Props.Type: { } type } ? type : typeof(ActorBase);

    private static string AssemblyQualifiedNameShort(this Type type) => $"{type.FullName}, {type.Assembly.GetName().Name}";
}
