using Akka.Actor;
using TtaActors.Actors.Serialization;
using static TtaActors.Actors.Sessions.PersonaSessionCommands;
using static TtaActors.Actors.Sessions.PersonaSessionEvents;
using static TtaActors.Actors.Sessions.PersonaSessionReplies;

namespace TtaActors.Actors.Sessions;

/// <summary>Marks every message of the persona session protocol: bound to <see cref="PersonaSessionSerializer"/> in HOCON.</summary>
public interface IPersonaSessionMessage;

/// <summary>
/// Serialises session commands, replies, events and snapshots. The manifests are persisted with every event, so they
/// must never change; a new message gets a new manifest.
/// </summary>
public sealed class PersonaSessionSerializer(ExtendedActorSystem system) : JsonManifestSerializer(system, Manifests)
{
    /// <summary>The serializer id bound in HOCON; stable, since it is written in journals and on the wire.</summary>
    public const int Id = 5150;

    private static readonly Dictionary<Type, string> Manifests = new()
    {
        [typeof(GetSession)] = "ps.get",
        [typeof(SwitchPersona)] = "ps.switch",
        [typeof(BeginRun)] = "ps.begin-run",
        [typeof(CompleteRun)] = "ps.complete-run",
        [typeof(SetTokenBudget)] = "ps.set-budget",
        [typeof(RunAdmitted)] = "ps.run-admitted",
        [typeof(Refused)] = "ps.refused",
        [typeof(PersonaSwitched)] = "ps.ev.persona-switched",
        [typeof(RunStarted)] = "ps.ev.run-started",
        [typeof(RunFinished)] = "ps.ev.run-finished",
        [typeof(TokenBudgetSet)] = "ps.ev.budget-set",
        [typeof(PersonaSessionState)] = "ps.state",
    };

    /// <summary>Returns <see cref="Id"/>.</summary>
    public override int Identifier => Id;

    /// <inheritdoc/>
    protected override string Name => nameof(PersonaSessionSerializer);
}
