using TtaActors.Actors.Primitives;

namespace TtaActors.Actors.Typed;

// Parallel of 2..7 branches answering a tuple or a record, and of n branches of one type answering a list. The branches are
// the branches of one ParallelPrimitive (same actors, same spans as the untyped `|`); only its answer is shaped here.
public static partial class Step
{
    /// <summary>Runs 2 branches side by side on the same input and answers their outputs as a tuple, in branch order.</summary>
    /// <remarks>The first failing branch fails the whole; the other branches' answers are discarded.</remarks>
    /// <param name="first">The first branch.</param>
    /// <param name="second">The second branch.</param>
    /// <param name="name">The Parallel's name in spans and metrics; by default its type name.</param>
    /// <typeparam name="TIn">What every branch is given.</typeparam>
    /// <typeparam name="T1">What the first branch answers.</typeparam>
    /// <typeparam name="T2">What the second branch answers.</typeparam>
    public static Step<TIn, (T1, T2)> Parallel<TIn, T1, T2>(Step<TIn, T1> first, Step<TIn, T2> second, string? name = null) =>
        TupleParallel<TIn, (T1, T2)>(Branches(first, second), static o => (Payload.Branch<T1>(o, 0), Payload.Branch<T2>(o, 1)), name);

    /// <summary>Runs 2 branches side by side on the same input and answers what <paramref name="combine"/> makes of their outputs.</summary>
    /// <remarks>The first failing branch fails the whole; <paramref name="combine"/> runs once all branches answered.</remarks>
    /// <param name="first">The first branch.</param>
    /// <param name="second">The second branch.</param>
    /// <param name="combine">Builds the answer (a record, say) from the branches' outputs in branch order.</param>
    /// <param name="name">The Parallel's name in spans and metrics; by default its type name.</param>
    /// <typeparam name="TIn">What every branch is given.</typeparam>
    /// <typeparam name="T1">What the first branch answers.</typeparam>
    /// <typeparam name="T2">What the second branch answers.</typeparam>
    /// <typeparam name="TOut">What the Parallel answers.</typeparam>
    public static Step<TIn, TOut> Parallel<TIn, T1, T2, TOut>(Step<TIn, T1> first, Step<TIn, T2> second, Func<T1, T2, TOut> combine, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(combine);
        return new(new ParallelPrimitive(Branches(first, second), o => combine(Payload.Branch<T1>(o, 0), Payload.Branch<T2>(o, 1)), name));
    }

    /// <summary>Runs 3 branches side by side on the same input and answers their outputs as a tuple, in branch order.</summary>
    /// <remarks>The first failing branch fails the whole; the other branches' answers are discarded.</remarks>
    /// <param name="first">The first branch.</param>
    /// <param name="second">The second branch.</param>
    /// <param name="third">The third branch.</param>
    /// <param name="name">The Parallel's name in spans and metrics; by default its type name.</param>
    /// <typeparam name="TIn">What every branch is given.</typeparam>
    /// <typeparam name="T1">What the first branch answers.</typeparam>
    /// <typeparam name="T2">What the second branch answers.</typeparam>
    /// <typeparam name="T3">What the third branch answers.</typeparam>
    public static Step<TIn, (T1, T2, T3)> Parallel<TIn, T1, T2, T3>(Step<TIn, T1> first, Step<TIn, T2> second, Step<TIn, T3> third, string? name = null) =>
        TupleParallel<TIn, (T1, T2, T3)>(Branches(first, second, third), static o => (Payload.Branch<T1>(o, 0), Payload.Branch<T2>(o, 1), Payload.Branch<T3>(o, 2)), name);

    /// <summary>Runs 3 branches side by side on the same input and answers what <paramref name="combine"/> makes of their outputs.</summary>
    /// <remarks>The first failing branch fails the whole; <paramref name="combine"/> runs once all branches answered.</remarks>
    /// <param name="first">The first branch.</param>
    /// <param name="second">The second branch.</param>
    /// <param name="third">The third branch.</param>
    /// <param name="combine">Builds the answer (a record, say) from the branches' outputs in branch order.</param>
    /// <param name="name">The Parallel's name in spans and metrics; by default its type name.</param>
    /// <typeparam name="TIn">What every branch is given.</typeparam>
    /// <typeparam name="T1">What the first branch answers.</typeparam>
    /// <typeparam name="T2">What the second branch answers.</typeparam>
    /// <typeparam name="T3">What the third branch answers.</typeparam>
    /// <typeparam name="TOut">What the Parallel answers.</typeparam>
    public static Step<TIn, TOut> Parallel<TIn, T1, T2, T3, TOut>(Step<TIn, T1> first, Step<TIn, T2> second, Step<TIn, T3> third, Func<T1, T2, T3, TOut> combine, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(combine);
        return new(new ParallelPrimitive(Branches(first, second, third), o => combine(Payload.Branch<T1>(o, 0), Payload.Branch<T2>(o, 1), Payload.Branch<T3>(o, 2)), name));
    }

