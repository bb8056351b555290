using Akka.Actor;
using TtaActors.Actors.Context;
using TtaActors.Actors.Execution;

namespace TtaActors.Actors.Primitives;

/// <summary>What a leaf step produced: its output and, if the step changed it, its context.</summary>
public readonly record struct StepOutcome(object? Output, WorkflowContext? Context = null);

/// <summary>The normalised form of every leaf step: async, cancellable, given the input and the context.</summary>
public delegate ValueTask<StepOutcome> StepFunction(object? input, WorkflowContext context, CancellationToken cancellation);

/// <summary>A leaf step of user code, sync or async. Async work never blocks the actor: it is piped back as a message.</summary>
public sealed class LambdaPrimitive : Primitive
{
    /// <param name="function">The step; it gets the input, the context and the run's cancellation token.</param>
    /// <param name="name">The name in spans, metrics and failure paths; the type name when null.</param>
    public LambdaPrimitive(StepFunction function, string? name = null) : base(name) =>
        Function = function ?? throw new ArgumentNullException(nameof(function));

    /// <summary>The step function.</summary>
    public StepFunction Function { get; }
    /// <inheritdoc/>
    public override IReadOnlyList<Primitive> Children => [];
    /// <inheritdoc/>
    public override string TypeName => "LambdaPrimitive";

    internal override StepFunction? InlineStep => Function;

    internal override Props CreateProps(PrimitiveNode node) => LambdaActor.Props(this, node);
}

/// <summary>Builds leaf steps from ordinary functions.</summary>
public static class Lambda
{
    /// <summary>A step from a synchronous function of the input. An input that is not a <typeparamref name="TIn"/> fails the run with an <see cref="InvalidCastException"/> naming the step and both types.</summary>
    /// <param name="function">The step.</param>
    /// <param name="name">The name in spans, metrics and failure paths; the type name when null.</param>
    public static LambdaPrimitive From<TIn, TOut>(Func<TIn, TOut> function, string? name = null) =>
        new((input, _, _) => new ValueTask<StepOutcome>(new StepOutcome(function(Cast<TIn>(input, name)))), name);

    /// <summary>A step from a synchronous function of the input and the context (see <see cref="From{TIn, TOut}(Func{TIn, TOut}, string)"/>).</summary>
    /// <param name="function">The step.</param>
    /// <param name="name">The name in spans, metrics and failure paths; the type name when null.</param>
    public static LambdaPrimitive From<TIn, TOut>(Func<TIn, WorkflowContext, TOut> function, string? name = null) =>
        new((input, context, _) => new ValueTask<StepOutcome>(new StepOutcome(function(Cast<TIn>(input, name), context))), name);

    /// <summary>A step from an asynchronous function of the input; the token fires when the run ends or an enclosing Timeout expires.</summary>
    /// <param name="function">The step.</param>
    /// <param name="name">The name in spans, metrics and failure paths; the type name when null.</param>
    public static LambdaPrimitive FromAsync<TIn, TOut>(Func<TIn, CancellationToken, Task<TOut>> function, string? name = null) =>
        new(async (input, _, cancellation) => new StepOutcome(await function(Cast<TIn>(input, name), cancellation).ConfigureAwait(false)), name);

    /// <summary>A step from an asynchronous function of the input and the context (see <see cref="FromAsync{TIn, TOut}(Func{TIn, CancellationToken, Task{TOut}}, string)"/>).</summary>
    /// <param name="function">The step.</param>
    /// <param name="name">The name in spans, metrics and failure paths; the type name when null.</param>
    public static LambdaPrimitive FromAsync<TIn, TOut>(Func<TIn, WorkflowContext, CancellationToken, Task<TOut>> function, string? name = null) =>
        new(async (input, context, cancellation) =>
            new StepOutcome(await function(Cast<TIn>(input, name), context, cancellation).ConfigureAwait(false)), name);

    /// <summary>A step that also returns a changed context (state it writes is seen by nothing after it in a Sequential).</summary>
    public static LambdaPrimitive WithContext<TIn, TOut>(Func<TIn, WorkflowContext, (TOut Output, WorkflowContext Context)> function,
        string? name = null) =>
        new((input, context, _) =>
        {
            var (output, changed) = function(Cast<TIn>(input, name), context);
            return new ValueTask<StepOutcome>(new StepOutcome(output, changed));
        }, name);

    private static T Cast<T>(object? input, string? step) => input switch
    {
        T typed => typed,
        null when default(T) is null => default!,
        _ => throw new InvalidCastException(
            $"Step '{step ?? "LambdaPrimitive"}' expects {typeof(T).Name} but was given {input?.GetType().Name ?? "null"}."),
    };
}

internal sealed class LambdaActor : UntypedActor
{
    private readonly StepFunction _function;
    private readonly PrimitiveNode _node;

    public LambdaActor(LambdaPrimitive definition, PrimitiveNode node)
    {
        _function = definition.Function;
        _node = node;
    }

