using Akka.Cluster.Sharding;
using Akka.Hosting;
using Microsoft.Extensions.DependencyInjection;
using TtaActors.Actors.Sessions;
using TtaActors.Runtime.Cluster;

namespace TtaActors.Runtime.Sessions;

/// <summary>Registration of the sharded persona sessions.</summary>
public static class PersonaSessionsHostingExtensions
{
    /// <summary>The shard region's type name.</summary>
    public const string ShardTypeName = "persona-session";

    /// <summary>
    /// Starts the persona session shard region on this node (settings from <c>akka.cluster.sharding</c> in
    /// <c>hocon/cluster.conf</c>) and registers it as <see cref="PersonaSessionRegion"/>. Needs <see cref="TtaClusterHostingExtensions.WithTtaCluster"/>.
    /// </summary>
    public static AkkaConfigurationBuilder WithPersonaSessions(this AkkaConfigurationBuilder builder, TtaClusterOptions cluster,
        PersonaSessionSettings? settings = null)
    {
        var entitySettings = settings ?? new PersonaSessionSettings();
        builder.AddStartup(async (system, registry) =>
        {
            var region = await ClusterSharding.Get(system).StartAsync(
                ShardTypeName,
                sessionId => PersonaSessionActor.Props(sessionId, entitySettings),
                ClusterShardingSettings.Create(system),
                new PersonaSessionMessageExtractor(cluster.NumberOfShards));
            registry.Register<PersonaSessionRegion>(region);
        });
        return builder;
    }

    /// <summary>Registers <see cref="IPersonaSessions"/> (and <see cref="ShardedPersonaSessions"/>) over the shard region.</summary>
    public static IServiceCollection AddPersonaSessions(this IServiceCollection services, TimeSpan? askTimeout = null)
    {
        services.AddSingleton(sp => new ShardedPersonaSessions(sp.GetRequiredService<ActorRegistry>(), askTimeout));
        services.AddSingleton<IPersonaSessions>(sp => sp.GetRequiredService<ShardedPersonaSessions>());
        return services;
    }
}
