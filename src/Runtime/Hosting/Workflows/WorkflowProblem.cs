namespace TtaActors.Runtime.Workflows;

/// <summary>A place in a workflow file: 1-based line and column, as editors show them.</summary>
public readonly record struct SourceLocation(string File, int Line, int Column)
{
    /// <summary><c>FILE:LINE:COLUMN</c>.</summary>
    public override string ToString() => $"{File}:{Line}:{Column}";
}

/// <summary>One problem found in a workflow file, with where it is.</summary>
public sealed record WorkflowProblem(SourceLocation At, string Message)
{
    /// <summary><c>FILE:LINE:COLUMN: message</c>.</summary>
    public override string ToString() => $"{At}: {Message}";
}

/// <summary>A workflow file that cannot be used; <see cref="Problems"/> lists every problem found, not only the first.</summary>
public sealed class WorkflowFileException(string file, IReadOnlyList<WorkflowProblem> problems)
    : Exception($"Workflow file '{file}' has {problems.Count} problem(s):{Environment.NewLine}" +
                string.Join(Environment.NewLine, problems.Select(p => "  " + p)))
{
    /// <summary>The file.</summary>
    public string File { get; } = file;
    /// <summary>Every problem found, in file order.</summary>
    public IReadOnlyList<WorkflowProblem> Problems { get; } = problems;
}
