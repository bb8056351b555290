using System.Text.Json.Nodes;
using Akka.TestKit.Xunit2;
using TtaActors.Actors.Execution;
using TtaActors.Actors.Llm;
using TtaActors.Actors.Primitives;
using TtaActors.Runtime.Workflows;
using TtaActors.Llm.Providers;

namespace TtaActors.Tests.WorkflowFiles;

public class WorkflowFileBuilderSpecs() : TestKit("akka.loglevel = WARNING")
{
    private WorkflowStepServices Services(HttpClient? http = null) => new(
        http ?? new HttpClient(),
        _ => null,
        (definition, name) => WorkflowGraph.Materialize(Sys, definition, name, new WorkflowGraphOptions { ServiceName = "tta-test" }));

    private async Task<WorkflowRunResult> RunAsync(string yaml, string input)
    {
        var (document, problems) = WorkflowFileParser.Parse(yaml, "spec.yaml", "spec");
        Assert.Empty(problems);
        var root = WorkflowFileBuilder.Build(document!, Services());
        var graph = WorkflowGraph.Materialize(Sys, root, document!.Name);
        return await graph.RunAsync(JsonNode.Parse(input), options: new RunOptions { Timeout = TimeSpan.FromSeconds(30) });
    }

    [Fact]
    public void A_file_compiles_to_the_same_primitives_code_builds()
    {
        var (document, _) = WorkflowFileParser.Parse("""
            - set: {a: 1}
            - router: {by: $.a, routes: {"1": {template: "one"}}}
            - parallel: [{template: "x"}, {retry: {max_retries: 1, do: {template: "y"}}}]
            - fallback: {do: {template: "d"}, otherwise: {timeout: {seconds: 2, do: {template: "t"}}}}
            """, "spec.yaml", "spec");
        var root = Assert.IsType<SequentialPrimitive>(WorkflowFileBuilder.Build(document!, Services()));
        Assert.Equal(["LambdaPrimitive", "RouterPrimitive", "ParallelPrimitive", "FallbackPrimitive"], root.Steps.Select(s => s.TypeName));
        Assert.Equal("set", root.Steps[0].Name);
        Assert.IsType<RetryPrimitive>(((ParallelPrimitive)root.Steps[2]).Branches[1]);
        var timeout = Assert.IsType<TimeoutPrimitive>(((FallbackPrimitive)root.Steps[3]).Fallback);
        Assert.Equal(TimeSpan.FromSeconds(2), timeout.Timeout);
    }

    [Fact]
    public async Task Fallback_raises_the_primarys_error_when_both_fail()
    {
        var result = await RunAsync("""
            - fallback:
                do: {router: {by: $.k, routes: {a: {template: "a"}}}}
                otherwise: {http: {url: "{{ input.nowhere | raw }}"}}
            """, """{"k": "zz"}""");
        Assert.False(result.Succeeded);
        Assert.Equal(typeof(RouteNotFoundException).FullName, result.Failure!.ErrorType);
        Assert.Contains("'zz'", result.Failure.Message);
    }

    [Fact]
    public async Task Fallback_never_runs_the_fallback_when_the_primary_succeeds()
    {
        var result = await RunAsync("""
            - fallback:
                do: {template: "primary {{ input.k }}"}
                otherwise: {http: {url: "{{ input.nowhere | raw }}"}}
            """, """{"k": "ok"}""");
        Assert.True(result.Succeeded, result.Failure?.ToString());
        Assert.Equal("primary ok", JsonData.ToText((JsonNode?)result.Output));
    }

    [Fact]
    public void An_llm_step_without_an_llm_provider_is_a_located_build_problem()
    {
        var (document, problems) = WorkflowFileParser.Parse("- template: a\n- llm: {model: m, prompt: p}\n", "spec.yaml", "spec");
        Assert.Empty(problems);
        var error = Assert.Throws<WorkflowFileException>(() => WorkflowFileBuilder.Build(document!, Services()));
        var problem = Assert.Single(error.Problems);
        Assert.Equal((2, 3), (problem.At.Line, problem.At.Column));
        Assert.Contains("no LLM chat client is configured", problem.Message);
    }

    [Fact]
    public async Task An_llm_step_renders_its_templates_and_answers_with_the_completion_text()
    {
        using var settings = new LlmSettings(LlmProviders.Create());
        var services = Services() with { Llm = new LlmFileSteps(settings) };
        var (document, _) = WorkflowFileParser.Parse("""
            - llm: {provider: offline, system: "You are {{ context.persona }}.", prompt: "Name three colours of {{ input.thing }}.", max_tokens: 20}
            - set: {answer: "{{ input }}"}
            """, "spec.yaml", "spec");
        var graph = WorkflowGraph.Materialize(Sys, WorkflowFileBuilder.Build(document!, services), "llm-spec");
        var result = await graph.RunAsync(JsonNode.Parse("""{"thing": "the sea"}"""),
            Actors.Context.WorkflowContext.Create(persona: "poet"), new RunOptions { Timeout = TimeSpan.FromSeconds(30) });

        Assert.True(result.Succeeded, result.Failure?.ToString());
        Assert.False(string.IsNullOrWhiteSpace((string?)((JsonNode)result.Output!)["answer"]));
        var call = Assert.Single(result.Context.LlmCalls);
        Assert.Equal("offline", call.Provider);
        Assert.True(call.InputTokens > 0);
    }

    [Fact]
    public void An_llm_step_on_an_unknown_provider_is_a_located_build_problem()
    {
        using var settings = new LlmSettings(LlmProviders.Create());
        var (document, _) = WorkflowFileParser.Parse("- llm: {provider: nonesuch, model: m, prompt: p}\n", "spec.yaml", "spec");
        var error = Assert.Throws<WorkflowFileException>(() =>
            WorkflowFileBuilder.Build(document!, Services() with { Llm = new LlmFileSteps(settings) }));
        var problem = Assert.Single(error.Problems);
        Assert.Equal((1, 3), (problem.At.Line, problem.At.Column));
        Assert.Contains("nonesuch", problem.Message);
    }

    [Fact]
    public async Task Code_and_file_workflows_share_one_registry_and_run_the_same_way()
    {
        var directory = Directory.CreateTempSubdirectory("tta-registry-").FullName;
        try
        {
            await File.WriteAllTextAsync(Path.Combine(directory, "from-file.yaml"), "- template: \"file {{ input }}\"\n");
            await File.WriteAllTextAsync(Path.Combine(directory, "broken.yaml"), "- nope: 1\n");
            var registry = new WorkflowRegistry(Services());
            registry.Register("from-code", Lambda.From<JsonNode?, string>(input => $"code {input}"));
            var loaded = registry.LoadDirectory(directory);

            Assert.Equal([("broken", false), ("from-file", true)], loaded.Select(w => (w.Name, w.Valid)));
            Assert.Equal(["broken", "from-code", "from-file"], registry.List().Select(w => w.Name));
            Assert.NotNull(registry.FindInvalid("broken"));
            foreach (var name in new[] { "from-code", "from-file" })
            {
                Assert.True(registry.TryGet(name, out var workflow));
                var result = await workflow.Graph.RunAsync(workflow.AdaptInput(JsonValue.Create("x")));
                Assert.EndsWith(" x", JsonData.ToText(JsonData.ToNode(result.Output)));
            }
            Assert.Throws<InvalidOperationException>(() => registry.Register("from-file", Lambda.From<object?, object?>(x => x)));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
