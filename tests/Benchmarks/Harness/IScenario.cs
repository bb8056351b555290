namespace TtaActors.Benchmarks.Harness;

/// <summary>
/// One benchmark scenario: it builds its workloads (TtaActors and every peer with an equivalent), measures each
/// through <see cref="BenchmarkSession.MeasureAsync"/>, and reports derived figures with
/// <see cref="BenchmarkSession.Note"/>. Register it in <see cref="ScenarioCatalog"/>.
/// </summary>
public interface IScenario
{
    /// <summary>The name given to <c>--scenario</c> and written in the JSON lines.</summary>
    string Name { get; }

    /// <summary>One line for <c>--list</c>.</summary>
    string Description { get; }

    /// <summary>
    /// Slow scenarios (node processes, 100,000 entities, a soak) run only when named with <c>--scenario</c>, so the
    /// default run stays short.
    /// </summary>
    bool OptIn => false;

    Task RunAsync(BenchmarkSession session);
}
