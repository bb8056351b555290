using Akka.TestKit.Xunit2;
using TtaActors.Actors.Context;
using TtaActors.Actors.Execution;
using TtaActors.Actors.Primitives;

namespace TtaActors.Tests.Primitives;

/// <summary>Base of the primitive specs: an actor system, and helpers to materialise and run a definition.</summary>
public abstract class PrimitiveSpec(string? config = null) : TestKit(config ?? "akka.loglevel = WARNING")
{
    protected WorkflowGraph Materialize(Primitive definition, string name = "spec") =>
        WorkflowGraph.Materialize(Sys, definition, name, new WorkflowGraphOptions { ServiceName = "tta-test" });

    protected async Task<WorkflowRunResult> Run(Primitive definition, object? input, WorkflowContext? context = null) =>
        await Materialize(definition).RunAsync(input, context, new RunOptions { Timeout = TimeSpan.FromSeconds(30) });

    /// <summary>A step that records the inputs and contexts it was called with, and fails the first <paramref name="failures"/> calls.</summary>
    protected sealed class RecordingStep(int failures = 0, Func<Exception>? error = null)
    {
        private int _calls;
        public List<(object? Input, WorkflowContext Context)> Calls { get; } = [];
        public int CallCount => Volatile.Read(ref _calls);

        public LambdaPrimitive Primitive(string name = "recording") => new((input, context, _) =>
        {
            lock (Calls) Calls.Add((input, context));
            if (Interlocked.Increment(ref _calls) <= failures) throw (error ?? (() => new InvalidOperationException("transient")))();
            return new ValueTask<StepOutcome>(new StepOutcome($"ok:{input}"));
        }, name);
    }
}
