namespace TtaActors.Runtime.Workflows;

/// <summary>
/// How large a workflow file may be before it is refused (documented in docs/workflow-files.md). A workflow file is
/// read by people and written by hand: the defaults are far above any real file and far below what could exhaust a
/// node. Every limit is checked while the YAML is read event by event, before any tree is built, so a hostile file
/// (an alias bomb, a self-referencing alias, thousands of nested lists) is reported with its line and column and
/// never costs more than the limits allow.
/// </summary>
public sealed record WorkflowFileLimits
{
    /// <summary>The limits every node starts with.</summary>
    public static readonly WorkflowFileLimits Default = new();

    /// <summary>Bytes of one file.</summary>
    public long MaxFileBytes { get; init; } = 1024 * 1024;

    /// <summary>Levels of nested mappings and lists, counting the levels an alias stands for where it is used.</summary>
    public int MaxDepth { get; init; } = 64;

    /// <summary>Nodes (mappings, lists and values) of the file, counting every node an alias stands for each time it is used.</summary>
    public int MaxNodes { get; init; } = 10_000;

    /// <summary>Alias uses (<c>*name</c>) in one file.</summary>
    public int MaxAliases { get; init; } = 100;
}
