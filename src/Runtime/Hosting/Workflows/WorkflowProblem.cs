namespace TtaActors.Runtime.Workflows;

/// <summary>A place in a workflow file: 1-based line and column, as editors show them.</summary>
public readonly record struct SourceLocation(string File, int Line, int Column)
{
    public override string ToString() => $"{File}:{Line}:{Column}";
}

/// <summary>One problem found in a workflow file, with where it is.</summary>
public sealed record WorkflowProblem(SourceLocation At, string Message)
{
    public override string ToString() => $"{At}: {Message}";
}

/// <summary>A workflow file that cannot be used; <see cref="Problems"/> lists every problem found, not only the first.</summary>
public sealed class WorkflowFileException(string file, IReadOnlyList<WorkflowProblem> problems)
    : Exception($"Workflow file '{file}' has {problems.Count} problem(s):{Environment.NewLine}" +
                string.Join(Environment.NewLine, problems.Select(p => "  " + p)))
{
    public string File { get; } = file;
    public IReadOnlyList<WorkflowProblem> Problems { get; } = problems;
}
