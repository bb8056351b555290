using System.Text;
using TtaActors.Runtime.Workflows;

namespace TtaActors.Tests.WorkflowFiles;

/// <summary>
/// Files written to hurt the node: alias bombs, self-referencing aliases, deep nesting, huge files and numbers no
/// duration can hold. Each is one located problem, read in bounded time and memory, never a crash.
/// </summary>
public class HostileFileSpecs
{
    private static WorkflowProblem SingleProblem(string yaml, WorkflowFileLimits? limits = null)
    {
        var (document, problems) = WorkflowFileParser.Parse(yaml, "hostile.yaml", "hostile", limits);
        Assert.Null(document);
        return Assert.Single(problems);
    }

    [Fact]
    public void A_self_referencing_alias_is_refused_where_it_is_used()
    {
        var problem = SingleProblem("steps: &s [ {template: x}, {parallel: [*s]} ]\n");
        Assert.Equal((1, 40), (problem.At.Line, problem.At.Column));
        Assert.Contains("Alias '*s' is used inside the anchor '&s'", problem.Message);
        Assert.Equal("hostile.yaml", problem.At.File);
    }

    [Fact]
    public void A_billion_laughs_file_is_refused_by_its_expanded_node_count_after_one_reading()
    {
        var yaml = new StringBuilder("- set:\n    a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
        var previous = "a";
        foreach (var name in new[] { "b", "c", "d", "e", "f", "g", "h", "i" })
        {
            yaml.Append($"    {name}: &{name} [{string.Join(",", Enumerable.Repeat("*" + previous, 9))}]\n");
            previous = name;
        }
        var before = GC.GetAllocatedBytesForCurrentThread();
        var problem = SingleProblem(yaml.ToString());
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Contains($"more than {WorkflowFileLimits.Default.MaxNodes} YAML nodes", problem.Message);
        // 9^9 strings written out would be gigabytes; refused while reading, it costs what the 1 KB file costs.
        Assert.True(allocated < 16 * 1024 * 1024, $"allocated {allocated} bytes");
        Assert.Equal(6, problem.At.Line);
    }

    [Fact]
    public void Aliases_count_what_they_stand_for_in_depth_and_in_number_of_uses()
    {
        var nested = string.Concat(Enumerable.Repeat("[", 40)) + "1" + string.Concat(Enumerable.Repeat("]", 40));
        var deepAlias = SingleProblem($"- set:\n    a: &deep {nested}\n    b: [[[[[[[[[[[[[[[[[[[[[[[[[*deep]]]]]]]]]]]]]]]]]]]]]]]]]\n");
        Assert.Contains("nested more than 64 levels", deepAlias.Message);
        Assert.Equal(3, deepAlias.At.Line);

        var uses = string.Join(", ", Enumerable.Repeat("*x", 5));
        var tooMany = SingleProblem($"- set:\n    a: &x 1\n    b: [{uses}]\n", new WorkflowFileLimits { MaxAliases = 4 });
        Assert.Contains("more than 4 aliases (MaxAliases)", tooMany.Message);

        var (document, problems) = WorkflowFileParser.Parse($"- set:\n    a: &x 1\n    b: [{uses}]\n", "ok.yaml", "ok", new WorkflowFileLimits { MaxAliases = 5 });
        Assert.Empty(problems);
        Assert.NotNull(document);
    }

    [Fact]
    public void Nesting_is_bounded_at_the_documented_depth_without_overflowing_the_stack()
    {
        static string Nested(int depth) => "- set: " + new string('[', depth) + "1" + new string(']', depth) + "\n";
        var limit = WorkflowFileLimits.Default.MaxDepth;
        // The step list and the step mapping are two levels, so the data may nest limit - 2 levels.
        Assert.Empty(WorkflowFileParser.Parse(Nested(limit - 2), "ok.yaml", "ok").Problems);
        var problem = SingleProblem(Nested(limit - 1));
        Assert.Contains($"nested more than {limit} levels deep (MaxDepth)", problem.Message);

        var tenThousand = SingleProblem(Nested(10_000));
        Assert.Equal(1, tenThousand.At.Line);
        var lists = SingleProblem(new string('[', 10_000) + "{template: x}" + new string(']', 10_000));
        Assert.Contains("MaxDepth", lists.Message);
    }

    [Fact]
    public void A_file_larger_than_the_limit_is_refused_before_it_is_read()
    {
        var path = Path.Combine(Path.GetTempPath(), $"tta-huge-{Guid.NewGuid():N}.yaml");
        try
        {
            File.WriteAllText(path, "- template: \"" + new string('x', 2048) + "\"\n");
            var (document, problems) = WorkflowFileParser.ParseFile(path, new WorkflowFileLimits { MaxFileBytes = 1024 });
            Assert.Null(document);
            var problem = Assert.Single(problems);
            Assert.Equal((path, 1, 1), (problem.At.File, problem.At.Line, problem.At.Column));
            Assert.Contains("more than the limit of 1024 bytes", problem.Message);
            Assert.Empty(WorkflowFileParser.ParseFile(path).Problems);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData("- timeout: {seconds: 1e12, do: {template: x}}", "'seconds' must be a number from 0.001 to 86400; found '1e12'")]
    [InlineData("- timeout: {seconds: 1e-9, do: {template: x}}", "'seconds' must be a number from 0.001 to 86400")]
    [InlineData("- timeout: {seconds: 0, do: {template: x}}", "'seconds' must be a number from 0.001")]
    [InlineData("- http: {url: \"http://x.test\", timeout_seconds: 5000000}", "'timeout_seconds' must be a number from 0.001 to 86400; found '5000000'")]
    [InlineData("- http: {url: \"http://x.test\", timeout_seconds: .nan}", "'timeout_seconds' must be a number")]
    [InlineData("- http: {url: \"http://x.test\", expect: 600}", "'expect' must be a whole number from 100 to 599")]
    [InlineData("- retry: {max_retries: 2147483648, do: {template: x}}", "'max_retries' must be a whole number from 0 to 100")]
    [InlineData("- retry: {max_retries: 101, do: {template: x}}", "'max_retries' must be a whole number from 0 to 100")]
    [InlineData("- retry: {backoff_base: 1e308, do: {template: x}}", "'backoff_base' must be a number from 0 to 3600")]
    [InlineData("- retry: {max_backoff: 86401, do: {template: x}}", "'max_backoff' must be a number from 0 to 86400")]
    [InlineData("- retry: {max_backoff: -1, do: {template: x}}", "'max_backoff' must be a number from 0 to 86400")]
    [InlineData("- llm: {prompt: p, max_tokens: 1000001}", "'max_tokens' must be a whole number from 1 to 1000000")]
    [InlineData("- llm: {prompt: p, temperature: 2.5}", "'temperature' must be a number from 0 to 2")]
    public void Every_number_is_bounded_and_an_out_of_range_value_is_a_located_problem(string yaml, string message)
    {
        var problem = SingleProblem(yaml + "\n");
        Assert.Contains(message, problem.Message);
        Assert.Equal(1, problem.At.Line);
        Assert.True(problem.At.Column > 3, $"column {problem.At.Column} should point at the value");
    }

    [Fact]
    public void The_largest_allowed_numbers_build_into_primitives()
    {
        var (document, problems) = WorkflowFileParser.Parse("""
            - timeout: {seconds: 86400, do: {retry: {max_retries: 100, backoff_base: 3600, max_backoff: 86400, do: {template: x}}}}
            - http: {url: "http://x.test", timeout_seconds: 86400, expect: [100, 599]}
            """, "max.yaml", "max");
        Assert.Empty(problems);
        using var http = new HttpClient();
        var services = new WorkflowStepServices(http, _ => null, (_, _) => throw new InvalidOperationException("not materialised here"));
        Assert.NotNull(WorkflowFileBuilder.Build(document!, services));
    }
}
