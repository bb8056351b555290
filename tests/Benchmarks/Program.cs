using System.Diagnostics;
using System.Runtime;
using TtaActors.Benchmarks.Harness;

BenchmarkOptions options;
try
{
    options = BenchmarkOptions.Parse(args);
}
catch (ArgumentException error)
{
    Console.Error.WriteLine(error.Message);
    return 2;
}

if (options.List)
{
    foreach (var scenario in ScenarioCatalog.All)
        Console.WriteLine($"{scenario.Name,-15} {(scenario.OptIn ? "(opt-in) " : "")}{scenario.Description}");
    return 0;
}

var unknown = options.Scenarios.Where(name => ScenarioCatalog.All.All(s => s.Name != name)).ToList();
if (unknown.Count > 0)
{
    Console.Error.WriteLine($"Unknown scenario(s): {string.Join(", ", unknown)}. Known: {string.Join(", ", ScenarioCatalog.All.Select(s => s.Name))}.");
    return 2;
}
var selected = options.Scenarios.Count == 0
    ? ScenarioCatalog.All.Where(s => !s.OptIn).ToList()
    : ScenarioCatalog.All.Where(s => options.Scenarios.Contains(s.Name)).ToList();

#if DEBUG
Console.Error.WriteLine("warning: this is a Debug build; run with -c Release for meaningful figures.");
#endif
Console.Error.WriteLine(
    $"TtaActors benchmarks: {Environment.ProcessorCount} cores, .NET {Environment.Version}, " +
    $"{(GCSettings.IsServerGC ? "server" : "workstation")} GC, {options.WarmupSeconds}s warm-up + {options.Seconds}s per measurement");

var total = Stopwatch.StartNew();
await using (var session = new BenchmarkSession(options))
{
    foreach (var scenario in selected)
    {
        Console.Error.WriteLine($"{scenario.Name}: {scenario.Description}");
        await scenario.RunAsync(session);
    }
    if (!options.JsonOnly)
    {
        Console.Out.WriteLine();
        Console.Out.Write(ReportTable.Render(session.Measurements, session.Notes));
    }
}
Console.Error.WriteLine($"done in {total.Elapsed.TotalSeconds:0} s");
return 0;
