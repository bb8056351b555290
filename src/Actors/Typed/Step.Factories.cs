using TtaActors.Actors.Context;
using TtaActors.Actors.Primitives;

namespace TtaActors.Actors.Typed;

/// <summary>
/// Makes typed steps: leaves from ordinary functions, typed views of untyped primitives, and the branching primitives
/// (Parallel, Router, Switch, If) whose selectors read the typed input.
/// </summary>
public static partial class Step
{
    /// <summary>A leaf step of a synchronous function (a <see cref="LambdaPrimitive"/>).</summary>
    /// <param name="function">The step's work.</param>
    /// <param name="name">The step's name in spans and metrics; by default <c>LambdaPrimitive</c>.</param>
    /// <typeparam name="TIn">What the step is given.</typeparam>
    /// <typeparam name="TOut">What the step answers.</typeparam>
    public static Step<TIn, TOut> From<TIn, TOut>(Func<TIn, TOut> function, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(function);
        return new(Lambda.From(function, name));
    }

    /// <summary>A leaf step of a synchronous function that also reads the run's context.</summary>
    /// <param name="function">The step's work.</param>
    /// <param name="name">The step's name in spans and metrics; by default <c>LambdaPrimitive</c>.</param>
    /// <typeparam name="TIn">What the step is given.</typeparam>
    /// <typeparam name="TOut">What the step answers.</typeparam>
    public static Step<TIn, TOut> From<TIn, TOut>(Func<TIn, WorkflowContext, TOut> function, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(function);
        return new(Lambda.From(function, name));
    }

    /// <summary>A leaf step of an asynchronous function; the token fires at the run's deadline or on cancellation.</summary>
    /// <param name="function">The step's work; it never blocks an actor.</param>
    /// <param name="name">The step's name in spans and metrics; by default <c>LambdaPrimitive</c>.</param>
    /// <typeparam name="TIn">What the step is given.</typeparam>
    /// <typeparam name="TOut">What the step answers.</typeparam>
    public static Step<TIn, TOut> FromAsync<TIn, TOut>(Func<TIn, CancellationToken, Task<TOut>> function, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(function);
        return new(Lambda.FromAsync(function, name));
    }

    /// <summary>A leaf step of an asynchronous function that also reads the run's context.</summary>
    /// <param name="function">The step's work; it never blocks an actor.</param>
    /// <param name="name">The step's name in spans and metrics; by default <c>LambdaPrimitive</c>.</param>
    /// <typeparam name="TIn">What the step is given.</typeparam>
    /// <typeparam name="TOut">What the step answers.</typeparam>
    public static Step<TIn, TOut> FromAsync<TIn, TOut>(Func<TIn, WorkflowContext, CancellationToken, Task<TOut>> function,
        string? name = null)
    {
        ArgumentNullException.ThrowIfNull(function);
        return new(Lambda.FromAsync(function, name));
    }

    /// <summary>
    /// A typed view of an untyped primitive (an LLM step, a workflow file's step, a Mock): you vouch that it takes a
    /// <typeparamref name="TIn"/> and answers a <typeparamref name="TOut"/>. A step after it that is given something else
    /// fails its run with an <see cref="InvalidCastException"/> naming both types.
    /// </summary>
    /// <param name="primitive">The untyped definition.</param>
    /// <typeparam name="TIn">What the primitive is given.</typeparam>
    /// <typeparam name="TOut">What the primitive answers.</typeparam>
    public static Step<TIn, TOut> Of<TIn, TOut>(Primitive primitive)
    {
        ArgumentNullException.ThrowIfNull(primitive);
        return new(primitive);
    }

    /// <summary>
    /// Picks one route by a key the selector reads from the input (a <see cref="RouterPrimitive"/>). An unknown key takes
    /// <paramref name="defaultRoute"/>; with none, the run fails with <see cref="RouteNotFoundException"/> naming the key and
    /// the routes. Every decision is appended to the context's routing history.
    /// </summary>
    /// <param name="selector">The route key of an input.</param>
    /// <param name="routes">The routes by key, at least one.</param>
    /// <param name="defaultRoute">The key of the route unknown keys take; null fails them.</param>
    /// <param name="name">The router's name in spans and metrics; by default its type name.</param>
    /// <typeparam name="TIn">What the router and every route are given.</typeparam>
    /// <typeparam name="TOut">What every route answers.</typeparam>
    public static Step<TIn, TOut> Router<TIn, TOut>(Func<TIn, string> selector, IReadOnlyList<(string Key, Step<TIn, TOut> Route)> routes,
        string? defaultRoute = null, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(selector);
        return Router<TIn, TOut>((input, _) => selector(input), routes, defaultRoute, name);
    }