    /// <summary>Runs 4 branches side by side on the same input and answers their outputs as a tuple, in branch order.</summary>
    /// <remarks>The first failing branch fails the whole; the other branches' answers are discarded.</remarks>
    /// <param name="first">The first branch.</param>
    /// <param name="second">The second branch.</param>
    /// <param name="third">The third branch.</param>
    /// <param name="fourth">The fourth branch.</param>
    /// <param name="name">The Parallel's name in spans and metrics; by default its type name.</param>
    /// <typeparam name="TIn">What every branch is given.</typeparam>
    /// <typeparam name="T1">What the first branch answers.</typeparam>
    /// <typeparam name="T2">What the second branch answers.</typeparam>
    /// <typeparam name="T3">What the third branch answers.</typeparam>
    /// <typeparam name="T4">What the fourth branch answers.</typeparam>
    public static Step<TIn, (T1, T2, T3, T4)> Parallel<TIn, T1, T2, T3, T4>(Step<TIn, T1> first, Step<TIn, T2> second, Step<TIn, T3> third, Step<TIn, T4> fourth, string? name = null) =>
        TupleParallel<TIn, (T1, T2, T3, T4)>(Branches(first, second, third, fourth), static o => (Payload.Branch<T1>(o, 0), Payload.Branch<T2>(o, 1), Payload.Branch<T3>(o, 2), Payload.Branch<T4>(o, 3)), name);

    /// <summary>Runs 4 branches side by side on the same input and answers what <paramref name="combine"/> makes of their outputs.</summary>
    /// <remarks>The first failing branch fails the whole; <paramref name="combine"/> runs once all branches answered.</remarks>
    /// <param name="first">The first branch.</param>
    /// <param name="second">The second branch.</param>
    /// <param name="third">The third branch.</param>
    /// <param name="fourth">The fourth branch.</param>
    /// <param name="combine">Builds the answer (a record, say) from the branches' outputs in branch order.</param>
    /// <param name="name">The Parallel's name in spans and metrics; by default its type name.</param>
    /// <typeparam name="TIn">What every branch is given.</typeparam>
    /// <typeparam name="T1">What the first branch answers.</typeparam>
    /// <typeparam name="T2">What the second branch answers.</typeparam>
    /// <typeparam name="T3">What the third branch answers.</typeparam>
    /// <typeparam name="T4">What the fourth branch answers.</typeparam>
    /// <typeparam name="TOut">What the Parallel answers.</typeparam>
    public static Step<TIn, TOut> Parallel<TIn, T1, T2, T3, T4, TOut>(Step<TIn, T1> first, Step<TIn, T2> second, Step<TIn, T3> third, Step<TIn, T4> fourth, Func<T1, T2, T3, T4, TOut> combine, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(combine);
        return new(new ParallelPrimitive(Branches(first, second, third, fourth), o => combine(Payload.Branch<T1>(o, 0), Payload.Branch<T2>(o, 1), Payload.Branch<T3>(o, 2), Payload.Branch<T4>(o, 3)), name));
    }

