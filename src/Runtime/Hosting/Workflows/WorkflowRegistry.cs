using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using TtaActors.Actors.Durable;
using TtaActors.Actors.Execution;
using TtaActors.Actors.Primitives;

namespace TtaActors.Runtime.Workflows;

/// <summary>A workflow a node can run: materialised once, run through its graph like any other.</summary>
public sealed record RegisteredWorkflow(string Name, string Source, string? Description, WorkflowGraph Graph, Func<JsonNode?, object?> AdaptInput)
{
    /// <summary>The workflow's top-level steps as durable runs execute them; null for in-memory workflows (durability none).</summary>
    public DurableWorkflowDefinition? Durable { get; init; }
}

/// <summary>A workflow as <c>GET /workflows</c> lists it; an invalid file shows its problems.</summary>
public sealed record WorkflowSummary(string Name, string Source, string? Description, bool Valid, IReadOnlyList<WorkflowProblem> Problems);

/// <summary>
/// The one registry of a node's workflows, code-registered and loaded from files alike: both are primitive
/// definitions materialised into a <see cref="WorkflowGraph"/>, and both are run the same way.
/// </summary>
public sealed class WorkflowRegistry(WorkflowStepServices services)
{
    /// <summary>The source of workflows registered in code (files show their path).</summary>
    public const string CodeSource = "code";

    private readonly ConcurrentDictionary<string, RegisteredWorkflow> _workflows = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, WorkflowSummary> _invalid = new(StringComparer.Ordinal);

    /// <summary>Registers a workflow built in code; <paramref name="adaptInput"/> turns the JSON input of the API into what its first step takes.</summary>
    /// <param name="durability">
    /// <see cref="WorkflowDurability.Steps"/> makes every run a journaled, resumable entity (needs a node: cluster sharding
    /// and a journal); <paramref name="definitionVersion"/> then names the definition's version (default: the hash of the
    /// primitive tree), which a resumed run must still match.
    /// </param>
    /// <param name="name">The workflow's name; unique on the node.</param>
    /// <param name="definition">The workflow tree.</param>
    /// <param name="description">Shown by <c>GET /workflows</c>.</param>
    /// <param name="adaptInput">Turns the API's JSON input into what the first step takes; by default the JSON itself.</param>
    /// <param name="definitionVersion">The definition's version for durable runs; the primitive tree's hash when null.</param>
    /// <exception cref="InvalidOperationException">A workflow of that name is registered already.</exception>
    public RegisteredWorkflow Register(string name, Primitive definition, Func<JsonNode?, object?>? adaptInput = null, string? description = null,
        WorkflowDurability durability = WorkflowDurability.None, string? definitionVersion = null)
    {
        if (_workflows.ContainsKey(name)) throw new InvalidOperationException($"A workflow named '{name}' is already registered.");
        var workflow = new RegisteredWorkflow(name, CodeSource, description, services.Materialize(definition, name), adaptInput ?? (input => input))
        {
            Durable = durability == WorkflowDurability.Steps
                ? DurableWorkflowDefinition.Create(name, definition, services.Materialize,
                    definitionVersion is null ? null : DurableWorkflowDefinition.TextHash(definitionVersion))
                : null,
        };
        _workflows[name] = workflow;
        return workflow;
    }

    /// <summary>Loads one workflow file; a file that cannot be used throws <see cref="WorkflowFileException"/> with every problem.</summary>
    public RegisteredWorkflow LoadFile(string path)
    {
        var full = Path.GetFullPath(path);
        var (document, root) = WorkflowFileBuilder.Load(full, services);
        if (_workflows.TryGetValue(document.Name, out var existing))
            throw new WorkflowFileException(full, [AlreadyRegistered(full, document.Name, existing.Source)]);
        WorkflowGraph graph;
        try
        {
            graph = services.Materialize(root, document.Name);
        }
        catch (Exception error) when (error is ArgumentException or InvalidOperationException or Akka.Actor.InvalidActorNameException)
        {
            throw new WorkflowFileException(full, [new WorkflowProblem(new SourceLocation(full, 1, 1), $"The workflow cannot be started: {error.Message}")]);
        }
        var workflow = new RegisteredWorkflow(document.Name, full, document.Description, graph, input => input)
        {
            Durable = DurableFileSteps.Definition(document, root, services, full),
        };
        _workflows[document.Name] = workflow;
        _invalid.TryRemove(full, out _);
        return workflow;
    }

    /// <summary>
    /// Loads every <c>*.yaml</c>, <c>*.yml</c> and <c>*.json</c> file of a directory. A file with problems is kept
    /// as invalid (listed with its problems) and the others are loaded: one bad file does not take a node down.
    /// </summary>
    public IReadOnlyList<WorkflowSummary> LoadDirectory(string directory)
    {
        if (!Directory.Exists(directory)) throw new DirectoryNotFoundException($"Workflow directory '{directory}' does not exist.");
        var results = new List<WorkflowSummary>();
        foreach (var file in Directory.EnumerateFiles(directory).Where(IsWorkflowFile).Order(StringComparer.Ordinal))
        {
            try
            {
                var workflow = LoadFile(file);
                results.Add(Summary(workflow));
            }
            catch (WorkflowFileException error)
            {
                var invalid = new WorkflowSummary(Path.GetFileNameWithoutExtension(file), error.File, null, false, error.Problems);
                _invalid[error.File] = invalid;
                results.Add(invalid);
            }
        }
        return results;
    }

    /// <summary>Stops the graph of every registered workflow: their runs in flight fail, later runs of them fail at once.</summary>
    public Task StopAllAsync(CancellationToken cancellation = default) =>
        Task.WhenAll(_workflows.Values.Select(workflow => workflow.Graph.StopAsync(cancellation)));

    /// <summary>Finds a registered workflow by name.</summary>
    public bool TryGet(string name, out RegisteredWorkflow workflow) => _workflows.TryGetValue(name, out workflow!);

    /// <summary>An invalid file whose workflow name is <paramref name="name"/>, so a run of it can say why it is missing.</summary>
    public WorkflowSummary? FindInvalid(string name) => _invalid.Values.FirstOrDefault(w => w.Name == name);

    /// <summary>Every workflow, registered and invalid, by name.</summary>
    public IReadOnlyList<WorkflowSummary> List() =>
        _workflows.Values.Select(Summary).Concat(_invalid.Values).OrderBy(w => w.Name, StringComparer.Ordinal).ToList();

    /// <summary>The problem of a second workflow of the same name; <c>tta validate</c> reports it the same way.</summary>
    public static WorkflowProblem AlreadyRegistered(string file, string name, string existingSource) =>
        new(new SourceLocation(file, 1, 1), $"Workflow '{name}' is already registered from {existingSource}; give this one another name.");

    /// <summary>True for a <c>.yaml</c>, <c>.yml</c> or <c>.json</c> file.</summary>
    public static bool IsWorkflowFile(string path) =>
        Path.GetExtension(path).ToLowerInvariant() is ".yaml" or ".yml" or ".json";

    private static WorkflowSummary Summary(RegisteredWorkflow workflow) =>
        new(workflow.Name, workflow.Source, workflow.Description, true, []);
}
