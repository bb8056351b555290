using TtaActors.Actors.Context;
using TtaActors.Actors.Primitives;

namespace TtaActors.Actors.Typed;

/// <summary>
/// A workflow step that takes a <typeparamref name="TIn"/> and answers a <typeparamref name="TOut"/>: a typed view of one
/// untyped primitive definition (<see cref="Primitive"/>). Composition is checked by the compiler: <c>a.Then(b)</c> and
/// <c>a &gt;&gt; b</c> compile only when <c>b</c> takes what <c>a</c> gives.
/// </summary>
/// <remarks>
/// The typed layer builds exactly the primitives the untyped API builds (a Then is a <see cref="SequentialPrimitive"/>, a
/// WithRetry a <see cref="RetryPrimitive"/>, ...), so spans, metrics and names are the same whichever API made a workflow.
/// Steps are immutable: every With... answers a new step and leaves this one as it was.
/// </remarks>
/// <typeparam name="TIn">What the step is given.</typeparam>
/// <typeparam name="TOut">What the step answers.</typeparam>
public sealed class Step<TIn, TOut> : ITypedStep
{
    internal Step(Primitive primitive, IReadOnlyList<Primitive>? tupleBranches = null)
    {
        Primitive = primitive;
        TupleBranches = tupleBranches;
    }

    /// <summary>The untyped definition this step stands for; what a <see cref="Execution.WorkflowGraph"/> materialises.</summary>
    public Primitive Primitive { get; }

    /// <summary>The name spans and metrics use for this step (<see cref="Primitives.Primitive.DisplayName"/>).</summary>
    public string DisplayName => Primitive.DisplayName;

    /// <summary>
    /// The branches of an unnamed Parallel that answers a tuple of their outputs, so that <c>|</c> can add a branch to it
    /// (the untyped <c>|</c> flattens the same way); null for any other step.
    /// </summary>
    internal IReadOnlyList<Primitive>? TupleBranches { get; }

    /// <summary>Runs <paramref name="next"/> on this step's output (a <see cref="SequentialPrimitive"/>, chains flattened).</summary>
    /// <typeparam name="TNext">What <paramref name="next"/> answers.</typeparam>
    public Step<TIn, TNext> Then<TNext>(Step<TOut, TNext> next)
    {
        ArgumentNullException.ThrowIfNull(next);
        return new(Primitive >> next.Primitive);
    }

    /// <summary>Retries this step (a <see cref="RetryPrimitive"/>): <paramref name="maxRetries"/> + 1 attempts in all.</summary>
    /// <param name="maxRetries">Retries after the first attempt.</param>
    /// <param name="backoffBase">The delay before retry n is min(backoffBase^n, maxBackoff) seconds.</param>
    /// <param name="maxBackoff">The longest delay between attempts, in seconds.</param>
    /// <param name="jitter">Whether each delay is multiplied by 0.5 + a random number below 1.</param>
    /// <param name="name">The retry's name in spans and metrics; by default its type name.</param>
    public Step<TIn, TOut> WithRetry(int maxRetries = 3, double backoffBase = 2.0, double maxBackoff = 60, bool jitter = true,
        string? name = null) =>
        new(new RetryPrimitive(Primitive, maxRetries, backoffBase, maxBackoff, jitter, name));

    /// <summary>Retries this step as <paramref name="policy"/> says (which errors, how many times, how long between).</summary>
    /// <param name="policy">The retry policy; see <see cref="RetryPolicy"/> for its defaults.</param>
    /// <param name="name">The retry's name in spans and metrics; by default its type name.</param>
    public Step<TIn, TOut> WithRetry(RetryPolicy policy, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(policy);
        return new(new RetryPrimitive(Primitive, policy, name));
    }

    /// <summary>
    /// Bounds this step to <paramref name="timeout"/> (a <see cref="TimeoutPrimitive"/>): on expiry the step's token fires and
    /// <paramref name="fallback"/> runs, or the step fails with <see cref="PrimitiveTimeoutException"/>.
    /// </summary>
    /// <param name="timeout">How long the step may take; longer than zero.</param>
    /// <param name="fallback">What runs, with the same input, when time runs out; null fails instead.</param>
    /// <param name="name">The timeout's name in spans and metrics; by default its type name.</param>
    public Step<TIn, TOut> WithTimeout(TimeSpan timeout, Step<TIn, TOut>? fallback = null, string? name = null) =>
        new(new TimeoutPrimitive(Primitive, timeout, fallback?.Primitive, name: name));

    /// <summary>Runs <paramref name="fallback"/> with the same input when this step fails (a <see cref="FallbackPrimitive"/>).</summary>
    /// <param name="fallback">The step that answers instead; if it fails too, this step's error is the answer.</param>
    /// <param name="name">The fallback's name in spans and metrics; by default its type name.</param>
    public Step<TIn, TOut> WithFallback(Step<TIn, TOut> fallback, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(fallback);
        return new(new FallbackPrimitive(Primitive, fallback.Primitive, name));
    }