    /// <summary>Runs 5 branches side by side on the same input and answers their outputs as a tuple, in branch order.</summary>
    /// <remarks>The first failing branch fails the whole; the other branches' answers are discarded.</remarks>
    /// <param name="first">The first branch.</param>
    /// <param name="second">The second branch.</param>
    /// <param name="third">The third branch.</param>
    /// <param name="fourth">The fourth branch.</param>
    /// <param name="fifth">The fifth branch.</param>
    /// <param name="name">The Parallel's name in spans and metrics; by default its type name.</param>
    /// <typeparam name="TIn">What every branch is given.</typeparam>
    /// <typeparam name="T1">What the first branch answers.</typeparam>
    /// <typeparam name="T2">What the second branch answers.</typeparam>
    /// <typeparam name="T3">What the third branch answers.</typeparam>
    /// <typeparam name="T4">What the fourth branch answers.</typeparam>
    /// <typeparam name="T5">What the fifth branch answers.</typeparam>
    public static Step<TIn, (T1, T2, T3, T4, T5)> Parallel<TIn, T1, T2, T3, T4, T5>(Step<TIn, T1> first, Step<TIn, T2> second, Step<TIn, T3> third, Step<TIn, T4> fourth, Step<TIn, T5> fifth, string? name = null) =>
        TupleParallel<TIn, (T1, T2, T3, T4, T5)>(Branches(first, second, third, fourth, fifth), static o => (Payload.Branch<T1>(o, 0), Payload.Branch<T2>(o, 1), Payload.Branch<T3>(o, 2), Payload.Branch<T4>(o, 3), Payload.Branch<T5>(o, 4)), name);

    /// <summary>Runs 5 branches side by side on the same input and answers what <paramref name="combine"/> makes of their outputs.</summary>
    /// <remarks>The first failing branch fails the whole; <paramref name="combine"/> runs once all branches answered.</remarks>
    /// <param name="first">The first branch.</param>
    /// <param name="second">The second branch.</param>
    /// <param name="third">The third branch.</param>
    /// <param name="fourth">The fourth branch.</param>
    /// <param name="fifth">The fifth branch.</param>
    /// <param name="combine">Builds the answer (a record, say) from the branches' outputs in branch order.</param>
    /// <param name="name">The Parallel's name in spans and metrics; by default its type name.</param>
    /// <typeparam name="TIn">What every branch is given.</typeparam>
    /// <typeparam name="T1">What the first branch answers.</typeparam>
    /// <typeparam name="T2">What the second branch answers.</typeparam>
    /// <typeparam name="T3">What the third branch answers.</typeparam>
    /// <typeparam name="T4">What the fourth branch answers.</typeparam>
    /// <typeparam name="T5">What the fifth branch answers.</typeparam>
    /// <typeparam name="TOut">What the Parallel answers.</typeparam>
    public static Step<TIn, TOut> Parallel<TIn, T1, T2, T3, T4, T5, TOut>(Step<TIn, T1> first, Step<TIn, T2> second, Step<TIn, T3> third, Step<TIn, T4> fourth, Step<TIn, T5> fifth, Func<T1, T2, T3, T4, T5, TOut> combine, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(combine);
        return new(new ParallelPrimitive(Branches(first, second, third, fourth, fifth), o => combine(Payload.Branch<T1>(o, 0), Payload.Branch<T2>(o, 1), Payload.Branch<T3>(o, 2), Payload.Branch<T4>(o, 3), Payload.Branch<T5>(o, 4)), name));
    }

    /// <summary>Runs 6 branches side by side on the same input and answers their outputs as a tuple, in branch order.</summary>
    /// <remarks>The first failing branch fails the whole; the other branches' answers are discarded.</remarks>
    /// <param name="first">The first branch.</param>
    /// <param name="second">The second branch.</param>
    /// <param name="third">The third branch.</param>
    /// <param name="fourth">The fourth branch.</param>
    /// <param name="fifth">The fifth branch.</param>
    /// <param name="sixth">The sixth branch.</param>
    /// <param name="name">The Parallel's name in spans and metrics; by default its type name.</param>
    /// <typeparam name="TIn">What every branch is given.</typeparam>
    /// <typeparam name="T1">What the first branch answers.</typeparam>
    /// <typeparam name="T2">What the second branch answers.</typeparam>
    /// <typeparam name="T3">What the third branch answers.</typeparam>
    /// <typeparam name="T4">What the fourth branch answers.</typeparam>
    /// <typeparam name="T5">What the fifth branch answers.</typeparam>
    /// <typeparam name="T6">What the sixth branch answers.</typeparam>
    public static Step<TIn, (T1, T2, T3, T4, T5, T6)> Parallel<TIn, T1, T2, T3, T4, T5, T6>(Step<TIn, T1> first, Step<TIn, T2> second, Step<TIn, T3> third, Step<TIn, T4> fourth, Step<TIn, T5> fifth, Step<TIn, T6> sixth, string? name = null) =>
        TupleParallel<TIn, (T1, T2, T3, T4, T5, T6)>(Branches(first, second, third, fourth, fifth, sixth), static o => (Payload.Branch<T1>(o, 0), Payload.Branch<T2>(o, 1), Payload.Branch<T3>(o, 2), Payload.Branch<T4>(o, 3), Payload.Branch<T5>(o, 4), Payload.Branch<T6>(o, 5)), name);