    /// <summary>Picks one route by a key the selector reads from the input and the run's context.</summary>
    /// <param name="selector">The route key of an input in a context.</param>
    /// <param name="routes">The routes by key, at least one.</param>
    /// <param name="defaultRoute">The key of the route unknown keys take; null fails them.</param>
    /// <param name="name">The router's name in spans and metrics; by default its type name.</param>
    /// <typeparam name="TIn">What the router and every route are given.</typeparam>
    /// <typeparam name="TOut">What every route answers.</typeparam>
    public static Step<TIn, TOut> Router<TIn, TOut>(Func<TIn, WorkflowContext, string> selector,
        IReadOnlyList<(string Key, Step<TIn, TOut> Route)> routes, string? defaultRoute = null, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(selector);
        return new(new RouterPrimitive(Keyed(routes, "route"), (input, context) => selector(Payload.As<TIn>(input, "The router's selector"), context),
            defaultRoute, name));
    }

    /// <summary>
    /// Runs the case whose key the selector reads from the input, else <paramref name="default"/> (a
    /// <see cref="SwitchPrimitive"/>).
    /// </summary>
    /// <param name="selector">The case key of an input; null or an unknown key takes the default.</param>
    /// <param name="cases">The cases by key.</param>
    /// <param name="default">What runs when no case matches.</param>
    /// <param name="name">The switch's name in spans and metrics; by default its type name.</param>
    /// <typeparam name="TIn">What the switch and every case are given.</typeparam>
    /// <typeparam name="TOut">What every case answers.</typeparam>
    public static Step<TIn, TOut> Switch<TIn, TOut>(Func<TIn, string?> selector, IReadOnlyList<(string Key, Step<TIn, TOut> Case)> cases,
        Step<TIn, TOut> @default, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(selector);
        ArgumentNullException.ThrowIfNull(@default);
        return new(new SwitchPrimitive((input, _) => selector(Payload.As<TIn>(input, "The switch's selector")), Keyed(cases, "case"),
            @default.Primitive, name));
    }

    /// <summary>
    /// Runs the case whose key the selector reads from the input; when none matches the input passes through unchanged,
    /// which is why every case answers the type it is given.
    /// </summary>
    /// <param name="selector">The case key of an input; null or an unknown key passes the input through.</param>
    /// <param name="cases">The cases by key.</param>
    /// <param name="name">The switch's name in spans and metrics; by default its type name.</param>
    /// <typeparam name="T">What the switch is given and answers.</typeparam>
    public static Step<T, T> Switch<T>(Func<T, string?> selector, IReadOnlyList<(string Key, Step<T, T> Case)> cases, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(selector);
        return new(new SwitchPrimitive((input, _) => selector(Payload.As<T>(input, "The switch's selector")), Keyed(cases, "case"),
            null, name));
    }

    /// <summary>Runs <paramref name="then"/> when the condition holds for the input, else <paramref name="else"/> (a <see cref="ConditionalPrimitive"/>).</summary>
    /// <param name="condition">Decides on the input.</param>
    /// <param name="then">What runs when the condition holds.</param>
    /// <param name="else">What runs when it does not.</param>
    /// <param name="name">The conditional's name in spans and metrics; by default its type name.</param>
    /// <typeparam name="TIn">What the conditional and both branches are given.</typeparam>
    /// <typeparam name="TOut">What both branches answer.</typeparam>
    public static Step<TIn, TOut> If<TIn, TOut>(Func<TIn, bool> condition, Step<TIn, TOut> then, Step<TIn, TOut> @else, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(condition);
        ArgumentNullException.ThrowIfNull(then);
        ArgumentNullException.ThrowIfNull(@else);
        return new(new ConditionalPrimitive((input, _) => condition(Payload.As<TIn>(input, "The condition")), then.Primitive,
            @else.Primitive, name));
    }

    /// <summary>Runs <paramref name="then"/> when the condition holds for the input; otherwise the input passes through unchanged.</summary>
    /// <param name="condition">Decides on the input.</param>
    /// <param name="then">What runs when the condition holds.</param>
    /// <param name="name">The conditional's name in spans and metrics; by default its type name.</param>
    /// <typeparam name="T">What the conditional is given and answers.</typeparam>
    public static Step<T, T> If<T>(Func<T, bool> condition, Step<T, T> then, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(condition);
        ArgumentNullException.ThrowIfNull(then);
        return new(new ConditionalPrimitive((input, _) => condition(Payload.As<T>(input, "The condition")), then.Primitive, null, name));
    }

    private static Dictionary<string, Primitive> Keyed<TIn, TOut>(IReadOnlyList<(string Key, Step<TIn, TOut> Step)> entries, string what)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var keyed = new Dictionary<string, Primitive>(entries.Count, StringComparer.Ordinal);
        foreach (var (key, step) in entries)
        {
            if (key is null) throw new ArgumentException($"A {what} key must not be null.", nameof(entries));
            if (!keyed.TryAdd(key, step?.Primitive ?? throw new ArgumentException($"The {what} '{key}' is null.", nameof(entries))))
                throw new ArgumentException($"The {what} key '{key}' is given twice; each key names one {what}.", nameof(entries));
        }
        return keyed;
    }
}
