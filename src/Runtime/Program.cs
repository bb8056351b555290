using System.CommandLine;
using TtaActors.Runtime.Cli;

var root = new RootCommand("tta: run observable LLM workflows on Akka.NET.");
root.Subcommands.Add(DemoCommand.Create());
return await root.Parse(args).InvokeAsync();
