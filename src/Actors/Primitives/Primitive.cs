using Akka.Actor;
using TtaActors.Actors.Execution;

namespace TtaActors.Actors.Primitives;

/// <summary>
/// An immutable node of a workflow definition. A definition is materialised once into long-lived actors
/// (<see cref="WorkflowGraph"/>); runs then flow through those actors as envelopes.
/// </summary>
/// <remarks><c>a &gt;&gt; b</c> builds a Sequential and <c>a | b</c> a Parallel, flattening unnamed chains.</remarks>
public abstract class Primitive
{
    /// <param name="name">The user's name for the primitive; null uses the type name.</param>
    /// <exception cref="ArgumentException"><paramref name="name"/> is blank.</exception>
    protected Primitive(string? name)
    {
        if (name is not null && string.IsNullOrWhiteSpace(name))
            throw new ArgumentException("A primitive name must not be blank.", nameof(name));
        Name = name;
    }

    /// <summary>The name the user gave this primitive, if any.</summary>
    public string? Name { get; }

    /// <summary>The primitive's type as it appears in span names and metric labels, e.g. <c>SequentialPrimitive</c>.</summary>
    public abstract string TypeName { get; }

    /// <summary>The name spans and metrics use: the user's name, else the type name.</summary>
    public string DisplayName => Name ?? TypeName;

    /// <summary>The primitives nested directly inside this one.</summary>
    public abstract IReadOnlyList<Primitive> Children { get; }

    /// <summary>
    /// The step function of a leaf that a composite may run inside its own turn instead of sending it a message
    /// (<see cref="WorkflowGraphOptions.InlineLeafSteps"/>); null for a primitive that needs its own actor.
    /// </summary>
    internal virtual StepFunction? InlineStep => null;

    /// <summary>
    /// Whether the primitive's actor keeps state shared by all runs (a breaker's state, a cache), so the graph must not be
    /// materialised more than once (<see cref="WorkflowGraphOptions.RootInstances"/>).
    /// </summary>
    internal virtual bool SharesStateAcrossRuns => false;

    /// <summary>Whether <c>&gt;&gt;</c> and <c>|</c> splice this composite's parts into the chain they build.</summary>
    // A named composite is a unit the user wants to see in traces, so only unnamed ones are flattened.
    internal virtual bool Flattens => Name is null;

    /// <summary>The props of the actor that executes this primitive at <paramref name="node"/>.</summary>
    internal abstract Props CreateProps(PrimitiveNode node);

    /// <summary>A Sequential of <paramref name="first"/> then <paramref name="second"/>; unnamed Sequentials on either side are spliced in.</summary>
    public static SequentialPrimitive operator >>(Primitive first, Primitive second) =>
        new(Flatten<SequentialPrimitive>(first, s => s.Steps).Concat(Flatten<SequentialPrimitive>(second, s => s.Steps)));

    /// <summary>A Parallel of <paramref name="first"/> and <paramref name="second"/>; unnamed Parallels on either side are spliced in.</summary>
    public static ParallelPrimitive operator |(Primitive first, Primitive second) =>
        new(Flatten<ParallelPrimitive>(first, p => p.Branches).Concat(Flatten<ParallelPrimitive>(second, p => p.Branches)));

    /// <summary>Fluent form of <c>this &gt;&gt; next</c>.</summary>
    public SequentialPrimitive Then(Primitive next) => this >> next;

    /// <summary>Fluent form of <c>this | other</c>.</summary>
    public ParallelPrimitive Alongside(Primitive other) => this | other;

    /// <summary>The <see cref="DisplayName"/>.</summary>
    public override string ToString() => DisplayName;

    private static IEnumerable<Primitive> Flatten<T>(Primitive primitive, Func<T, IReadOnlyList<Primitive>> parts)
        where T : Primitive =>
        primitive is T composite && composite.Flattens ? parts(composite) : [primitive];
}