    /// <summary>Runs 6 branches side by side on the same input and answers what <paramref name="combine"/> makes of their outputs.</summary>
    /// <remarks>The first failing branch fails the whole; <paramref name="combine"/> runs once all branches answered.</remarks>
    /// <param name="first">The first branch.</param>
    /// <param name="second">The second branch.</param>
    /// <param name="third">The third branch.</param>
    /// <param name="fourth">The fourth branch.</param>
    /// <param name="fifth">The fifth branch.</param>
    /// <param name="sixth">The sixth branch.</param>
    /// <param name="combine">Builds the answer (a record, say) from the branches' outputs in branch order.</param>
    /// <param name="name">The Parallel's name in spans and metrics; by default its type name.</param>
    /// <typeparam name="TIn">What every branch is given.</typeparam>
    /// <typeparam name="T1">What the first branch answers.</typeparam>
    /// <typeparam name="T2">What the second branch answers.</typeparam>
    /// <typeparam name="T3">What the third branch answers.</typeparam>
    /// <typeparam name="T4">What the fourth branch answers.</typeparam>
    /// <typeparam name="T5">What the fifth branch answers.</typeparam>
    /// <typeparam name="T6">What the sixth branch answers.</typeparam>
    /// <typeparam name="TOut">What the Parallel answers.</typeparam>
    public static Step<TIn, TOut> Parallel<TIn, T1, T2, T3, T4, T5, T6, TOut>(Step<TIn, T1> first, Step<TIn, T2> second, Step<TIn, T3> third, Step<TIn, T4> fourth, Step<TIn, T5> fifth, Step<TIn, T6> sixth, Func<T1, T2, T3, T4, T5, T6, TOut> combine, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(combine);
        return new(new ParallelPrimitive(Branches(first, second, third, fourth, fifth, sixth), o => combine(Payload.Branch<T1>(o, 0), Payload.Branch<T2>(o, 1), Payload.Branch<T3>(o, 2), Payload.Branch<T4>(o, 3), Payload.Branch<T5>(o, 4), Payload.Branch<T6>(o, 5)), name));
    }

    /// <summary>Runs 7 branches side by side on the same input and answers their outputs as a tuple, in branch order.</summary>
    /// <remarks>The first failing branch fails the whole; the other branches' answers are discarded.</remarks>
    /// <param name="first">The first branch.</param>
    /// <param name="second">The second branch.</param>
    /// <param name="third">The third branch.</param>
    /// <param name="fourth">The fourth branch.</param>
    /// <param name="fifth">The fifth branch.</param>
    /// <param name="sixth">The sixth branch.</param>
    /// <param name="seventh">The seventh branch.</param>
    /// <param name="name">The Parallel's name in spans and metrics; by default its type name.</param>
    /// <typeparam name="TIn">What every branch is given.</typeparam>
    /// <typeparam name="T1">What the first branch answers.</typeparam>
    /// <typeparam name="T2">What the second branch answers.</typeparam>
    /// <typeparam name="T3">What the third branch answers.</typeparam>
    /// <typeparam name="T4">What the fourth branch answers.</typeparam>
    /// <typeparam name="T5">What the fifth branch answers.</typeparam>
    /// <typeparam name="T6">What the sixth branch answers.</typeparam>
    /// <typeparam name="T7">What the seventh branch answers.</typeparam>
    public static Step<TIn, (T1, T2, T3, T4, T5, T6, T7)> Parallel<TIn, T1, T2, T3, T4, T5, T6, T7>(Step<TIn, T1> first, Step<TIn, T2> second, Step<TIn, T3> third, Step<TIn, T4> fourth, Step<TIn, T5> fifth, Step<TIn, T6> sixth, Step<TIn, T7> seventh, string? name = null) =>
        TupleParallel<TIn, (T1, T2, T3, T4, T5, T6, T7)>(Branches(first, second, third, fourth, fifth, sixth, seventh), static o => (Payload.Branch<T1>(o, 0), Payload.Branch<T2>(o, 1), Payload.Branch<T3>(o, 2), Payload.Branch<T4>(o, 3), Payload.Branch<T5>(o, 4), Payload.Branch<T6>(o, 5), Payload.Branch<T7>(o, 6)), name);

