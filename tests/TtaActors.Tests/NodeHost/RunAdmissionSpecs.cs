using Akka.TestKit.Xunit2;
using TtaActors.Actors.Context;
using TtaActors.Actors.Execution;
using TtaActors.Actors.Primitives;
using TtaActors.Actors.Sessions;
using TtaActors.Runtime.Hosting;
using TtaActors.Runtime.Runs;
using TtaActors.Runtime.Workflows;
using Xunit;

namespace TtaActors.Tests.NodeHost;

/// <summary>Issue 11 item 10: a run a session admitted ends in it, whatever the caller who asked for it does.</summary>
public sealed class RunAdmissionSpecs() : TestKit("akka.loglevel = WARNING")
{
    [Fact]
    public async Task A_caller_that_leaves_while_the_session_admits_its_run_does_not_leave_the_run_open()
    {
        var sessions = new GatedSessions();
        var runs = Service(sessions);
        using var caller = new CancellationTokenSource();

        var starting = runs.StartAsync(new RunRequest("echo", null, Session: "s"), caller.Token);
        await sessions.Admitting.Task.WaitAsync(Guard);
        await caller.CancelAsync();
        sessions.Answer.SetResult();

        var (_, completion) = await starting.WaitAsync(Guard);
        var finished = await completion.WaitAsync(Guard);
        Assert.Equal(RunStatus.Succeeded, finished.Status);
        Assert.Equal([(finished.RunId, true)], sessions.Completed.Select(c => (c.RunId.ToString(), c.Succeeded)));
    }

    [Fact]
    public async Task A_session_that_does_not_answer_the_admission_gets_the_run_closed_as_failed()
    {
        var sessions = new GatedSessions { Unanswered = true };
        var runs = Service(sessions);

        await Assert.ThrowsAsync<TimeoutException>(() => runs.StartAsync(new RunRequest("echo", null, Session: "s")));
        var closed = await sessions.CompletedOnce.Task.WaitAsync(Guard);
        Assert.Equal(sessions.BegunRunId, closed.RunId);
        Assert.False(closed.Succeeded);
    }

    /// <summary>Only keeps a broken build from hanging the suite; nothing here is timed.</summary>
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(60);

    private RunService Service(IPersonaSessions sessions)
    {
        var registry = new WorkflowRegistry(new WorkflowStepServices(new HttpClient(), _ => null, (definition, name) => WorkflowGraph.Materialize(Sys, definition, name)));
        registry.Register("echo", Lambda.From<object?, object?>(input => input, "echo"));
        return new RunService(registry, sessions, new TtaRuntimeOptions { MetricsPort = 0 });
    }

    /// <summary>Sessions whose admission waits for the test and honours the cancellation it is given, as an Ask does.</summary>
    private sealed class GatedSessions : IPersonaSessions
    {
        public TaskCompletionSource Admitting { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public TaskCompletionSource Answer { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public TaskCompletionSource<SessionRunOutcome> CompletedOnce { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public List<SessionRunOutcome> Completed { get; } = [];
        public bool Unanswered { get; init; }
        public RunId BegunRunId { get; private set; }

        public Task<SessionView> GetAsync(string sessionId, CancellationToken cancellation = default) => throw new NotSupportedException();

        public Task<SessionView> SwitchPersonaAsync(string sessionId, string persona, string? chatMode, CancellationToken cancellation = default) =>
            throw new NotSupportedException();

        public async Task<WorkflowContext> BeginRunAsync(string sessionId, string workflow, RunId runId, WorkflowContext context,
            CancellationToken cancellation = default)
        {
            BegunRunId = runId;
            if (Unanswered) throw new TimeoutException($"Session '{sessionId}' did not answer BeginRun.");
            Admitting.SetResult();
            await Answer.Task.WaitAsync(cancellation);
            return context with { SessionId = sessionId };
        }

        public Task CompleteRunAsync(string sessionId, SessionRunOutcome outcome, CancellationToken cancellation = default)
        {
            lock (Completed) Completed.Add(outcome);
            CompletedOnce.TrySetResult(outcome);
            return Task.CompletedTask;
        }
    }
}
