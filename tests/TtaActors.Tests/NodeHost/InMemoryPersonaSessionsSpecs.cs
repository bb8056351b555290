using Akka.TestKit.Xunit2;
using TtaActors.Actors.Context;
using TtaActors.Actors.Execution;
using TtaActors.Actors.Sessions;
using TtaActors.Tests.Support;

namespace TtaActors.Tests.NodeHost;

public class InMemoryPersonaSessionsSpecs() : TestKit("akka.loglevel = WARNING")
{
    [Fact]
    public async Task Switches_are_recorded_in_order_and_a_repeated_switch_is_not_a_switch()
    {
        var sessions = new InMemoryPersonaSessions(Sys);
        await sessions.SwitchPersonaAsync("s", "backend-engineer", "feature-implementation");
        await sessions.SwitchPersonaAsync("s", "backend-engineer", "feature-implementation");
        var view = await sessions.SwitchPersonaAsync("s", "frontend-dev", "review");

        Assert.Equal(("frontend-dev", "review"), (view.Persona, view.ChatMode));
        Assert.Equal([("none", "backend-engineer"), ("backend-engineer", "frontend-dev")], view.Switches.Select(s => (s.From, s.To)));
        Assert.Equal("review", view.Switches[1].ChatMode);
    }

    [Fact]
    public async Task A_run_in_a_session_carries_its_persona_and_id_and_is_counted_when_it_completes()
    {
        var sessions = new InMemoryPersonaSessions(Sys);
        await sessions.SwitchPersonaAsync("s", "backend-engineer", "feature-implementation");
        var runId = RunId.New();
        var context = await sessions.BeginRunAsync("s", "wf", runId, WorkflowContext.Create("wf", persona: "ignored"));

        Assert.Equal(("s", "backend-engineer", "feature-implementation"), (context.SessionId, context.Persona, context.ChatMode));
        Assert.Equal((1, 0), ((await sessions.GetAsync("s")).RunsStarted, (await sessions.GetAsync("s")).RunsFinished));

        await sessions.CompleteRunAsync("s", new SessionRunOutcome(runId, true, 10, 5, 0.25m));
        await sessions.CompleteRunAsync("s", new SessionRunOutcome(runId, true, 10, 5, 0.25m));
        var view = await sessions.GetAsync("s");
        Assert.Equal((1, 1, 15L, 0.25m), (view.RunsStarted, view.RunsFinished, view.Tokens, view.CostUsd));
    }

    [Fact]
    public async Task Sessions_are_independent_and_bad_names_are_refused()
    {
        var sessions = new InMemoryPersonaSessions(Sys);
        await sessions.SwitchPersonaAsync("a", "backend-engineer", null);
        Assert.Null((await sessions.GetAsync("b")).Persona);
        await Assert.ThrowsAnyAsync<ArgumentException>(() => sessions.SwitchPersonaAsync("a", "back end", null));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => sessions.GetAsync("no/slashes"));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => sessions.SwitchPersonaAsync("a", "backend-engineer", "Bad Mode"));
    }
}
