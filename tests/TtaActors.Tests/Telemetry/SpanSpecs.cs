using System.Diagnostics;
using TtaActors.Actors.Context;
using TtaActors.Actors.Primitives;
using TtaActors.Telemetry;
using TtaActors.Tests.Primitives;
using TtaActors.Tests.Support;
using static TtaActors.Telemetry.TelemetryNames.Attributes;

namespace TtaActors.Tests.Telemetry;

public class SpanSpecs : PrimitiveSpec, IDisposable
{
    private readonly SpanRecorder _spans = new();

    private static Primitive Nested() =>
        Lambda.From<string, string>(s => s.ToUpperInvariant(), "step")
        >> (Lambda.From<string, string>(s => $"b1({s})", "b1") | Lambda.From<string, string>(s => $"b2({s})", "b2"))
        >> Lambda.From<object?[], string>(parts => string.Join(",", parts), "final");

    [Fact]
    public async Task A_nested_workflow_should_produce_one_span_tree_under_the_run_root()
    {
        var result = await Run(Nested(), "x");
        var trace = _spans.ForTrace(result.TraceId);

        Assert.Equal(7, trace.Count);
        Assert.Empty(SpanTree.Orphans(trace));
        var root = SpanTree.Single(trace, "workflow.spec");
        Assert.Equal(default, root.ParentSpanId);
        var sequential = Assert.Single(SpanTree.ChildrenOf(trace, root));
        Assert.Equal("primitive.SequentialPrimitive", sequential.DisplayName);

        var steps = SpanTree.ChildrenOf(trace, sequential);
        Assert.Equal(["primitive.step", "primitive.ParallelPrimitive", "primitive.final"], steps.Select(s => s.DisplayName));
        Assert.Equal([0, 1, 2], steps.Select(s => (int)s.GetTagItem(StepIndex)!));
        var branches = SpanTree.ChildrenOf(trace, steps[1]).OrderBy(s => (int)s.GetTagItem(BranchIndex)!).ToList();
        Assert.Equal(["primitive.b1", "primitive.b2"], branches.Select(s => s.DisplayName));
    }

    [Fact]
    public async Task Concurrent_runs_should_each_form_a_complete_tree_with_no_orphans()
    {
        var graph = Materialize(Nested());

        var results = await Task.WhenAll(Enumerable.Range(0, 64).Select(i => graph.RunAsync($"run{i}")));

        Assert.Equal(64, results.Select(r => r.TraceId).Distinct().Count());
        foreach (var result in results)
        {
            var trace = _spans.ForTrace(result.TraceId);
            Assert.Equal(7, trace.Count);
            Assert.Empty(SpanTree.Orphans(trace));
            Assert.Single(trace, s => s.ParentSpanId == default);
        }
    }

    [Fact]
    public async Task Primitive_spans_should_carry_the_contract_attributes_of_the_run_context()
    {
        var context = WorkflowContext.Create("wf-42", "session-7", "backend-engineer", "feature-implementation");

        var result = await Run(Lambda.From<int, int>(x => x + 1, "increment"), 1, context);

        var span = SpanTree.Single(_spans.ForTrace(result.TraceId), "primitive.increment");
        Assert.Equal("increment", span.GetTagItem(PrimitiveName));
        Assert.Equal("LambdaPrimitive", span.GetTagItem(PrimitiveType));
        Assert.Equal("success", span.GetTagItem(PrimitiveStatus));
        Assert.Equal("wf-42", span.GetTagItem(WorkflowId));
        Assert.Equal("session-7", span.GetTagItem(WorkflowSessionId));
        Assert.Equal(context.CorrelationId, span.GetTagItem(WorkflowCorrelationId));
        Assert.Equal("backend-engineer", span.GetTagItem(Persona));
        Assert.Equal("feature-implementation", span.GetTagItem(ChatMode));
        Assert.Equal(ActivityStatusCode.Unset, span.Status);
    }

