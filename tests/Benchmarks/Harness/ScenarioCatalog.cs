using TtaActors.Benchmarks.Scenarios;

namespace TtaActors.Benchmarks.Harness;

/// <summary>Every scenario, in the order a full run measures them. A new scenario is one class and one line here.</summary>
public static class ScenarioCatalog
{
    public static IReadOnlyList<IScenario> All { get; } =
    [
        new Seq10Scenario(),
        new Seq10DurableScenario(),
        new Fanout100Scenario(),
        new RetryScenario(),
        new TelemetryScenario(soak: false),
        new TelemetryScenario(soak: true),
        new SessionsScenario(liveSessions: 10_000),
        new SessionsScenario(liveSessions: 100_000),
        new ClusterScenario(),
        new ClusterScenario(failoverOnly: true),
    ];
}