    /// <summary>Runs 7 branches side by side on the same input and answers what <paramref name="combine"/> makes of their outputs.</summary>
    /// <remarks>The first failing branch fails the whole; <paramref name="combine"/> runs once all branches answered.</remarks>
    /// <param name="first">The first branch.</param>
    /// <param name="second">The second branch.</param>
    /// <param name="third">The third branch.</param>
    /// <param name="fourth">The fourth branch.</param>
    /// <param name="fifth">The fifth branch.</param>
    /// <param name="sixth">The sixth branch.</param>
    /// <param name="seventh">The seventh branch.</param>
    /// <param name="combine">Builds the answer (a record, say) from the branches' outputs in branch order.</param>
    /// <param name="name">The Parallel's name in spans and metrics; by default its type name.</param>
    /// <typeparam name="TIn">What every branch is given.</typeparam>
    /// <typeparam name="T1">What the first branch answers.</typeparam>
    /// <typeparam name="T2">What the second branch answers.</typeparam>
    /// <typeparam name="T3">What the third branch answers.</typeparam>
    /// <typeparam name="T4">What the fourth branch answers.</typeparam>
    /// <typeparam name="T5">What the fifth branch answers.</typeparam>
    /// <typeparam name="T6">What the sixth branch answers.</typeparam>
    /// <typeparam name="T7">What the seventh branch answers.</typeparam>
    /// <typeparam name="TOut">What the Parallel answers.</typeparam>
    public static Step<TIn, TOut> Parallel<TIn, T1, T2, T3, T4, T5, T6, T7, TOut>(Step<TIn, T1> first, Step<TIn, T2> second, Step<TIn, T3> third, Step<TIn, T4> fourth, Step<TIn, T5> fifth, Step<TIn, T6> sixth, Step<TIn, T7> seventh, Func<T1, T2, T3, T4, T5, T6, T7, TOut> combine, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(combine);
        return new(new ParallelPrimitive(Branches(first, second, third, fourth, fifth, sixth, seventh), o => combine(Payload.Branch<T1>(o, 0), Payload.Branch<T2>(o, 1), Payload.Branch<T3>(o, 2), Payload.Branch<T4>(o, 3), Payload.Branch<T5>(o, 4), Payload.Branch<T6>(o, 5), Payload.Branch<T7>(o, 6)), name));
    }

    /// <summary>Runs every branch side by side on the same input and answers their outputs in branch order.</summary>
    /// <param name="branches">One or more branches of the same type.</param>
    /// <param name="name">The Parallel's name in spans and metrics; by default its type name.</param>
    /// <typeparam name="TIn">What every branch is given.</typeparam>
    /// <typeparam name="TOut">What every branch answers.</typeparam>
    public static Step<TIn, IReadOnlyList<TOut>> Parallel<TIn, TOut>(IEnumerable<Step<TIn, TOut>> branches, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(branches);
        return new(new ParallelPrimitive(branches.Select(b => b?.Primitive!), static o =>
        {
            var outputs = new TOut[o.Length];
            for (var i = 0; i < o.Length; i++) outputs[i] = Payload.Branch<TOut>(o, i);
            return outputs;
        }, name));
    }

    /// <summary>A tuple-answering Parallel; unnamed, it remembers its branches so that <c>|</c> can add one more.</summary>
    internal static Step<TIn, TTuple> TupleParallel<TIn, TTuple>(Primitive[] branches, Func<object?[], TTuple> read, string? name) =>
        new(new ParallelPrimitive(branches, o => read(o), name), name is null ? branches : null);

    private static Primitive[] Branches(params ReadOnlySpan<ITypedStep?> branches)
    {
        var primitives = new Primitive[branches.Length];
        for (var i = 0; i < branches.Length; i++)
            primitives[i] = branches[i]?.Primitive ?? throw new ArgumentException($"Branch [{i}] of a Parallel is null.", nameof(branches));
        return primitives;
    }
}
