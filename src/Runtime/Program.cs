using System.CommandLine;
using TtaActors.Runtime.Cli;

var root = new RootCommand("tta: run observable LLM workflows on Akka.NET.");
root.Subcommands.Add(DemoCommand.Create());
root.Subcommands.Add(RunCommand.Create());
root.Subcommands.Add(NodeCommand.Create());
root.Subcommands.Add(ValidateCommand.Create());
root.Subcommands.Add(SessionsCommand.Create());
root.Subcommands.Add(RunsCommand.Create());
root.Subcommands.Add(VersionCommand.Create());

var parse = root.Parse(args);
if (parse.Errors.Count > 0)
{
    foreach (var error in parse.Errors) Console.Error.WriteLine($"tta: {error.Message}");
    Console.Error.WriteLine("Run 'tta --help' (or 'tta COMMAND --help') for usage.");
    return CommandErrors.Usage;
}
// The hosts handle SIGTERM and Ctrl+C themselves (a node stops cleanly and flushes telemetry), so the parser must not.
return await parse.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null });
