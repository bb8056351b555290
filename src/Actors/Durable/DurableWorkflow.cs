using System.Security.Cryptography;
using System.Text;
using TtaActors.Actors.Context;
using TtaActors.Actors.Execution;
using TtaActors.Actors.Primitives;

namespace TtaActors.Actors.Durable;

/// <summary>Whether a workflow's runs are kept in memory only or journaled step by step.</summary>
public enum WorkflowDurability
{
    /// <summary>The default: the run lives in memory; a crash of its process loses it. The fast path.</summary>
    None,

    /// <summary>
    /// The run is a persistent, sharded entity keyed by run id: its start, each top-level step's completion, waits,
    /// signals and outcome are journaled, and it resumes on a surviving node from the first step not completed.
    /// </summary>
    Steps,
}

/// <summary>One top-level step of a durable workflow: run through its own graph, or a wait for a signal.</summary>
public sealed record DurableStep(int Index, string Path, string Name, WorkflowGraph? Graph, WaitForSignalPrimitive? Wait,
    WorkflowGraph? TimeoutGraph)
{
    /// <summary>True for a wait for a signal.</summary>
    public bool IsWait => Wait is not null;

    /// <summary>What spans, events and idempotency keys call it: <c>{index}:{name}</c>, stable while the definition is.</summary>
    public static string PathOf(int index, string name) => $"{index}:{name}";
}

/// <summary>
/// A workflow as durable runs execute it: its top-level steps (the steps of its root Sequential, or the root alone), each
/// one a unit that is journaled when it completes, and the hash of the definition a resumed run must still match.
/// </summary>
public sealed class DurableWorkflowDefinition
{
    private DurableWorkflowDefinition(string name, string hash, IReadOnlyList<DurableStep> steps)
    {
        Name = name;
        Hash = hash;
        Steps = steps;
    }

    /// <summary>The workflow's name.</summary>
    public string Name { get; }

    /// <summary>SHA-256 (hex) of the definition: the file's text, or the primitive tree of a code workflow.</summary>
    public string Hash { get; }

    /// <summary>The top-level steps, in order.</summary>
    public IReadOnlyList<DurableStep> Steps { get; }

    /// <summary>
    /// Splits <paramref name="root"/> into its top-level steps and materialises each one (and each wait's timeout branch)
    /// with <paramref name="materialize"/>; waits nested deeper than the top level are refused, since only top-level
    /// steps are journaled.
    /// </summary>
    /// <param name="hash">The definition's hash; null hashes the primitive tree (<see cref="TreeHash"/>).</param>
    /// <param name="name">The workflow's name.</param>
    /// <param name="root">The workflow tree.</param>
    /// <param name="materialize">Materialises one step (its primitive and its name) into a graph.</param>
    /// <exception cref="ArgumentException">A wait is nested below the top level.</exception>
    public static DurableWorkflowDefinition Create(string name, Primitive root, Func<Primitive, string, WorkflowGraph> materialize,
        string? hash = null)
    {
        ArgumentNullException.ThrowIfNull(root);
        IReadOnlyList<Primitive> parts = root is SequentialPrimitive sequence ? sequence.Steps : [root];
        foreach (var part in parts)
        {
            if (Nested(part).OfType<WaitForSignalPrimitive>().FirstOrDefault() is { } nested)
                throw new ArgumentException(
                    $"Wait '{nested.DisplayName}' of durable workflow '{name}' is nested inside '{part.DisplayName}'; waits for a signal must be " +
                    "top-level steps of the workflow (the steps of its root sequence), where the run is journaled.");
        }
        var steps = new List<DurableStep>(parts.Count);
        for (var i = 0; i < parts.Count; i++)
        {
            var part = parts[i];
            var path = DurableStep.PathOf(i, part.DisplayName);
            steps.Add(part is WaitForSignalPrimitive wait
                ? new DurableStep(i, path, part.DisplayName, null, wait,
                    wait.OnTimeout is { } branch ? materialize(branch, $"{name}.{i}.on-timeout") : null)
                : new DurableStep(i, path, part.DisplayName, materialize(part, $"{name}.{i}"), null, null));
        }
        return new DurableWorkflowDefinition(name, hash ?? TreeHash(root), steps);
    }

    /// <summary>SHA-256 (hex) of a text such as a workflow file.</summary>
    public static string TextHash(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    /// <summary>
    /// SHA-256 of the primitive tree's shape (types and names, in order): code cannot be hashed, so a change inside a
    /// lambda keeps the hash; rename the step (or give <c>definitionVersion</c>) to mark such a change.
    /// </summary>
    public static string TreeHash(Primitive root)
    {
        var text = new StringBuilder();
        Describe(root, text, 0);
        return TextHash(text.ToString());
    }

    private static void Describe(Primitive primitive, StringBuilder text, int depth)
    {
        text.Append(' ', depth).Append(primitive.TypeName).Append(':').Append(primitive.Name).Append('\n');
        if (primitive is WaitForSignalPrimitive wait) text.Append(' ', depth + 1).Append(string.Join(",", wait.Signals)).Append('\n');
        foreach (var child in primitive.Children) Describe(child, text, depth + 1);
    }

    private static IEnumerable<Primitive> Nested(Primitive primitive) => primitive.Children.SelectMany(c => Nested(c).Prepend(c));
}

/// <summary>Finds the durable definition of a workflow by name on this node.</summary>
public interface IDurableWorkflowCatalog
{
    /// <summary>False while the node is still loading its workflows: recovered runs wait, starts are refused.</summary>
    bool Ready { get; }

    /// <summary>The definition of <paramref name="workflow"/>; null when the node has none of that name.</summary>
    DurableWorkflowDefinition? Find(string workflow);
}

/// <summary>Keys a durable run puts into the context of each step.</summary>
public static class DurableRunContext
{
    /// <summary>Metadata key of the step's idempotency key, <c>{runId}:{step path}:{attempt}</c>.</summary>
    public const string IdempotencyKeyMetadata = "tta.idempotency_key";

    /// <summary>The idempotency key of the step running in this context; null outside durable runs.</summary>
    public static string? IdempotencyKey(this WorkflowContext context) => context.Metadata.GetValueOrDefault(IdempotencyKeyMetadata);

    /// <summary>The idempotency key of one attempt of one step: <c>{runId}:{stepPath}:{attempt}</c>.</summary>
    public static string KeyOf(string runId, string stepPath, int attempt) => $"{runId}:{stepPath}:{attempt}";
}
