using TtaActors.Actors.Durable;
using TtaActors.Runtime.Workflows;
using Xunit;

namespace TtaActors.Tests.Durable;

/// <summary><c>durability:</c>, <c>approval:</c> and <c>wait:</c> in workflow files: what is accepted, and where each mistake is reported.</summary>
public sealed class DurableFileSpecs
{
    private static (WorkflowDocument? Document, IReadOnlyList<WorkflowProblem> Problems) Parse(string yaml) =>
        WorkflowFileParser.Parse(yaml, "durable.yaml", "durable");

    [Fact]
    public void A_durable_file_with_an_approval_and_a_wait_should_parse_with_their_signals_and_timeouts()
    {
        var (document, problems) = Parse("""
            durability: steps
            steps:
              - http: { url: "http://127.0.0.1:1/a" }
              - name: manager
                approval:
                  prompt: "Approve {{ input.id }}?"
                  timeout_seconds: 60
                  on_timeout: { set: { approved: false } }
              - wait: { signals: [paid, cancelled] }
            """);
        Assert.Empty(problems);
        Assert.Equal(WorkflowDurability.Steps, document!.Durability);
        var steps = ((SequenceSpec)document.Root).Steps;
        var approval = Assert.IsType<WaitSpec>(steps[1]);
        Assert.Equal((true, "approval", 60.0), (approval.IsApproval, approval.Kind, approval.TimeoutSeconds!.Value));
        Assert.Equal(["manager"], approval.Signals);
        Assert.NotNull(approval.OnTimeout);
        Assert.Equal(["paid", "cancelled"], Assert.IsType<WaitSpec>(steps[2]).Signals);
        Assert.Equal(WorkflowDurability.None, Parse("steps: [{ template: \"x\" }]").Document!.Durability);
    }

    [Theory]
    [InlineData("steps:\n  - template: \"x\"\n  - approval: { prompt: \"ok?\" }\n", 3, 5, "needs a durable workflow: add 'durability: steps'")]
    [InlineData("durability: sometimes\nsteps: [{ template: \"x\" }]\n", 1, 13, "Unknown durability 'sometimes'")]
    [InlineData("durability: steps\nsteps:\n  - retry:\n      do: { wait: { signal: go } }\n", 4, 11, "nested inside another step")]
    [InlineData("durability: steps\nsteps:\n  - wait: { timeout_seconds: 5 }\n", 3, 5, "has no 'signal:' or 'signals:'")]
    [InlineData("durability: steps\nsteps:\n  - approval: { timeout_seconds: 5 }\n", 3, 5, "has no 'prompt:'")]
    [InlineData("durability: steps\nsteps:\n  - wait: { signal: \"a b\" }\n", 3, 5, "may only use letters, digits")]
    [InlineData("durability: steps\nsteps:\n  - wait: { signal: go, on_timeout: { template: x } }\n", 3, 37, "needs 'timeout_seconds:'")]
    public void A_wrong_durable_file_should_be_refused_at_the_place_of_the_mistake(string yaml, int line, int column, string message)
    {
        var (document, problems) = Parse(yaml);
        Assert.Null(document);
        var problem = Assert.Single(problems);
        Assert.Contains(message, problem.Message);
        Assert.Equal((line, column), (problem.At.Line, problem.At.Column));
    }

    [Fact]
    public void An_in_memory_run_that_reaches_a_wait_from_code_should_fail_saying_it_needs_durability()
    {
        var wait = WaitForSignalPrimitive.Approval("ok?");
        var error = Assert.Throws<ArgumentException>(() => new WaitForSignalPrimitive([]));
        Assert.Contains("at least one signal", error.Message);
        Assert.Equal(["approval"], wait.Signals);
        Assert.Throws<ArgumentException>(() => new WaitForSignalPrimitive(["go"], onTimeout: wait));
    }
}