    /// <summary>
    /// Puts a circuit breaker in front of this step (a <see cref="CircuitBreakerPrimitive"/>, its state shared by all runs of a
    /// graph). <see cref="Primitive"/> of the answer is the breaker, for <see cref="CircuitBreakerPrimitive.ResetAsync"/>.
    /// </summary>
    /// <param name="policy">Thresholds and the errors that count; see <see cref="CircuitBreakerPolicy"/> for its defaults.</param>
    /// <param name="name">The breaker's name in spans and metrics; by default its type name.</param>
    public Step<TIn, TOut> WithCircuitBreaker(CircuitBreakerPolicy? policy = null, string? name = null) =>
        new(new CircuitBreakerPrimitive(Primitive, policy, name));

    /// <summary>Puts a circuit breaker in front of this step with the given thresholds.</summary>
    /// <param name="failureThreshold">Consecutive failures that open the breaker.</param>
    /// <param name="recoveryTimeout">How long the breaker stays open before it lets a trial run through.</param>
    /// <param name="successThreshold">Successes in the half-open state that close the breaker again.</param>
    /// <param name="name">The breaker's name in spans and metrics; by default its type name.</param>
    public Step<TIn, TOut> WithCircuitBreaker(int failureThreshold, TimeSpan recoveryTimeout, int successThreshold = 2,
        string? name = null) =>
        new(new CircuitBreakerPrimitive(Primitive, failureThreshold, recoveryTimeout, successThreshold, name));

    /// <summary>
    /// Caches this step's answers for <paramref name="timeToLive"/> (a <see cref="CachePrimitive"/>); failures and nulls are
    /// never cached.
    /// </summary>
    /// <param name="timeToLive">How long a stored answer is used; longer than zero.</param>
    /// <param name="key">The cache key of an input; by default the input as JSON.</param>
    /// <param name="backend">Where answers are kept; by default an in-memory LRU of 1000 entries.</param>
    /// <param name="name">The cache's name in spans and metrics; by default its type name.</param>
    public Step<TIn, TOut> WithCache(TimeSpan timeToLive, Func<TIn, string>? key = null, ICacheBackend? backend = null,
        string? name = null) =>
        new(new CachePrimitive(Primitive, timeToLive, key is null ? null : (input, _) => key(Payload.As<TIn>(input, "the cache key")),
            backend, name));

    /// <summary>
    /// Runs <paramref name="compensation"/> with the original input when this step fails (a <see cref="SagaPrimitive"/>); the
    /// step's error is still the answer, a compensation error is recorded, never raised.
    /// </summary>
    /// <param name="compensation">The step that undoes what this one may have done; its answer is ignored.</param>
    /// <param name="name">The saga's name in spans and metrics; by default its type name.</param>
    /// <typeparam name="TIgnored">What the compensation answers (nothing reads it).</typeparam>
    public Step<TIn, TOut> WithCompensation<TIgnored>(Step<TIn, TIgnored> compensation, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(compensation);
        return new(new SagaPrimitive(Primitive, compensation.Primitive, name));
    }

    /// <summary>The untyped definition, so a typed step composes with untyped primitives (<c>step &gt;&gt; primitive</c>).</summary>
    /// <param name="step">The typed step.</param>
    public static implicit operator Primitive(Step<TIn, TOut> step)
    {
        ArgumentNullException.ThrowIfNull(step);
        return step.Primitive;
    }

    /// <inheritdoc />
    public override string ToString() => $"{DisplayName} : {typeof(TIn).Name} -> {typeof(TOut).Name}";
}

/// <summary>What every typed step is, whatever its types: the untyped definition it stands for.</summary>
internal interface ITypedStep
{
    Primitive Primitive { get; }
}

/// <summary>Turns untyped payloads back into the types the typed API promised, with an error that names the place.</summary>
internal static class Payload
{
    public static T As<T>(object? value, string where) => value switch
    {
        T typed => typed,
        null when default(T) is null => default!,
        _ => throw new InvalidCastException(
            $"{where} expects {Describe(typeof(T))} but was given {(value is null ? "null" : Describe(value.GetType()))}. " +
            "A step made with Step.Of<TIn, TOut> must answer the type it was declared with."),
    };

    /// <summary>Element <paramref name="index"/> of a Parallel's answers, read as the type of that branch.</summary>
    public static T Branch<T>(object?[] outputs, int index) =>
        outputs[index] is T typed ? typed : As<T>(outputs[index], $"Branch [{index}] of a typed Parallel");

    private static string Describe(Type type) =>
        type.IsGenericType
            ? $"{type.Name[..type.Name.IndexOf('`')]}<{string.Join(", ", type.GetGenericArguments().Select(Describe))}>"
            : type.Name;
}
