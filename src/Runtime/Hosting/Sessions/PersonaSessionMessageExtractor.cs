using Akka.Cluster.Sharding;
using TtaActors.Actors.Sessions;

namespace TtaActors.Runtime.Sessions;

/// <summary>Routes a session command to its session's entity; the session id is the entity id.</summary>
public sealed class PersonaSessionMessageExtractor(int maxNumberOfShards) : HashCodeMessageExtractor(maxNumberOfShards)
{
    /// <inheritdoc/>
    public override string? EntityId(object message) => message switch
    {
        PersonaSessionCommands.ICommand command => command.SessionId,
        _ => null,
    };
}
