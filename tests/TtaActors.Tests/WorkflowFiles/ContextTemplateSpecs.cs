using System.Text.Json.Nodes;
using TtaActors.Actors.Context;
using TtaActors.Runtime.Workflows;

namespace TtaActors.Tests.WorkflowFiles;

/// <summary>
/// Each <c>context.*</c> path reads its own field of the run's context: the same key holds a different value in
/// metadata, tags, baggage and state, so a path that reads the wrong one shows.
/// </summary>
public class ContextTemplateSpecs
{
    private const string Key = "team";

    private static readonly WorkflowContext Context = WorkflowContext.Create("wf-id", "session-9", "backend-engineer", "review", "tta-space")
        .WithMetadata(Key, "from-metadata")
        .WithTag(Key, "from-tags")
        .WithBaggage(Key, "from-baggage")
        .WithState(Key, "from-state");

    private static readonly TemplateScope Scope = new(JsonNode.Parse("""{"team": "from-input"}"""), Context);

    [Theory]
    [InlineData("context.metadata.team", "from-metadata")]
    [InlineData("context.tags.team", "from-tags")]
    [InlineData("context.baggage.team", "from-baggage")]
    [InlineData("context.state.team", "from-state")]
    [InlineData("input.team", "from-input")]
    [InlineData("context.persona", "backend-engineer")]
    [InlineData("context.chatmode", "review")]
    [InlineData("context.session_id", "session-9")]
    [InlineData("context.workflow_id", "wf-id")]
    [InlineData("context.workspace", "tta-space")]
    public void A_context_path_reads_its_own_field(string path, string expected)
    {
        Assert.Equal(expected, Template.Parse("{{ " + path + " }}").RenderText(Scope, "spec"));
        Assert.Equal(expected, (string?)Template.Parse("{{ " + path + " }}").RenderValue(Scope, "spec"));
    }

    [Fact]
    public void Metadata_tags_and_baggage_render_side_by_side_in_one_text()
    {
        var text = Template.Parse("m={{ context.metadata.team }} t={{ context.tags.team }} b={{ context.baggage.team }}").RenderText(Scope, "spec");

        Assert.Equal("m=from-metadata t=from-tags b=from-baggage", text);
    }

    [Fact]
    public void The_correlation_id_is_the_contexts_own()
    {
        Assert.Equal(Context.CorrelationId, Template.Parse("{{ context.correlation_id }}").RenderText(Scope, "spec"));
        Assert.NotEqual(Context.WorkflowId, Context.CorrelationId);
    }

    [Theory]
    [InlineData("context.metadata.absent")]
    [InlineData("context.tags.absent")]
    [InlineData("context.baggage.absent")]
    [InlineData("context.state.absent")]
    public void A_key_a_context_field_lacks_is_missing_even_when_another_field_has_it(string path)
    {
        var only = WorkflowContext.Create("wf-id")
            .WithMetadata("absent-elsewhere", "x").WithTag("absent-elsewhere", "x").WithBaggage("absent-elsewhere", "x");
        foreach (var (field, set) in new (string, Func<WorkflowContext, WorkflowContext>)[]
                 {
                     ("metadata", c => c.WithMetadata("absent", "in-metadata")),
                     ("tags", c => c.WithTag("absent", "in-tags")),
                     ("baggage", c => c.WithBaggage("absent", "in-baggage")),
                     ("state", c => c.WithState("absent", "in-state")),
                 })
        {
            if (path.Contains($".{field}.")) continue;
            var scope = new TemplateScope(null, set(only));
            Assert.Null(Template.Parse("{{ " + path + " }}").RenderValue(scope, "spec"));
        }
    }

    [Theory]
    [InlineData("{{ context.metadata }}", "context.metadata needs a key")]
    [InlineData("{{ context.tags }}", "context.tags needs a key")]
    [InlineData("{{ context.baggage }}", "context.baggage needs a key")]
    [InlineData("{{ context.tags[0] }}", "context.tags needs a key")]
    public void A_keyed_context_field_without_a_key_is_refused(string source, string expected)
    {
        var error = Assert.Throws<FormatException>(() => Template.Parse(source));
        Assert.Contains(expected, error.Message);
    }
}
