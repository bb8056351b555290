using System.Text.RegularExpressions;
using TtaActors.Runtime.Workflows;

namespace TtaActors.Tests.WorkflowFiles;

public class WorkflowFileParserSpecs
{
    private static IReadOnlyList<WorkflowProblem> Problems(string yaml, string file = "spec.yaml")
    {
        var (document, problems) = WorkflowFileParser.Parse(yaml, file, "spec");
        Assert.Equal(problems.Count == 0, document is not null);
        return problems;
    }

    [Fact]
    public void Every_problem_of_a_file_is_reported_with_its_line_and_column()
    {
        var problems = Problems("""
            steps:
              - shout: "hi"
              - http:
                  url: "http://example.test"
                  methd: GET
              - retry:
                  max_retries: -1
                  do: {template: "x"}
              - router:
                  by: $.kind
                  routes: {a: {template: "a"}}
                  default: b
            extra: 1
            """);

        (int Line, int Column, string Start)[] expected =
        [
            (2, 5, "Unknown step kind 'shout'"), (5, 7, "Unknown key 'methd' in http"), (7, 20, "'max_retries' must be a whole number"),
            (12, 16, "Default route 'b' is not one of the routes (a)"), (13, 1, "Unknown key 'extra' in the workflow"),
        ];
        Assert.Equal(expected.Length, problems.Count);
        foreach (var (want, got) in expected.Zip(problems))
        {
            Assert.Equal((want.Line, want.Column), (got.At.Line, got.At.Column));
            Assert.StartsWith(want.Start, got.Message);
        }
        Assert.All(problems, p => Assert.Equal("spec.yaml", p.At.File));
    }

    [Fact]
    public void Malformed_yaml_is_reported_where_the_parser_stopped()
    {
        var problem = Assert.Single(Problems("- template: \"fine\"\n- set:\n    items: [1, 2\n- template: \"after\"\n"));
        Assert.StartsWith("Not valid YAML", problem.Message);
        Assert.Equal(3, problem.At.Line);
    }

    [Fact]
    public void An_unquoted_template_gets_told_to_quote_it()
    {
        var problem = Assert.Single(Problems("- set:\n    a: {{ input.x }}\n"));
        Assert.Contains("must be quoted", problem.Message);
        Assert.Equal(2, problem.At.Line);
    }

    [Fact]
    public void Environment_variables_are_readable_in_http_headers_only()
    {
        var problem = Assert.Single(Problems("""
            - http:
                url: "http://example.test/{{ env.HOME }}"
                headers: {Authorization: "Bearer {{ env.API_TOKEN }}"}
            """));
        Assert.Equal((2, 10), (problem.At.Line, problem.At.Column));
        Assert.Contains("only be read in http headers", problem.Message);
    }

    [Fact]
    public void A_step_with_two_kinds_and_a_step_with_none_are_errors()
    {
        var problems = Problems("""
            - template: "a"
              set: {b: 1}
            - name: lonely
            """);
        Assert.Equal(2, problems.Count);
        Assert.Contains("exactly one kind", problems[0].Message);
        Assert.Contains("has no kind", problems[1].Message);
    }

    [Fact]
    public void Json_files_follow_the_same_schema()
    {
        var (document, problems) = WorkflowFileParser.Parse(
            """{"name": "j", "steps": [{"set": {"n": 1, "t": "{{ input }}"}}, {"parallel": [{"template": "a"}, [{"template": "b"}]]}]}""",
            "spec.json", "spec");
        Assert.Empty(problems);
        Assert.Equal("j", document!.Name);
        var steps = Assert.IsType<SequenceSpec>(document.Root).Steps;
        Assert.IsType<SetSpec>(steps[0]);
        Assert.Equal(2, Assert.IsType<ParallelSpec>(steps[1]).Branches.Count);

        var problem = Assert.Single(Problems("""[{"template": "a", "colour": "red"}]""", "spec.json"));
        Assert.Equal((1, 20), (problem.At.Line, problem.At.Column));
    }

    [Fact]
    public void Every_step_kind_parses_into_its_spec()
    {
        var (document, problems) = WorkflowFileParser.Parse("""
            - name: all
              parallel:
                - template: "t"
                - set: {a: 1}
                - http: {method: post, url: "http://x.test", body: "text", expect: [200, 201], timeout_seconds: 2}
                - llm: {provider: openai, model: m, prompt: "p {{ input }}", system: "s", temperature: 0.2, max_tokens: 10}
                - router: {by: "{{ context.persona }}", routes: {a: {template: "a"}}}
                - retry: {max_retries: 1, backoff_base: 3, max_backoff: 4, jitter: false, do: {template: "r"}}
                - fallback: {do: {template: "d"}, otherwise: {template: "o"}}
                - timeout: {seconds: 1.5, do: {template: "d"}}
            """, "kinds.yaml", "kinds");
        Assert.Empty(problems);
        var branches = Assert.IsType<ParallelSpec>(Assert.IsType<SequenceSpec>(document!.Root).Steps[0]).Branches;
        Assert.Equal(["template", "set", "http", "llm", "router", "retry", "fallback", "timeout"], branches.Select(b => b.Kind));
        var http = Assert.IsType<HttpSpec>(branches[2]);
        Assert.Equal(HttpMethod.Post, http.Method);
        Assert.Equal([200, 201], http.Expect);
        var retry = Assert.IsType<RetrySpec>(branches[5]);
        Assert.Equal((1, 3.0, 4.0, false), (retry.Policy.MaxRetries, retry.Policy.BackoffBase, retry.Policy.MaxBackoff, retry.Policy.Jitter));
        Assert.Equal(1.5, Assert.IsType<TimeoutSpec>(branches[7]).Seconds);
    }

    [Fact]
    public void The_documented_examples_and_the_shipped_workflows_are_valid()
    {
        var root = RepositoryRoot();
        var documentation = File.ReadAllText(Path.Combine(root, "docs", "workflow-files.md"));
        var blocks = Regex.Matches(documentation, "```yaml\n(.*?)```", RegexOptions.Singleline).Select(m => m.Groups[1].Value).ToList();
        Assert.True(blocks.Count >= 3, "docs/workflow-files.md should hold its YAML examples.");
        foreach (var block in blocks) Assert.Empty(Problems(block, "docs/workflow-files.md"));

        var examples = Directory.GetFiles(Path.Combine(root, "examples", "workflows"));
        Assert.NotEmpty(examples);
        foreach (var file in examples) Assert.Empty(WorkflowFileParser.ParseFile(file).Problems);
    }

    private static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (!File.Exists(Path.Combine(directory.FullName, "TtaActors.sln"))) directory = directory.Parent!;
        return directory.FullName;
    }
}
