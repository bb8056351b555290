using System.Diagnostics;
using Akka.Actor;
using TtaActors.Actors.Context;
using TtaActors.Actors.Execution;
using TtaActors.Telemetry;

namespace TtaActors.Actors.Primitives;

/// <summary>One call a <see cref="MockPrimitive"/> received: the input and the context it was given.</summary>
public sealed record MockCall(object? Input, WorkflowContext Context);

/// <summary>
/// A leaf step for users' tests. Each call is recorded (thread-safe: calls come from every run through every graph
/// the mock is materialised in), then the mock raises its error if it has one, else returns what its side effect
/// returns if it has one, else its fixed return value, as the original library's MockPrimitive does.
/// </summary>
public sealed class MockPrimitive : Primitive
{
    private readonly Lock _lock = new();
    private readonly List<MockCall> _calls = [];
    private readonly LambdaPrimitive _step;

    /// <param name="returnValue">What every call returns when there is no side effect and no error.</param>
    /// <param name="sideEffect">Computes each call's result from the input and context (may be async).</param>
    /// <param name="raiseError">Thrown by every call, before the side effect.</param>
    /// <param name="name">The name in spans, metrics and failure paths; the type name when null.</param>
    public MockPrimitive(string? name = null, object? returnValue = null,
        Func<object?, WorkflowContext, CancellationToken, ValueTask<object?>>? sideEffect = null, Exception? raiseError = null)
        : base(name)
    {
        ReturnValue = returnValue;
        SideEffect = sideEffect;
        RaiseError = raiseError;
        _step = new LambdaPrimitive(ExecuteAsync, name);
    }

    /// <summary>What every call returns when there is no side effect and no error.</summary>
    public object? ReturnValue { get; }
    /// <summary>Computes each call's result from the input and context.</summary>
    public Func<object?, WorkflowContext, CancellationToken, ValueTask<object?>>? SideEffect { get; }
    /// <summary>Thrown by every call, before the side effect.</summary>
    public Exception? RaiseError { get; }

    /// <summary>A mock that returns <paramref name="value"/>.</summary>
    public static MockPrimitive Returning(object? value, string? name = null) => new(name, returnValue: value);

    /// <summary>A mock whose result is computed by a synchronous side effect.</summary>
    public static MockPrimitive WithSideEffect(Func<object?, WorkflowContext, object?> sideEffect, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(sideEffect);
        return new(name, sideEffect: (input, context, _) => new ValueTask<object?>(sideEffect(input, context)));
    }

    /// <summary>A mock whose result is computed by an asynchronous side effect.</summary>
    public static MockPrimitive WithSideEffect(Func<object?, WorkflowContext, CancellationToken, Task<object?>> sideEffect,
        string? name = null)
    {
        ArgumentNullException.ThrowIfNull(sideEffect);
        return new(name, sideEffect: (input, context, cancellation) => new ValueTask<object?>(sideEffect(input, context, cancellation)));
    }

    /// <summary>A mock that raises <paramref name="error"/> on every call.</summary>
    public static MockPrimitive Raising(Exception error, string? name = null) =>
        new(name, raiseError: error ?? throw new ArgumentNullException(nameof(error)));

    /// <summary>Calls so far.</summary>
    public int CallCount
    {
        get { lock (_lock) return _calls.Count; }
    }

    /// <summary>A snapshot of the calls so far, oldest first.</summary>
    public IReadOnlyList<MockCall> Calls
    {
        get { lock (_lock) return _calls.ToArray(); }
    }

    /// <summary>The inputs of the calls so far, oldest first.</summary>
    public IReadOnlyList<object?> Inputs
    {
        get { lock (_lock) return _calls.Select(c => c.Input).ToArray(); }
    }

    /// <summary>The most recent call; null before the first.</summary>
    public MockCall? LastCall
    {
        get { lock (_lock) return _calls.Count == 0 ? null : _calls[^1]; }
    }

    /// <summary>Forgets the calls recorded so far.</summary>
    public void Reset()
    {
        lock (_lock) _calls.Clear();
    }

    /// <inheritdoc/>
    public override IReadOnlyList<Primitive> Children => [];
    /// <inheritdoc/>
    public override string TypeName => "MockPrimitive";

    // A mock is a leaf step like any other: it runs in the leaf actor, under its own span.
    internal override Props CreateProps(PrimitiveNode node) => LambdaActor.Props(_step, node);

    private async ValueTask<StepOutcome> ExecuteAsync(object? input, WorkflowContext context, CancellationToken cancellation)
    {
        int callNumber;
        lock (_lock)
        {
            _calls.Add(new MockCall(input, context));
            callNumber = _calls.Count;
        }
        // The leaf actor runs user code with the step's span current.
        if (Activity.Current is { IsAllDataRequested: true } span && span.Source == TtaInstrumentation.ActivitySource)
            span.SetTag(TelemetryNames.Catalog.Attributes.MockCall, callNumber);

        if (RaiseError is not null) throw RaiseError;
        if (SideEffect is not null) return new StepOutcome(await SideEffect(input, context, cancellation).ConfigureAwait(false));
        return new StepOutcome(ReturnValue);
    }
}
