using System.Diagnostics;
using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using TtaActors.Actors.Execution;
using TtaActors.Actors.Primitives;
using TtaActors.Actors.Typed;
using TtaActors.Telemetry;
using TtaActors.Tests.Primitives;
using TtaActors.Tests.Support;

namespace TtaActors.Tests.Typed;

/// <summary>
/// The typed API: composition checked by the compiler, Parallel answering tuples and records, selectors on the typed
/// input, the fluent wrappers, a typed run result, and the very same primitives (so the same spans) as the untyped API.
/// </summary>
public sealed class TypedStepSpecs : PrimitiveSpec
{
    private sealed record Ticket(string Kind, string Text);

    private sealed record Page(string Summary, int Words);

    private static readonly Step<string, string> Trim = Step.From<string, string>(s => s.Trim(), "trim");
    private static readonly Step<string, int> Length = Step.From<string, int>(s => s.Length, "length");
    private static readonly Step<string, string[]> Words = Step.From<string, string[]>(s => s.Split(' '), "words");
    private static readonly Step<string, bool> Shouting = Step.From<string, bool>(s => s == s.ToUpperInvariant(), "shouting");

    private WorkflowGraph<TIn, TOut> Materialize<TIn, TOut>(Step<TIn, TOut> workflow, string name = "typed") =>
        workflow.Materialize(Sys, name, new WorkflowGraphOptions { ServiceName = "tta-test" });

    [Fact]
    public async Task Then_and_the_shift_operator_should_feed_each_step_what_the_one_before_answered()
    {
        var viaThen = Materialize(Trim.Then(Length));
        var viaOperator = Materialize(Trim >> Length >> Step.From<int, string>(n => $"{n} chars", "describe"));

        Assert.Equal(5, await viaThen.ExecuteAsync("  hello "));
        Assert.Equal("5 chars", await viaOperator.ExecuteAsync("  hello "));
    }

    [Fact]
    public async Task Parallel_of_two_branches_should_answer_a_tuple_in_branch_order_to_the_next_step()
    {
        var report = Step.From<(int Length, string[] Words), string>(p => $"{p.Length}:{string.Join("+", p.Words)}", "report");

        var result = await Materialize((Length | Words) >> report).RunAsync("a bc");

        Assert.True(result.Succeeded, result.Failure?.ToString());
        Assert.Equal("4:a+bc", result.Output);
    }

    [Fact]
    public async Task Chained_bars_should_make_one_parallel_of_every_branch_answering_one_flat_tuple()
    {
        var workflow = Length | Words | Shouting | Trim;

        var parallel = Assert.IsType<ParallelPrimitive>(workflow.Primitive);
        Assert.Equal(new[] { "length", "words", "shouting", "trim" }, parallel.Branches.Select(b => b.DisplayName));
        var (length, words, shouting, trimmed) = await Materialize(workflow).ExecuteAsync("AB C ");
        Assert.Equal((5, 3, true, "AB C"), (length, words.Length, shouting, trimmed));
    }

    [Fact]
    public async Task A_bar_after_a_step_that_answers_a_tuple_itself_should_splice_its_answer_into_the_wider_tuple()
    {
        var pair = Step.From<string, (int, bool)>(s => (s.Length, s.Contains(' ')), "pair");

        var workflow = pair | Trim;

        Assert.Equal(2, Assert.IsType<ParallelPrimitive>(workflow.Primitive).Branches.Count);
        Assert.Equal((3, true, "a b"), await Materialize(workflow).ExecuteAsync("a b"));
    }

    [Fact]
    public async Task Parallel_with_a_combine_function_should_answer_a_record()
    {
        var page = Step.Parallel(Trim, Step.From<string, int>(s => s.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length, "count"),
            (summary, words) => new Page(summary, words), "page");

        Assert.Equal(new Page("two words", 2), await Materialize(page).ExecuteAsync(" two words "));
        Assert.Equal("page", page.DisplayName);
    }

    [Fact]
    public async Task Parallel_of_many_branches_of_one_type_should_answer_their_outputs_as_a_list()
    {
        var branches = Enumerable.Range(1, 5).Select(i => Step.From<int, int>(n => n * i, $"times-{i}"));

        Assert.Equal(new[] { 2, 4, 6, 8, 10 }, await Materialize(Step.Parallel(branches)).ExecuteAsync(2));
    }

    [Fact]
    public async Task Router_should_select_on_the_typed_input_and_record_the_decision()
    {
        var reply = Step.From<Ticket, string>(t => "fix " + t.Text, "fix");
        var answer = Step.From<Ticket, string>(t => "answer " + t.Text, "answer");
        var triage = Step.Router(t => t.Kind, [("bug", reply), ("question", answer)], defaultRoute: "question");

        var graph = Materialize(triage);
        var bug = await graph.RunAsync(new Ticket("bug", "crash"));
        var other = await graph.RunAsync(new Ticket("praise", "thanks"));

        Assert.Equal("fix crash", bug.Output);
        Assert.Equal("answer thanks", other.Output);
        Assert.Equal(("question", true), (other.Context.RoutingHistory.Single().Route, other.Context.RoutingHistory.Single().UsedDefault));
    }

    [Fact]
    public async Task Switch_and_If_without_a_default_should_pass_the_typed_input_through_unchanged()
    {
        var upper = Step.From<string, string>(s => s.ToUpperInvariant(), "upper");
        var graph = Materialize(Step.Switch<string>(s => s.StartsWith('!') ? "loud" : null, [("loud", upper)])
            >> Step.If<string>(s => s.Length > 3, Step.From<string, string>(s => s[..3], "cut")));

        Assert.Equal("!HE", await graph.ExecuteAsync("!hey"));
        Assert.Equal("hi", await graph.ExecuteAsync("hi"));
    }

