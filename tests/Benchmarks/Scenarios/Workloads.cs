using TtaActors.Actors.Context;

namespace TtaActors.Benchmarks.Scenarios;

/// <summary>Inputs and checks shared by the scenarios.</summary>
internal static class Workloads
{
    /// <summary>The concurrency levels of the headline targets: one caller, and 64 callers in flight.</summary>
    public static readonly int[] CallerCounts = [1, 64];

    public const string ServiceName = "tta-bench";

    /// <summary>A run's context as a caller builds it: fresh ids, a persona and a workspace on every span and metric.</summary>
    public static WorkflowContext NewContext() =>
        WorkflowContext.Create(persona: "backend-engineer", chatMode: "feature-implementation", workspace: ServiceName);

    public static void Expect<T>(string impl, T actual, T expected)
    {
        if (!EqualityComparer<T>.Default.Equals(actual, expected))
            throw new InvalidOperationException($"{impl} answered {actual} instead of {expected}: the workload is broken, its figures would be meaningless.");
    }
}
