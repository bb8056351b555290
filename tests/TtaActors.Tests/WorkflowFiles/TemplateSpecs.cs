using System.Text.Json.Nodes;
using TtaActors.Actors.Context;
using TtaActors.Runtime.Workflows;

namespace TtaActors.Tests.WorkflowFiles;

public class TemplateSpecs
{
    private static readonly WorkflowContext Context = WorkflowContext.Create("wf", "session-1", "backend-engineer", "review", "tta-test")
        .WithState("count", 3);

    private static TemplateScope Scope(string inputJson, Func<string, string?>? env = null) =>
        new(JsonNode.Parse(inputJson), Context, env);

    [Fact]
    public void A_single_placeholder_yields_the_value_itself()
    {
        var value = Template.Parse("{{ input.order }}").RenderValue(Scope("""{"order": {"id": 7, "lines": [1, 2]}}"""), "spec");
        Assert.Equal("""{"id":7,"lines":[1,2]}""", value!.ToJsonString());
    }

    [Fact]
    public void Placeholders_in_text_render_strings_as_they_are_and_other_values_as_json()
    {
        var text = Template.Parse("{{ input.name }} has {{ input.items }} ({{ input.missing }}) as {{ context.persona }}/{{ context.chatmode }} #{{ context.state.count }}")
            .RenderText(Scope("""{"name": "Ada", "items": [1, 2]}"""), "spec");
        Assert.Equal("Ada has [1,2] () as backend-engineer/review #3", text);
    }

    [Fact]
    public void Paths_index_arrays_and_quoted_keys_and_accept_jsonpath_form()
    {
        var scope = Scope("""{"a": [{"b c": "deep"}]}""");
        Assert.Equal("deep", Template.Parse("{{ input.a[0]['b c'] }}").RenderText(scope, "spec"));
        Assert.Equal("deep", Template.Parse("{{ $.a[0]['b c'] }}").RenderText(scope, "spec"));
        Assert.Equal("session-1", Template.Parse("{{ context.session_id }}").RenderText(scope, "spec"));
    }

    [Theory]
    [InlineData("{{ input", "no closing")]
    [InlineData("{{ }}", "empty")]
    [InlineData("{{ secrets.key }}", "starts with 'secrets'")]
    [InlineData("{{ context.mood }}", "names no context field")]
    [InlineData("{{ context.state }}", "needs a key")]
    [InlineData("{{ input.a[x] }}", "neither an array index")]
    public void Bad_templates_say_what_is_wrong(string source, string expected)
    {
        var error = Assert.Throws<FormatException>(() => Template.Parse(source));
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void Environment_variables_resolve_only_through_a_scope_that_allows_them_and_must_exist()
    {
        var template = Template.Parse("Bearer {{ env.API_TOKEN }}");
        Assert.Equal("Bearer s3cret", template.RenderText(Scope("{}", name => name == "API_TOKEN" ? "s3cret" : null), "header"));
        Assert.Throws<InvalidOperationException>(() => template.RenderText(Scope("{}"), "header"));
        var missing = Assert.Throws<MissingEnvironmentVariableException>(() =>
            template.RenderText(Scope("{}", _ => null), "header 'Authorization' of the http step"));
        Assert.Equal("API_TOKEN", missing.Variable);
        Assert.Contains("header 'Authorization' of the http step", missing.Message);
    }
}
