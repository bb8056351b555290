using TtaActors.Actors.Primitives;

namespace TtaActors.Actors.Typed;

/// <summary>
/// The typed <c>&gt;&gt;</c> and <c>|</c>: <c>a &gt;&gt; b</c> is <c>a.Then(b)</c> and compiles only when <c>b</c> takes what <c>a</c>
/// gives; <c>a | b</c> runs both on the same input and answers the tuple of their outputs, and <c>a | b | c</c> a tuple of
/// three (one Parallel of three branches, as the untyped <c>|</c> flattens), up to seven.
/// </summary>
public static class StepOperators
{
    extension<TIn, TMid, TOut>(Step<TIn, TMid>)
    {
        /// <summary>Runs <paramref name="second"/> on the output of <paramref name="first"/> (a Sequential).</summary>
        /// <param name="first">The step that runs first.</param>
        /// <param name="second">The step given what <paramref name="first"/> answers.</param>
        public static Step<TIn, TOut> operator >>(Step<TIn, TMid> first, Step<TMid, TOut> second)
        {
            ArgumentNullException.ThrowIfNull(first);
            return first.Then(second);
        }
    }

    extension<TIn, T1, T2>(Step<TIn, T1>)
    {
        /// <summary>Runs both steps side by side on the same input and answers the tuple of their outputs (a Parallel).</summary>
        /// <param name="first">The first branch.</param>
        /// <param name="second">The second branch.</param>
        public static Step<TIn, (T1, T2)> operator |(Step<TIn, T1> first, Step<TIn, T2> second) => Step.Parallel(first, second);
    }

    extension<TIn, T1, T2, T3>(Step<TIn, (T1, T2)>)
    {
        /// <summary>Adds a branch to a Parallel answering a tuple of 2: the answer is a tuple of 3.</summary>
        /// <param name="first">A Parallel of 2 branches (or any step answering a tuple of 2).</param>
        /// <param name="second">The branch added.</param>
        public static Step<TIn, (T1, T2, T3)> operator |(Step<TIn, (T1, T2)> first, Step<TIn, T3> second) =>
            Widen(first, second, static o => (Payload.Branch<T1>(o, 0), Payload.Branch<T2>(o, 1), Payload.Branch<T3>(o, 2)),
                static o =>
                {
                    var left = Payload.Branch<(T1, T2)>(o, 0);
                    return (left.Item1, left.Item2, Payload.Branch<T3>(o, 1));
                });
    }

    extension<TIn, T1, T2, T3, T4>(Step<TIn, (T1, T2, T3)>)
    {
        /// <summary>Adds a branch to a Parallel answering a tuple of 3: the answer is a tuple of 4.</summary>
        /// <param name="first">A Parallel of 3 branches (or any step answering a tuple of 3).</param>
        /// <param name="second">The branch added.</param>
        public static Step<TIn, (T1, T2, T3, T4)> operator |(Step<TIn, (T1, T2, T3)> first, Step<TIn, T4> second) =>
            Widen(first, second, static o => (Payload.Branch<T1>(o, 0), Payload.Branch<T2>(o, 1), Payload.Branch<T3>(o, 2), Payload.Branch<T4>(o, 3)),
                static o =>
                {
                    var left = Payload.Branch<(T1, T2, T3)>(o, 0);
                    return (left.Item1, left.Item2, left.Item3, Payload.Branch<T4>(o, 1));
                });
    }

    extension<TIn, T1, T2, T3, T4, T5>(Step<TIn, (T1, T2, T3, T4)>)
    {
        /// <summary>Adds a branch to a Parallel answering a tuple of 4: the answer is a tuple of 5.</summary>
        /// <param name="first">A Parallel of 4 branches (or any step answering a tuple of 4).</param>
        /// <param name="second">The branch added.</param>
        public static Step<TIn, (T1, T2, T3, T4, T5)> operator |(Step<TIn, (T1, T2, T3, T4)> first, Step<TIn, T5> second) =>
            Widen(first, second, static o => (Payload.Branch<T1>(o, 0), Payload.Branch<T2>(o, 1), Payload.Branch<T3>(o, 2), Payload.Branch<T4>(o, 3), Payload.Branch<T5>(o, 4)),
                static o =>
                {
                    var left = Payload.Branch<(T1, T2, T3, T4)>(o, 0);
                    return (left.Item1, left.Item2, left.Item3, left.Item4, Payload.Branch<T5>(o, 1));
                });
    }

    extension<TIn, T1, T2, T3, T4, T5, T6>(Step<TIn, (T1, T2, T3, T4, T5)>)
    {
        /// <summary>Adds a branch to a Parallel answering a tuple of 5: the answer is a tuple of 6.</summary>
        /// <param name="first">A Parallel of 5 branches (or any step answering a tuple of 5).</param>
        /// <param name="second">The branch added.</param>
        public static Step<TIn, (T1, T2, T3, T4, T5, T6)> operator |(Step<TIn, (T1, T2, T3, T4, T5)> first, Step<TIn, T6> second) =>
            Widen(first, second, static o => (Payload.Branch<T1>(o, 0), Payload.Branch<T2>(o, 1), Payload.Branch<T3>(o, 2), Payload.Branch<T4>(o, 3), Payload.Branch<T5>(o, 4), Payload.Branch<T6>(o, 5)),
                static o =>
                {
                    var left = Payload.Branch<(T1, T2, T3, T4, T5)>(o, 0);
                    return (left.Item1, left.Item2, left.Item3, left.Item4, left.Item5, Payload.Branch<T6>(o, 1));
                });
    }

    extension<TIn, T1, T2, T3, T4, T5, T6, T7>(Step<TIn, (T1, T2, T3, T4, T5, T6)>)
    {
        /// <summary>Adds a branch to a Parallel answering a tuple of 6: the answer is a tuple of 7.</summary>
        /// <param name="first">A Parallel of 6 branches (or any step answering a tuple of 6).</param>
        /// <param name="second">The branch added.</param>
        public static Step<TIn, (T1, T2, T3, T4, T5, T6, T7)> operator |(Step<TIn, (T1, T2, T3, T4, T5, T6)> first, Step<TIn, T7> second) =>
            Widen(first, second, static o => (Payload.Branch<T1>(o, 0), Payload.Branch<T2>(o, 1), Payload.Branch<T3>(o, 2), Payload.Branch<T4>(o, 3), Payload.Branch<T5>(o, 4), Payload.Branch<T6>(o, 5), Payload.Branch<T7>(o, 6)),
                static o =>
                {
                    var left = Payload.Branch<(T1, T2, T3, T4, T5, T6)>(o, 0);
                    return (left.Item1, left.Item2, left.Item3, left.Item4, left.Item5, left.Item6, Payload.Branch<T7>(o, 1));
                });
    }

    // An unnamed tuple Parallel takes the new branch as one more of its own; any other step answering a tuple (a named
    // Parallel, a leaf) becomes the first of two branches whose answers are spliced into the wider tuple.
    private static Step<TIn, TWide> Widen<TIn, TNarrow, TNext, TWide>(Step<TIn, TNarrow> first, Step<TIn, TNext> second,
        Func<object?[], TWide> fromBranches, Func<object?[], TWide> fromPair)
    {
        ArgumentNullException.ThrowIfNull(first);
        ArgumentNullException.ThrowIfNull(second);
        return first.TupleBranches is { } branches
            ? Step.TupleParallel<TIn, TWide>([.. branches, second.Primitive], fromBranches, null)
            : new Step<TIn, TWide>(new ParallelPrimitive([first.Primitive, second.Primitive], o => fromPair(o), null));
    }
}
