using System.Diagnostics;
using TtaActors.Telemetry;
using TtaActors.Tests.Support;

namespace TtaActors.Tests.Langfuse;

/// <summary>The Langfuse names of a trace's and an observation's fields are made by the Langfuse exporter, from the contract attributes.</summary>
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

    [Theory]
    [InlineData("chat", "generation")]
    [InlineData("invoke_agent", "agent")]
    [InlineData("execute_tool", "tool")]
    public void The_observation_type_should_follow_from_the_genai_operation(string operation, string type) =>
        Assert.Equal(type, LangfuseView.Attributes(Span((TelemetryNames.GenAi.OperationName, operation)))["langfuse.observation.type"]);

    [Fact]
    public void A_run_root_has_no_observation_type_and_a_durable_wait_or_signal_is_an_event()
    {
        Assert.DoesNotContain("langfuse.observation.type", LangfuseView.Attributes(Span((TelemetryNames.GenAi.OperationName, "invoke_workflow"))).Keys);

        var wait = LangfuseView.Attributes(Span((TelemetryNames.Durable.Signals, "approve,reject"), (TelemetryNames.Durable.WaitPrompt, "Ship v2?")));
        Assert.Equal("event", wait["langfuse.observation.type"]);
        Assert.Equal("Ship v2?", wait["langfuse.observation.input"]);
        Assert.DoesNotContain(TelemetryNames.Durable.WaitPrompt, wait.Keys);
        var signal = LangfuseView.Attributes(Span((TelemetryNames.Durable.Signal, "approve"), (TelemetryNames.Durable.SignalPayload, "{\"by\":\"ana\"}")));
        Assert.Equal("event", signal["langfuse.observation.type"]);
        Assert.Equal("{\"by\":\"ana\"}", signal["langfuse.observation.output"]);
    }

    [Fact]
    public void Call_content_should_reach_langfuse_once_and_tool_content_as_well_as_under_the_convention_names()
    {
        var call = LangfuseView.Attributes(Span((TelemetryNames.LlmObservations.Input, "[{\"role\":\"user\",\"content\":\"hi\"}]"),
            (TelemetryNames.LlmObservations.Output, "hello")));
        Assert.Equal("[{\"role\":\"user\",\"content\":\"hi\"}]", call["langfuse.observation.input"]);
        Assert.Equal("hello", call["langfuse.observation.output"]);
        Assert.DoesNotContain("llm.input", call.Keys);
        Assert.DoesNotContain("llm.output", call.Keys);

        var tool = LangfuseView.Attributes(Span((TelemetryNames.GenAiAgents.ToolCallArguments, "{\"order\":\"A-7\"}"),
            (TelemetryNames.GenAiAgents.ToolCallResult, "shipped")));
        Assert.Equal("{\"order\":\"A-7\"}", tool["langfuse.observation.input"]);
        Assert.Equal("shipped", tool["langfuse.observation.output"]);
        Assert.Equal("shipped", tool["gen_ai.tool.call.result"]);
    }

    [Fact]
    public void Cost_details_should_be_made_of_the_cost_and_its_parts_and_left_out_without_them()
    {
        var priced = LangfuseView.Attributes(Span((TelemetryNames.GenAi.UsageCost, 0.0035), (TelemetryNames.GenAi.UsageInputCost, 0.0025),
            (TelemetryNames.GenAi.UsageOutputCost, 0.001)));
        Assert.Equal("{\"input\":0.0025,\"output\":0.001,\"total\":0.0035}", priced["langfuse.observation.cost_details"]);

        var totalOnly = LangfuseView.Attributes(Span((TelemetryNames.GenAi.UsageCost, 0.0035)));
        Assert.DoesNotContain("langfuse.observation.cost_details", totalOnly.Keys);
    }

    [Fact]
    public void A_managed_prompt_should_link_its_version_and_a_fallback_should_only_be_marked()
    {
        var linked = LangfuseView.Attributes(Span((TelemetryNames.LlmObservations.PromptName, "team/summary"), (TelemetryNames.LlmObservations.PromptVersion, 7)));
        Assert.Equal("team/summary", linked["langfuse.observation.prompt.name"]);
        Assert.Equal(7L, linked["langfuse.observation.prompt.version"]);
        Assert.DoesNotContain("langfuse.observation.metadata.prompt_fallback", linked.Keys);

        var fallback = LangfuseView.Attributes(Span((TelemetryNames.LlmObservations.PromptName, "team/summary"), (TelemetryNames.LlmObservations.PromptFallback, true)));
        Assert.Equal("team/summary", fallback["langfuse.observation.metadata.prompt_fallback"]);
        Assert.DoesNotContain("langfuse.observation.prompt.name", fallback.Keys);
        Assert.DoesNotContain("langfuse.observation.prompt.version", fallback.Keys);
    }

    [Fact]
    public void The_first_token_event_should_be_the_completion_start_time()
    {
        var span = new Activity("chat gpt-4o");
        span.SetIdFormat(ActivityIdFormat.W3C);
        span.Start();
        span.AddEvent(new ActivityEvent(TelemetryNames.LlmObservations.FirstTokenEvent, new DateTimeOffset(2026, 1, 2, 3, 4, 5, 250, TimeSpan.Zero)));
        span.Stop();

        Assert.Equal("2026-01-02T03:04:05.2500000Z", LangfuseView.Attributes(span)["langfuse.observation.completion_start_time"]);
    }
}