    [Fact]
    public async Task A_failing_primitive_should_set_error_status_and_record_the_exception_event()
    {
        var result = await Run(Lambda.From<int, int>(x => x, "ok") >> Lambda.From<int, int>(_ => throw new FormatException("bad input"), "boom"), 1);
        var trace = _spans.ForTrace(result.TraceId);

        var failing = SpanTree.Single(trace, "primitive.boom");
        Assert.Equal(ActivityStatusCode.Error, failing.Status);
        Assert.Equal("bad input", failing.StatusDescription);
        Assert.Equal("error", failing.GetTagItem(PrimitiveStatus));
        var exception = Assert.Single(failing.Events, e => e.Name == "exception");
        Assert.Equal(typeof(FormatException).FullName, exception.Tags.First(t => t.Key == "exception.type").Value);
        Assert.Equal("bad input", exception.Tags.First(t => t.Key == "exception.message").Value);

        var sequential = SpanTree.Single(trace, "primitive.SequentialPrimitive");
        Assert.Equal(ActivityStatusCode.Error, sequential.Status);
        Assert.Equal("success", SpanTree.Single(trace, "primitive.ok").GetTagItem(PrimitiveStatus));
    }

    [Fact]
    public async Task A_failure_should_carry_its_stack_trace_on_every_span_it_passes_formatted_once()
    {
        var result = await Run(Lambda.From<int, int>(x => x, "ok") >> Lambda.From<int, int>(_ => throw new FormatException("bad input"), "boom"), 1);
        var trace = _spans.ForTrace(result.TraceId);

        static string StackTrace(Activity span) =>
            (string)Assert.Single(span.Events, e => e.Name == "exception").Tags.Single(t => t.Key == "exception.stacktrace").Value!;
        var atStep = StackTrace(SpanTree.Single(trace, "primitive.boom"));
        var atSequential = StackTrace(SpanTree.Single(trace, "primitive.SequentialPrimitive"));
        Assert.StartsWith("System.FormatException: bad input", atStep);
        Assert.Contains(nameof(A_failure_should_carry_its_stack_trace_on_every_span_it_passes_formatted_once), atStep);
        // The same text object on both spans: the exception was formatted for the first and reused for the second.
        Assert.Same(atStep, atSequential);
    }

    [Fact]
    public async Task Retry_attempts_should_be_child_spans_wrapping_the_inner_primitive_span()
    {
        var step = new RecordingStep(failures: 2);

        var result = await Run(new RetryPrimitive(step.Primitive("flaky"), new RetryPolicy { MaxBackoff = 0 }), "x");
        var trace = _spans.ForTrace(result.TraceId);

        var retry = SpanTree.Single(trace, "primitive.RetryPrimitive");
        var attempts = SpanTree.ChildrenOf(trace, retry);
        Assert.Equal(["retry.attempt_0", "retry.attempt_1", "retry.attempt_2"], attempts.Select(a => a.DisplayName));
        Assert.Equal([0, 1, 2], attempts.Select(a => (int)a.GetTagItem(RetryAttempt)!));
        Assert.Equal([ActivityStatusCode.Error, ActivityStatusCode.Error, ActivityStatusCode.Unset], attempts.Select(a => a.Status));
        Assert.All(attempts, a => Assert.Equal("primitive.flaky", Assert.Single(SpanTree.ChildrenOf(trace, a)).DisplayName));
    }

    [Fact]
    public async Task Router_span_should_record_the_route_and_whether_it_was_the_default()
    {
        var router = new RouterPrimitive(
            new Dictionary<string, Primitive> { ["a"] = Lambda.From<string, string>(s => s, "route-a") },
            (_, _) => "zzz", defaultRoute: "a", name: "pick");

        var result = await Run(router, "x");

        var span = SpanTree.Single(_spans.ForTrace(result.TraceId), "primitive.pick");
        Assert.Equal("a", span.GetTagItem(RouterRoute));
        Assert.Equal(true, span.GetTagItem(RouterUsedDefault));
    }

    [Fact]
    public async Task The_run_root_should_join_the_callers_current_activity()
    {
        using var source = new ActivitySource("caller");
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == "caller",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
        };
        ActivitySource.AddActivityListener(listener);
        using var request = source.StartActivity("http request")!;

        var result = await Run(Lambda.From<int, int>(x => x, "leaf"), 1);

        Assert.Equal(request.TraceId.ToHexString(), result.TraceId);
        var root = SpanTree.Single(_spans.ForTrace(result.TraceId), $"{TelemetryNames.Spans.WorkflowRunPrefix}spec");
        Assert.Equal(request.SpanId, root.ParentSpanId);
    }

    public new void Dispose()
    {
        _spans.Dispose();
        base.Dispose();
    }
}
