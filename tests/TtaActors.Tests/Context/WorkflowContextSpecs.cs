using TtaActors.Actors.Context;

namespace TtaActors.Tests.Context;

public class WorkflowContextSpecs
{
    [Fact]
    public void Child_context_should_inherit_ids_persona_workspace_tags_and_baggage()
    {
        var parent = WorkflowContext.Create("wf-1", "session-1", "backend-engineer", "feature-implementation", "tta-dev-copilot")
            .WithTag("team", "orders").WithBaggage("tenant", "acme").WithMetadata("source", "cli");

        var child = parent.CreateChild();

        Assert.Equal("wf-1", child.WorkflowId);
        Assert.Equal("session-1", child.SessionId);
        Assert.Equal(parent.CorrelationId, child.CorrelationId);
        Assert.Equal("backend-engineer", child.Persona);
        Assert.Equal("feature-implementation", child.ChatMode);
        Assert.Equal("tta-dev-copilot", child.Workspace);
        Assert.Equal("orders", child.Tags["team"]);
        Assert.Equal("acme", child.Baggage["tenant"]);
        Assert.Equal("cli", child.Metadata["source"]);
    }

    [Fact]
    public void Child_context_causation_should_be_the_parent_correlation()
    {
        var parent = WorkflowContext.Create() with { CausationId = "upstream" };
        Assert.Equal(parent.CorrelationId, parent.CreateChild().CausationId);
    }

    [Fact]
    public void State_written_in_a_child_should_not_reach_the_parent()
    {
        var parent = WorkflowContext.Create().WithState("visible", 1);
        var child = parent.CreateChild().WithState("private", 2);

        Assert.Equal(1, child.State["visible"]);
        Assert.False(parent.State.ContainsKey("private"));
    }

    [Fact]
    public void Absorbing_a_child_should_take_its_new_routing_decisions_and_checkpoints_but_not_its_state()
    {
        var at = DateTimeOffset.UnixEpoch;
        var parent = WorkflowContext.Create().WithRoutingDecision(new RoutingDecision("a", false, at));
        var dispatched = parent.CreateChild();
        var child = dispatched.WithRoutingDecision(new RoutingDecision("b", true, at)).WithCheckpoint("done", at).WithState("x", 1);

        var merged = parent.AbsorbRecords(child, dispatched);

        Assert.Equal(["a", "b"], merged.RoutingHistory.Select(r => r.Route));
        Assert.Equal("done", Assert.Single(merged.Checkpoints).Name);
        Assert.Empty(merged.State);
    }
}