    [Fact]
    public async Task The_fluent_wrappers_should_build_the_catalog_primitives_around_the_step()
    {
        var flaky = new RecordingStep(failures: 2);
        var retried = Step.Of<string, string>(flaky.Primitive("flaky")).WithRetry(maxRetries: 2, maxBackoff: 0, jitter: false);
        var fallback = Step.Of<string, string>(MockPrimitive.Raising(new InvalidOperationException("down")))
            .WithFallback(Step.From<string, string>(s => "spare " + s, "spare"));
        var cached = Trim.WithCache(TimeSpan.FromMinutes(5), key: s => s.Trim());
        var guarded = Trim.WithCircuitBreaker(failureThreshold: 3, TimeSpan.FromSeconds(30)).WithTimeout(TimeSpan.FromMinutes(1));

        Assert.Equal("ok:x", await Materialize(retried).ExecuteAsync("x"));
        Assert.Equal(3, flaky.CallCount);
        Assert.Equal("spare x", await Materialize(fallback).ExecuteAsync("x"));
        var cache = Materialize(cached, "cached");
        await cache.ExecuteAsync(" a ");
        await cache.ExecuteAsync("a");
        Assert.Equal(1, Assert.IsType<CachePrimitive>(cached.Primitive).Statistics.Hits);
        var timeout = Assert.IsType<TimeoutPrimitive>(guarded.Primitive);
        Assert.Equal(3, Assert.IsType<CircuitBreakerPrimitive>(timeout.Inner).Policy.FailureThreshold);
        Assert.Equal("a", await Materialize(guarded).ExecuteAsync(" a"));
    }

    [Fact]
    public async Task A_failed_typed_run_should_answer_the_failure_with_the_primitive_path_and_the_original_error()
    {
        var failing = Trim >> Step.From<string, int>(s => int.Parse(s, System.Globalization.CultureInfo.InvariantCulture), "parse");

        var result = await Materialize(failing, "parsing").RunAsync("not a number");

        Assert.False(result.Succeeded);
        Assert.Equal(0, result.Output);
        Assert.IsType<FormatException>(result.Failure!.Exception);
        Assert.Equal("parsing/SequentialPrimitive/parse[1]", result.Failure.PrimitivePath);
    }

    [Fact]
    public async Task A_step_vouched_for_with_the_wrong_type_should_fail_its_run_naming_both_types()
    {
        var lying = Step.Of<string, int>(Lambda.From<string, string>(s => s, "echo"));

        var result = await Materialize(lying, "lying").RunAsync("x");

        var error = Assert.IsType<InvalidCastException>(result.Failure!.Exception);
        Assert.Contains("Workflow 'lying' expects Int32 but was given String", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_typed_workflow_should_give_the_same_span_names_and_types_as_the_untyped_one()
    {
        using var spans = new SpanRecorder();
        var fetch = Step.From<string, string>(s => s, "fetch");
        var keywords = Step.From<string, string[]>(s => s.Split(' '), "keywords");
        var report = Step.From<(string, string[]), string>(p => $"{p.Item1} / {p.Item2.Length}", "report");
        var typed = fetch.WithRetry(maxRetries: 1) >> (Trim | keywords) >> report;
        var untyped = new RetryPrimitive(Lambda.From<string, string>(s => s, "fetch"), maxRetries: 1)
            >> (Lambda.From<string, string>(s => s.Trim(), "trim") | Lambda.From<string, string[]>(s => s.Split(' '), "keywords"))
            >> Lambda.From<object?[], string>(p => $"{p[0]} / {((string[])p[1]!).Length}", "report");

        var typedRun = await Materialize(typed, "same-spans").RunAsync("a b");
        var untypedRun = await WorkflowGraph.Materialize(Sys, untyped, "same-spans").RunAsync("a b");

        Assert.Equal(untypedRun.Output, typedRun.Output);
        Assert.Equal(Shape(spans.ForTrace(untypedRun.TraceId)), Shape(spans.ForTrace(typedRun.TraceId)));
        Assert.Contains("primitive.ParallelPrimitive|ParallelPrimitive", Shape(spans.ForTrace(typedRun.TraceId)));
    }

    private static string[] Shape(IReadOnlyList<Activity> trace) =>
        trace.Select(s => $"{s.DisplayName}|{s.GetTagItem(TelemetryNames.Attributes.PrimitiveType)}").Order(StringComparer.Ordinal).ToArray();

    [Fact]
    public void A_mistyped_composition_should_not_compile_and_the_error_should_point_at_it()
    {
        const string program = """
            using TtaActors.Actors.Typed;
            var length = Step.From<string, int>(s => s.Length);
            var shout = Step.From<string, string>(s => s.ToUpperInvariant());
            var fine = length >> Step.From<int, int>(n => n + 1);
            var wrong = length >> shout;
            var alsoWrong = length.Then(shout);
            """;
        var references = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Append(typeof(Step).Assembly.Location)
            .Select(path => MetadataReference.CreateFromFile(path));
        var compilation = CSharpCompilation.Create("mistyped", [CSharpSyntaxTree.ParseText(program, path: "Program.cs")], references,
            new CSharpCompilationOptions(OutputKind.ConsoleApplication, nullableContextOptions: NullableContextOptions.Enable));

        var errors = compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error)
            .Select(d => (d.Id, Line: d.Location.GetLineSpan().StartLinePosition.Line + 1)).ToArray();

        Assert.Equal(new[] { ("CS0019", 5), ("CS1503", 6) }, errors);
    }
}
