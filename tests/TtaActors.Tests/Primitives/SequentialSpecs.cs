using TtaActors.Actors.Context;
using TtaActors.Actors.Primitives;

namespace TtaActors.Tests.Primitives;

public class SequentialSpecs : PrimitiveSpec
{
    [Fact]
    public async Task Sequential_should_feed_each_step_the_output_of_the_previous_one_in_order()
    {
        var order = new List<string>();
        Primitive Step(string name) => Lambda.From<string, string>(s =>
        {
            lock (order) order.Add(name);
            return s + name;
        }, name);

        var result = await Run(Step("a") >> Step("b") >> Step("c"), ">");

        Assert.True(result.Succeeded);
        Assert.Equal(">abc", result.Output);
        Assert.Equal(["a", "b", "c"], order);
    }

    [Fact]
    public void Sequential_should_refuse_an_empty_list_of_steps()
    {
        var error = Assert.Throws<ArgumentException>(() => new SequentialPrimitive([]));
        Assert.Contains("at least one step", error.Message);
    }

    [Fact]
    public void Shift_operator_should_flatten_unnamed_chains_but_keep_named_ones()
    {
        var a = Lambda.From<int, int>(x => x, "a");
        var b = Lambda.From<int, int>(x => x, "b");
        var c = Lambda.From<int, int>(x => x, "c");

        var flat = a >> b >> c;
        Assert.Equal(["a", "b", "c"], flat.Steps.Select(s => s.DisplayName));

        var named = (a >> b).Named("first-two") >> c;
        Assert.Equal(["first-two", "c"], named.Steps.Select(s => s.DisplayName));
    }

    [Fact]
    public async Task Each_step_should_get_a_child_context_whose_state_writes_do_not_leak_forward()
    {
        WorkflowContext? seenBySecond = null;
        var writer = Lambda.WithContext<int, int>((x, ctx) => (x + 1, ctx.WithState("written", true)), "writer");
        var reader = Lambda.From<int, int>((x, ctx) =>
        {
            seenBySecond = ctx;
            return x;
        }, "reader");
        var root = WorkflowContext.Create(persona: "backend-engineer");

        var result = await Run(writer >> reader, 1, root);

        Assert.Equal(2, result.Output);
        Assert.NotNull(seenBySecond);
        Assert.False(seenBySecond!.State.ContainsKey("written"));
        Assert.Equal(root.WorkflowId, seenBySecond.WorkflowId);
        Assert.Equal("backend-engineer", seenBySecond.Persona);
        Assert.Equal(root.CorrelationId, seenBySecond.CausationId);
    }

    [Fact]
    public async Task A_failing_step_should_stop_the_sequence_and_name_its_path()
    {
        var after = new RecordingStep();
        var failing = Lambda.From<int, int>(_ => throw new FormatException("bad number"), "parse");

        var result = await Run(Lambda.From<int, int>(x => x, "first") >> failing >> after.Primitive("after"), 1);

        Assert.False(result.Succeeded);
        Assert.Equal("spec/SequentialPrimitive/parse[1]", result.Failure!.PrimitivePath);
        Assert.IsType<FormatException>(result.Failure.Exception);
        Assert.Equal("bad number", result.Failure.Message);
        Assert.Equal(0, after.CallCount);
    }
}
