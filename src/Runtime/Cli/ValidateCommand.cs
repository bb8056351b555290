using System.CommandLine;
using TtaActors.Actors.Llm;
using TtaActors.Llm.Providers;
using TtaActors.Runtime.Workflows;

namespace TtaActors.Runtime.Cli;

/// <summary>
/// <c>tta validate FILE...</c>: checks workflow files and reports every problem with its line and column. A file is
/// checked the way <c>tta run</c> and a node load it (read, checked, built against this environment's LLM settings),
/// so validate accepts exactly the files they accept.
/// </summary>
public static class ValidateCommand
{
    /// <summary>The <c>tta validate</c> command.</summary>
    public static Command Create()
    {
        var files = new Argument<string[]>("files") { Description = "Workflow files to check (YAML or JSON).", Arity = ArgumentArity.OneOrMore };
        var command = new Command("validate", "Check workflow files against the schema; every problem is reported as FILE:LINE:COLUMN: message.")
        {
            files,
        };
        command.SetAction(parse => Validate(parse.GetValue(files)!));
        return command;
    }

    /// <summary>Checks each workflow file and prints its problems as <c>FILE:LINE:COLUMN</c>; returns the exit code.</summary>
    public static int Validate(IReadOnlyList<string> files)
    {
        LlmSettings settings;
        try
        {
            settings = LlmProviders.FromEnvironment();
        }
        catch (LlmConfigurationException error)
        {
            Console.Error.WriteLine($"tta: {error.Message}");
            return CommandErrors.Failure;
        }
        using (settings)
        using (var http = new HttpClient())
        {
            var services = new WorkflowStepServices(http, Environment.GetEnvironmentVariable,
                (_, name) => throw new InvalidOperationException($"tta validate builds workflow '{name}' but never runs it."),
                new LlmFileSteps(settings));
            // Names the node and tta run already hold, so a file that would clash there is refused here too.
            var names = new Dictionary<string, string>(StringComparer.Ordinal) { [Demo.DemoWorkflow.Name] = WorkflowRegistry.CodeSource };
            var problems = 0;
            foreach (var file in files)
            {
                IReadOnlyList<WorkflowProblem> found;
                WorkflowDocument? document = null;
                try
                {
                    (document, _) = WorkflowFileBuilder.Load(file, services);
                    found = names.TryGetValue(document.Name, out var existing)
                        ? [WorkflowRegistry.AlreadyRegistered(file, document.Name, existing)]
                        : [];
                    names.TryAdd(document.Name, Path.GetFullPath(file));
                }
                catch (WorkflowFileException invalid)
                {
                    found = invalid.Problems;
                }
                foreach (var problem in found) Console.WriteLine($"{problem.At}: error: {problem.Message}");
                problems += found.Count;
                if (document is not null && found.Count == 0)
                    Console.WriteLine($"{file}: ok (workflow '{document.Name}', {CountSteps(document.Root)} steps)");
            }
            if (problems > 0) Console.WriteLine($"{problems} problem(s) in {files.Count} file(s).");
            return problems == 0 ? CommandErrors.Success : CommandErrors.Failure;
        }
    }

    private static int CountSteps(StepSpec step) => step switch
    {
        SequenceSpec s => s.Steps.Sum(CountSteps),
        ParallelSpec p => 1 + p.Branches.Sum(CountSteps),
        RouterSpec r => 1 + r.Routes.Sum(route => CountSteps(route.Value)),
        RetrySpec r => 1 + CountSteps(r.Do),
        FallbackSpec f => 1 + CountSteps(f.Do) + CountSteps(f.Otherwise),
        TimeoutSpec t => 1 + CountSteps(t.Do) + (t.Otherwise is null ? 0 : CountSteps(t.Otherwise)),
        _ => 1,
    };
}
