using System.Diagnostics;
using TtaActors.Telemetry;
using TtaActors.Tests.Support;

namespace TtaActors.Tests.Langfuse;

/// <summary>The Langfuse names of a trace's fields are made by the Langfuse exporter, from the contract attributes.</summary>
public sealed class LangfuseAttributeMappingSpecs
{
    /// <summary>A span made by hand (not started from a source), so no listener of other specs sees it.</summary>
    private static Activity Span(params (string Key, object Value)[] tags)
    {
        var span = new Activity("primitive.step");
        span.SetIdFormat(ActivityIdFormat.W3C);
        span.Start();
        foreach (var (key, value) in tags) span.SetTag(key, value);
        span.Stop();
        return span;
    }

    [Fact]
    public void Contract_attributes_should_reach_langfuse_under_its_trace_field_names_as_well()
    {
        var span = Span(
            (TelemetryNames.Attributes.WorkflowTraceName, "release-gate"),
            (TelemetryNames.Attributes.Persona, "backend-engineer"),
            (TelemetryNames.Attributes.WorkflowSessionId, "session-77"),
            (TelemetryNames.Attributes.ChatMode, "review"),
            (TelemetryNames.Attributes.WorkflowWorkspace, "tta-dev-copilot"),
            (TelemetryNames.Attributes.WorkflowTags, new[] { "release:r42", "urgent" }));

        var received = LangfuseView.Attributes(span);
        Assert.Equal("release-gate", received["langfuse.trace.name"]);
        Assert.Equal("backend-engineer", received["langfuse.user.id"]);
        Assert.Equal("session-77", received["langfuse.session.id"]);
        Assert.Equal("review", received["langfuse.trace.metadata.chatmode"]);
        Assert.Equal("tta-dev-copilot", received["langfuse.trace.metadata.workspace"]);
        Assert.Equal(new List<object?> { "release:r42", "urgent" }, received["langfuse.trace.tags"]);
        // The contract names go too, unchanged.
        Assert.Equal("backend-engineer", received["persona"]);
        // The span itself holds no Langfuse name: those are the exporter's.
        Assert.DoesNotContain(span.TagObjects, t => t.Key.StartsWith("langfuse.", StringComparison.Ordinal));
    }

    [Fact]
    public void A_runs_recorded_input_and_output_should_reach_langfuse_as_the_trace_input_and_output_only()
    {
        var received = LangfuseView.Attributes(Span((TelemetryNames.Attributes.WorkflowInput, "ship v2?"), (TelemetryNames.Attributes.WorkflowOutput, "yes")));
        Assert.Equal("ship v2?", received["langfuse.trace.input"]);
        Assert.Equal("yes", received["langfuse.trace.output"]);
        // Sent once: under Langfuse's names, not also under the contract's.
        Assert.DoesNotContain("workflow.input", received.Keys);
        Assert.DoesNotContain("workflow.output", received.Keys);
    }

    [Fact]
    public void A_span_that_names_a_langfuse_field_itself_should_keep_its_own_value_and_a_span_without_sources_gets_none()
    {
        var named = LangfuseView.Attributes(Span((TelemetryNames.Attributes.Persona, "backend-engineer"), (TelemetryNames.Langfuse.UserId, "qa-engineer")));
        Assert.Equal("qa-engineer", named["langfuse.user.id"]);

        var bare = LangfuseView.Attributes(Span((TelemetryNames.Attributes.PrimitiveName, "step")));
        Assert.DoesNotContain(bare.Keys, key => key.StartsWith("langfuse.", StringComparison.Ordinal));
    }
}
