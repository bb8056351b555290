using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using TtaActors.Actors.Context;
using TtaActors.Actors.Execution;
using TtaActors.Actors.Llm;
using TtaActors.Actors.Sessions;
using TtaActors.Runtime.Cluster;
using TtaActors.Runtime.Hosting;
using TtaActors.Runtime.Sessions;
using Xunit;
using TtaActors.Llm.Providers;

namespace TtaActors.Tests.Sessions;

/// <summary>
/// The <see cref="IPersonaSessions"/> contract over the real shard region, on the embedded default: a single node that
/// joins itself, SQLite in a data directory.
/// </summary>
public sealed class ShardedPersonaSessionsSpecs : IAsyncLifetime
{
    private readonly string _data = Path.Combine(Path.GetTempPath(), $"tta-node-{Guid.NewGuid():N}");
    private IHost? _host;

    private ShardedPersonaSessions Sessions => _host!.Services.GetRequiredService<ShardedPersonaSessions>();

    public async Task InitializeAsync()
    {
        var cluster = new TtaClusterOptions { DataDirectory = _data };
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddTtaActors(new TtaRuntimeOptions { MetricsPort = 0 },
            akka: akka => akka.WithTtaCluster(cluster).WithPersonaSessions(cluster));
        builder.Services.AddPersonaSessions(TimeSpan.FromSeconds(30));
        _host = builder.Build();
        await _host.StartAsync();
    }

    public async Task DisposeAsync()
    {
        if (_host is not null)
        {
            await _host.StopAsync();
            _host.Dispose();
        }
        SqliteConnection.ClearAllPools();
        Directory.Delete(_data, recursive: true);
    }

    [Fact]
    public async Task A_run_begun_in_a_session_should_carry_its_persona_chat_mode_and_id_and_count_in_its_totals()
    {
        IPersonaSessions sessions = Sessions;
        await sessions.SwitchPersonaAsync("s-1", "backend-engineer", "feature-implementation");
        var runId = RunId.New();

        var context = await sessions.BeginRunAsync("s-1", "demo", runId, WorkflowContext.Create(workflowId: "demo", persona: "ignored"));
        await sessions.CompleteRunAsync("s-1", new SessionRunOutcome(runId, true, 120, 30, 0.0042m));
        var view = await sessions.SwitchPersonaAsync("s-1", "frontend-dev", "review");

        Assert.Equal(("s-1", "backend-engineer", "feature-implementation", "demo"), (context.SessionId, context.Persona, context.ChatMode, context.WorkflowId));
        Assert.Equal(("frontend-dev", "review", 1, 1, 150L, 0.0042m), (view.Persona, view.ChatMode, view.RunsStarted, view.RunsFinished, view.Tokens, view.CostUsd));
        Assert.Equal(["backend-engineer", "frontend-dev"], view.Switches.Select(s => s.To));
        Assert.Contains("s-1", await Sessions.LocalSessionIdsAsync());
    }

    [Fact]
    public async Task Refusals_should_surface_as_exceptions_that_name_the_session_and_the_problem()
    {
        await Sessions.SwitchPersonaAsync("s-2", "backend-engineer", null);
        await Sessions.SetTokenBudgetAsync("s-2", "backend-engineer", 0);

        var budget = await Assert.ThrowsAsync<PersonaSessionRefusedException>(() =>
            Sessions.BeginRunAsync("s-2", "demo", RunId.New(), WorkflowContext.Create()));
        Assert.Equal(RefusalCodes.BudgetExceeded, budget.Code);
        Assert.Contains("Session 's-2': persona 'backend-engineer' has used 0 of its 0-token budget", budget.Message);

        var persona = await Assert.ThrowsAsync<PersonaSessionRefusedException>(() => Sessions.SwitchPersonaAsync("s-2", "Front End", null));
        Assert.Equal(RefusalCodes.InvalidName, persona.Code);

        var sessionId = await Assert.ThrowsAsync<PersonaSessionRefusedException>(() => Sessions.GetAsync("../etc"));
        Assert.Contains("The session id '../etc' is malformed", sessionId.Message);
    }
    [Fact]
    public async Task A_run_should_carry_the_persona_budget_and_each_llm_call_should_be_held_to_what_is_left()
    {
        await Sessions.SwitchPersonaAsync("s-3", "backend-engineer", null);
        await Sessions.SetTokenBudgetAsync("s-3", "backend-engineer", 160);
        var first = RunId.New();
        await Sessions.BeginRunAsync("s-3", "demo", first, WorkflowContext.Create());
        await Sessions.CompleteRunAsync("s-3", new SessionRunOutcome(first, true, 120, 30, null));

        var context = await Sessions.BeginRunAsync("s-3", "demo", RunId.New(), WorkflowContext.Create());

        Assert.Equal(new SessionTokenBudget("s-3", "backend-engineer", 160, 150), context.SessionBudget);
        // 150 used, 10 left: the call's max_tokens alone is more, so it is refused before it is sent.
        var step = new LlmSettings(LlmProviders.Create()).Chat(LlmProviderNames.Offline, options: new LlmStepOptions { MaxTokens = 20 }, name: "answer");
        var system = _host!.Services.GetRequiredService<Akka.Actor.ActorSystem>();
        var result = await WorkflowGraph.Materialize(system, step, "session-budget").RunAsync("hello", context);
        var refusal = Assert.IsType<LlmBudgetExceededException>(result.Failure!.Exception);
        Assert.Contains("session 's-3''s token budget of 160 tokens for persona 'backend-engineer'", refusal.Message);
        Assert.Contains("150 tokens used so far (150 before this run, 0 in it)", refusal.Message);
    }
}
