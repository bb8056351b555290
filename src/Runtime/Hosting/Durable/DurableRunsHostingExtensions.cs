using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Configuration;
using Akka.DependencyInjection;
using Akka.Hosting;
using Microsoft.Extensions.DependencyInjection;
using TtaActors.Actors.Durable;
using TtaActors.Actors.Llm;
using TtaActors.Runtime.Cluster;
using TtaActors.Telemetry.Llm;

namespace TtaActors.Runtime.Durable;

/// <summary>The shard region of durable runs (registered under this key in the <see cref="ActorRegistry"/>).</summary>
public sealed class DurableRunRegion;

/// <summary>Routes a durable run command to its run's entity; the run id is the entity id.</summary>
public sealed class DurableRunMessageExtractor(int maxNumberOfShards) : HashCodeMessageExtractor(maxNumberOfShards)
{
    /// <inheritdoc/>
    public override string? EntityId(object message) => message switch
    {
        DurableRunCommands.ICommand command => command.RunId,
        _ => null,
    };
}

/// <summary>Registration of durable runs: the shard region with remembered entities, and the <see cref="DurableRuns"/> facade.</summary>
public static class DurableRunsHostingExtensions
{
    /// <summary>The shard region's type name.</summary>
    public const string ShardTypeName = "durable-run";

    /// <summary>
    /// Starts the durable run shard region. Entities are remembered in the journal (<c>remember-entities-store =
    /// eventsourced</c>), so the runs of a node that is lost are started again on the survivors, and a restarted single node
    /// starts its unfinished runs again; finished runs passivate and are forgotten. Idle passivation is off for this region:
    /// a waiting run keeps its (small) actor so its timeout can fire.
    /// </summary>
    public static AkkaConfigurationBuilder WithDurableRuns(this AkkaConfigurationBuilder builder, TtaClusterOptions cluster,
        DurableWorkflowCatalog catalog, DurableRunSettings? settings = null)
    {
        builder.AddStartup(async (system, registry) =>
        {
            // Without settings of their own, the entities record waits and signals under the node's content capture policy.
            var entitySettings = (settings ?? new DurableRunSettings
            {
                Capture = DependencyResolver.For(system).Resolver.GetService<LlmSettings>()?.Capture ?? CapturePolicy.Default,
            }) with { PassivateMessage = new Passivate(PoisonPill.Instance) };
            var region = await ClusterSharding.Get(system).StartAsync(
                ShardTypeName,
                runId => DurableRunActor.Props(runId, catalog, entitySettings),
                ShardingSettings(system),
                new DurableRunMessageExtractor(cluster.NumberOfShards));
            registry.Register<DurableRunRegion>(region);
        });
        return builder;
    }

    /// <summary>The sharding settings of the region: entities remembered, so unfinished runs come back after a restart.</summary>
    public static ClusterShardingSettings ShardingSettings(ActorSystem system)
    {
        var config = ConfigurationFactory.ParseString("""
                remember-entities = on
                remember-entities-store = eventsourced
                passivate-idle-entity-after = off
                """)
            .WithFallback(system.Settings.Config.GetConfig("akka.cluster.sharding"));
        return ClusterShardingSettings.Create(config, system.Settings.Config.GetConfig("akka.cluster.singleton"));
    }

    /// <summary>Registers <see cref="DurableRuns"/> and the catalog the entities find their workflows in.</summary>
    public static IServiceCollection AddDurableRuns(this IServiceCollection services, DurableWorkflowCatalog catalog, TimeSpan? askTimeout = null)
    {
        services.AddSingleton(catalog);
        services.AddSingleton(sp => new DurableRuns(sp.GetRequiredService<ActorSystem>(), sp.GetRequiredService<ActorRegistry>(), askTimeout));
        return services;
    }
}