    public static Props Props(LambdaPrimitive definition, PrimitiveNode node) =>
        Akka.Actor.Props.Create(() => new LambdaActor(definition, node));

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case WorkflowEnvelope envelope:
                Execute(envelope);
                break;
            case StepCompleted completed:
                Complete(completed.Execution, completed.Outcome);
                break;
            case StepFaulted faulted:
                Answer(faulted.Execution, LeafStep.Finish(faulted.Execution, default, faulted.Error));
                break;
            case RunEnded ended:
                // The step still runs (it may ignore its token); the run's answer and span do not wait for it.
                ended.Execution.Fail(ended.Execution.EndFailure(), Self);
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    /// <summary>
    /// The common case of <see cref="ExecuteTracked"/> without the execution object: a run that records no checkpoints and
    /// has not ended, in a well-formed envelope. The step gets its span, metrics and place in the run as there; only a step
    /// that does not complete at once gets an execution, made when it turns out so (a Parallel's branches pass here).
    /// </summary>
    private void Execute(WorkflowEnvelope envelope)
    {
        if (envelope.Context is null || envelope.ReplyTo is null || envelope.Cancellation.IsCancellationRequested
            || envelope.Lifetime is { RecordsCheckpoints: true })
        {
            ExecuteTracked(envelope);
            return;
        }
        var previous = System.Diagnostics.Activity.Current;
        var span = PrimitiveTelemetry.StartPrimitiveSpan(_node, envelope.TraceParent, envelope.Context, leaveCurrent: true);
        var startedAt = PrimitiveTelemetry.StartedAt(span);
        try
        {
            var lifetime = envelope.Lifetime;
            lifetime?.Enter(_node);
            ValueTask<StepOutcome> pending;
            try
            {
                pending = _function(envelope.Payload, envelope.Context, envelope.Cancellation);
            }
            catch (Exception error)
            {
                var failure = WorkflowFailure.From(_node.Path, error);
                PrimitiveExecution.Finished(_node, lifetime, span, startedAt, envelope.Context, failure.Exception, failure.Message);
                envelope.ReplyTo.Tell(new PrimitiveFailed(envelope.RunId, envelope.CallId, failure), Self);
                return;
            }
            if (pending.IsCompletedSuccessfully)
            {
                var outcome = pending.Result;
                PrimitiveExecution.Finished(_node, lifetime, span, startedAt, envelope.Context, null, null);
                envelope.ReplyTo.Tell(new PrimitiveSucceeded(envelope.RunId, envelope.CallId, outcome.Output, outcome.Context ?? envelope.Context), Self);
                return;
            }
            Await(new PrimitiveExecution(_node, envelope, span, startedAt), pending);
        }
        finally
        {
            System.Diagnostics.Activity.Current = previous;
        }
    }

    private void ExecuteTracked(WorkflowEnvelope envelope)
    {
        var previous = System.Diagnostics.Activity.Current;
        PrimitiveExecution? execution = null;
        try
        {
            // User code runs under the step's span, so spans and logs it creates nest under it. The span is left current
            // when it starts instead of being set again here: every change of Activity.Current costs an execution context.
            execution = new PrimitiveExecution(_node, envelope, leaveSpanCurrent: true);
            if (execution.HasEnded)
            {
                execution.Fail(execution.EndFailure(), Self);
                return;
            }
            // The run's own token: it fires at the run's deadline, so no step needs a timer of its own.
            var pending = _function(envelope.Payload, envelope.Context, envelope.Cancellation);
            if (pending.IsCompletedSuccessfully)
            {
                Complete(execution, pending.Result);
                return;
            }
            Await(execution, pending);
        }
        catch (Exception error)
        {
            if (execution is null) UnregisteredDispatch.Fail(envelope, _node, error, Self);
            else execution.Fail(error, Self);
        }
        finally
        {
            System.Diagnostics.Activity.Current = previous;
        }
    }

    /// <summary>A step that did not complete at once answers this actor by one message when it does.</summary>
    private void Await(PrimitiveExecution execution, ValueTask<StepOutcome> pending)
    {
        execution.WatchEnd(Self);
        pending.AsTask().ContinueWith(
            static (task, state) =>
            {
                var (exec, actor) = ((PrimitiveExecution, IActorRef))state!;
                actor.Tell(task.IsCompletedSuccessfully
                    ? new StepCompleted(exec, task.Result)
                    : new StepFaulted(exec, LeafStep.ErrorOf(task)));
            },
            (execution, Self),
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    private void Complete(PrimitiveExecution execution, StepOutcome outcome) => Answer(execution, LeafStep.Finish(execution, outcome, null));

    private void Answer(PrimitiveExecution execution, PrimitiveResult? answer)
    {
        if (answer is not null) execution.Inbound.ReplyTo.Tell(answer, Self);
    }

    private sealed record StepCompleted(PrimitiveExecution Execution, StepOutcome Outcome);

    private sealed record StepFaulted(PrimitiveExecution Execution, Exception Error);
}
