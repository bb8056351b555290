using System.Text.Json.Nodes;
using TtaActors.Actors.Context;
using TtaActors.Runtime.Workflows;

namespace TtaActors.Tests.WorkflowFiles;

/// <summary>Edges of the path and template syntax: indexes, quoted keys, trailing text and what each mistake says.</summary>
public class TemplatePathSpecs
{
    private static readonly TemplateScope Scope = new(JsonNode.Parse("""
        {"a": [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, "ten", "eleven"], "": "empty key", "x": "v"}
        """), WorkflowContext.Create("wf"));

    [Theory]
    [InlineData("{{ input.a[10] }}", "ten")]
    [InlineData("{{ input.a[11] }}", "eleven")]
    [InlineData("{{ input.a[12] }}", "")]
    [InlineData("{{ input.a[99] }}", "")]
    [InlineData("{{ input[''] }}", "empty key")]
    [InlineData("{{ input.x }} tail", "v tail")]
    [InlineData("head {{ input.x }} and {{ input.x }}!", "head v and v!")]
    public void Paths_and_text_render_as_written(string source, string expected) =>
        Assert.Equal(expected, Template.Parse(source).RenderText(Scope, "spec"));

    [Fact]
    public void A_template_with_text_around_a_placeholder_renders_to_a_string_value()
    {
        var value = Template.Parse("a {{ input.x }}").RenderValue(Scope, "spec");

        Assert.Equal("a v", (string?)value);
    }

    [Theory]
    [InlineData("{{ input.a[0 }}", "'input.a[0' has a '[' without its ']'")]
    [InlineData("{{ input.a!b }}", "unexpected '!' at position 8")]
    [InlineData("{{ input. }}", "expected a name at position 7")]
    [InlineData("x {{ input", "'{{' at position 3 has no closing '}}'")]
    [InlineData("{{ env.A.B }}", "write env.VARIABLE_NAME")]
    [InlineData("{{ env }}", "write env.VARIABLE_NAME")]
    [InlineData("{{ context.mood }}", "known fields: persona, chatmode, session_id")]
    public void Mistakes_say_what_and_where(string source, string expected)
    {
        var error = Assert.Throws<FormatException>(() => Template.Parse(source));
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void Environment_variables_outside_http_headers_are_refused_saying_where_they_work()
    {
        var error = Assert.Throws<InvalidOperationException>(() => Template.Parse("{{ env.HOME }}").RenderText(Scope, "the set step"));

        Assert.Equal("the set step cannot read env.HOME: environment variables are only readable in http headers.", error.Message);
    }
}
