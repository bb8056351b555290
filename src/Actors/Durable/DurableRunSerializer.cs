using Akka.Actor;
using TtaActors.Actors.Serialization;

namespace TtaActors.Actors.Durable;

/// <summary>
/// Serialises durable run commands, journal events and replies as JSON with stable manifests (bound in
/// <c>hocon/serialization.conf</c>), so a run started on one node can be resumed from the journal on another.
/// </summary>
public sealed class DurableRunSerializer(ExtendedActorSystem system) : JsonManifestSerializer(system, Manifests)
{
    /// <summary>The serializer id bound in HOCON; stable, since it is written in journals and on the wire.</summary>
    public const int Id = 5152;

    private static readonly Dictionary<Type, string> Manifests = new()
    {
        [typeof(DurableRunCommands.Start)] = "dr.start",
        [typeof(DurableRunCommands.Get)] = "dr.get",
        [typeof(DurableRunCommands.Signal)] = "dr.signal",
        [typeof(DurableRunCommands.GetEvents)] = "dr.get-events",
        [typeof(DurableRunCommands.Wake)] = "dr.wake",
        [typeof(DurableRunEvents.RunStarted)] = "dr.e.started",
        [typeof(DurableRunEvents.StepStarted)] = "dr.e.step-started",
        [typeof(DurableRunEvents.StepCompleted)] = "dr.e.step-completed",
        [typeof(DurableRunEvents.WaitStarted)] = "dr.e.wait-started",
        [typeof(DurableRunEvents.SignalReceived)] = "dr.e.signal-received",
        [typeof(DurableRunEvents.WaitTimedOut)] = "dr.e.wait-timed-out",
        [typeof(DurableRunEvents.TextMessageStarted)] = "dr.e.text-started",
        [typeof(DurableRunEvents.TextMessageContent)] = "dr.e.text-content",
        [typeof(DurableRunEvents.TextMessageEnded)] = "dr.e.text-ended",
        [typeof(DurableRunEvents.RunSucceeded)] = "dr.e.succeeded",
        [typeof(DurableRunEvents.RunFailed)] = "dr.e.failed",
        [typeof(DurableRunReplies.View)] = "dr.r.view",
        [typeof(DurableRunReplies.SignalAccepted)] = "dr.r.signal-accepted",
        [typeof(DurableRunReplies.Event)] = "dr.r.event",
        [typeof(DurableRunReplies.Events)] = "dr.r.events",
        [typeof(DurableRunReplies.Refused)] = "dr.r.refused",
    };

    /// <summary>Returns <see cref="Id"/>.</summary>
    public override int Identifier => Id;

    /// <inheritdoc/>
    protected override string Name => nameof(DurableRunSerializer);
}
