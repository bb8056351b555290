using System.Diagnostics;
using System.Runtime.ExceptionServices;
using TtaActors.Actors.Primitives;
using TtaActors.Tests.Primitives;
using TtaActors.Tests.Support;

namespace TtaActors.Tests.Performance;

/// <summary>
/// Properties of the traced hot path that the benchmark found costly when broken. No timing here: each spec
/// checks the cause (work that should not happen), not the clock.
/// </summary>
public class TracedHotPathSpecs : PrimitiveSpec, IDisposable
{
    private readonly SpanRecorder _spans = new();

    [Fact]
    public async Task A_traced_sequential_run_should_never_make_Activity_throw_internally()
    {
        // Activity throws and catches an InvalidOperationException of its own whenever a stopped span is assigned to
        // Activity.Current; before EndSpan guarded against it, every synchronous leaf step did so once.
        var internalErrors = 0;
        void Count(object? sender, FirstChanceExceptionEventArgs args)
        {
            if (args.Exception.TargetSite?.DeclaringType == typeof(Activity)) Interlocked.Increment(ref internalErrors);
        }
        var steps = Enumerable.Range(0, 10).Select(i => (Primitive)Lambda.From<int, int>(x => x + 1, $"step-{i}"));

        AppDomain.CurrentDomain.FirstChanceException += Count;
        WorkflowRunResultSummary summary;
        try
        {
            var result = await Run(new SequentialPrimitive(steps), 0);
            summary = new(result.Output, _spans.ForTrace(result.TraceId).Count);
        }
        finally
        {
            AppDomain.CurrentDomain.FirstChanceException -= Count;
        }

        Assert.Equal(10, summary.Output);
        Assert.Equal(12, summary.Spans);
        Assert.Equal(0, internalErrors);
    }

    private sealed record WorkflowRunResultSummary(object? Output, int Spans);

    public new void Dispose()
    {
        _spans.Dispose();
        base.Dispose();
    }
}
