using System.CommandLine;
using TtaActors.Runtime.Workflows;

namespace TtaActors.Runtime.Cli;

/// <summary><c>tta validate FILE...</c>: checks workflow files and reports every problem with its line and column.</summary>
public static class ValidateCommand
{
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

    public static int Validate(IReadOnlyList<string> files)
    {
        var problems = 0;
        foreach (var file in files)
        {
            var (document, found) = WorkflowFileParser.ParseFile(file);
            foreach (var problem in found) Console.WriteLine($"{problem.At}: error: {problem.Message}");
            problems += found.Count;
            if (document is not null) Console.WriteLine($"{file}: ok (workflow '{document.Name}', {CountSteps(document.Root)} steps)");
        }
        if (problems > 0) Console.WriteLine($"{problems} problem(s) in {files.Count} file(s).");
        return problems == 0 ? CommandErrors.Success : CommandErrors.Failure;
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
