using System.Collections.Concurrent;
using System.Collections.Immutable;
using Akka.Actor;
using Akka.Configuration;
using Akka.Persistence;
using Akka.Persistence.Journal;
using Microsoft.Extensions.Time.Testing;
using TtaActors.Actors.Context;
using TtaActors.Actors.Durable;
using TtaActors.Actors.Execution;
using TtaActors.Actors.Primitives;
using Xunit;
using Xunit.Abstractions;
using static TtaActors.Actors.Durable.DurableRunCommands;
using static TtaActors.Actors.Durable.DurableRunReplies;

namespace TtaActors.Tests.Durable;

/// <summary>
/// A start's deadline (<see cref="Start.AnswerBy"/>): the node that asks gives up after it and tells its client the run did
/// not start, so a start that reaches the run late, or is journaled late, must execute nothing. The journal is an
/// in-memory one whose writes wait at a gate the spec opens, so "journaled late" is a fact of the spec, not of timing.
/// </summary>
public sealed class DurableRunStartDeadlineSpecs(ITestOutputHelper log)
    : Akka.TestKit.Xunit2.TestKit(ConfigurationFactory.ParseString($$"""
        akka.test.single-expect-default = 20s
        akka.persistence.journal.plugin = "akka.persistence.journal.gated"
        akka.persistence.journal.gated.class = "{{typeof(GatedJournal).AssemblyQualifiedName}}"
        akka.persistence.journal.gated.plugin-dispatcher = "akka.actor.default-dispatcher"
        akka.persistence.snapshot-store.plugin = "akka.persistence.snapshot-store.inmem"
        """), output: log)
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 2, 12, 0, 0, TimeSpan.Zero);
    private readonly FakeTimeProvider _clock = new(T0);
    private readonly Catalog _catalog = new();
    private int _reserveCalls;

    /// <summary>Holds every write of the persistence ids given to it until the spec opens the gate.</summary>
    public sealed class GatedJournal : MemoryJournal
    {
        private static readonly ConcurrentDictionary<string, (TaskCompletionSource Reached, TaskCompletionSource Open)> Gates = new();

        public static (TaskCompletionSource Reached, TaskCompletionSource Open) Gate(string persistenceId) =>
            Gates.GetOrAdd(persistenceId, _ => (new(TaskCreationOptions.RunContinuationsAsynchronously), new(TaskCreationOptions.RunContinuationsAsynchronously)));

        protected override async Task<IImmutableList<Exception>> WriteMessagesAsync(IEnumerable<AtomicWrite> messages, CancellationToken cancellationToken)
        {
            var writes = messages.ToList();
            foreach (var write in writes)
            {
                if (!Gates.TryGetValue(write.PersistenceId, out var gate)) continue;
                gate.Reached.TrySetResult();
                await gate.Open.Task.WaitAsync(cancellationToken);
            }
            // The memory journal keeps payloads as given; a real one stores a Tagged event's payload and its tags apart.
            var untagged = writes.Select(write => new AtomicWrite(((IImmutableList<IPersistentRepresentation>)write.Payload)
                .Select(p => p.Payload is Tagged tagged ? p.WithPayload(tagged.Payload) : p).ToImmutableList()));
            return await base.WriteMessagesAsync(untagged, cancellationToken);
        }
    }

    private sealed class Catalog : IDurableWorkflowCatalog
    {
        public readonly ConcurrentDictionary<string, DurableWorkflowDefinition> Definitions = new();
        public bool Ready => true;
        public DurableWorkflowDefinition? Find(string workflow) => Definitions.GetValueOrDefault(workflow);
    }

    private string Register()
    {
        var name = $"deadline-{Guid.NewGuid():N}"[..20];
        var definition = Lambda.From<int, int>(value =>
        {
            Interlocked.Increment(ref _reserveCalls);
            return value + 1;
        }, "reserve") >> Lambda.From<int, int>(value => value * 2, "charge");
        _catalog.Definitions[name] = DurableWorkflowDefinition.Create(name, definition, (step, stepName) => WorkflowGraph.Materialize(Sys, step, stepName));
        return name;
    }

    private IActorRef Entity(string runId) => Sys.ActorOf(DurableRunActor.Props(runId, _catalog, new DurableRunSettings { Time = _clock }));

    private static Start StartOf(string runId, string workflow, DateTimeOffset? answerBy) =>
        new(runId, workflow, DurableJson.From(1), DurableJson.Context(WorkflowContext.Create()), null, null, null, null, answerBy);

    [Fact]
    public async Task A_start_journaled_by_its_deadline_should_run()
    {
        var workflow = Register();
        var runId = RunId.New().ToString();
        var entity = Entity(runId);
        entity.Tell(StartOf(runId, workflow, T0 + TimeSpan.FromSeconds(8)));
        ExpectMsg<View>();
        var finished = await AwaitFinishedAsync(entity, runId);
        Assert.Equal("succeeded", finished.Status);
        Assert.Equal("4", finished.Output!.Json);
        Assert.Equal(1, _reserveCalls);
    }

    [Fact]
    public void A_start_that_reaches_its_run_after_the_deadline_should_be_refused_and_journal_nothing()
    {
        var workflow = Register();
        var runId = RunId.New().ToString();
        var entity = Entity(runId);
        _clock.Advance(TimeSpan.FromSeconds(9));
        entity.Tell(StartOf(runId, workflow, T0 + TimeSpan.FromSeconds(8)));

        var refused = ExpectMsg<Refused>();
        Output?.WriteLine(refused.Message);
        Assert.Equal(DurableRefusalCodes.StartExpired, refused.Code);
        Assert.Contains("Nothing was journaled and nothing ran", refused.Message);
        // A new entity of the same id recovers from the journal: nothing is there.
        var again = Entity(runId);
        again.Tell(new Get(runId));
        Assert.Equal(DurableRefusalCodes.NotFound, ExpectMsg<Refused>().Code);
        Assert.Equal(0, _reserveCalls);
    }

    [Fact]
    public async Task A_start_journaled_after_its_deadline_should_fail_the_run_before_any_step_executes()
    {
        var workflow = Register();
        var runId = RunId.New().ToString();
        var gate = GatedJournal.Gate(DurableRunActor.PersistenceIdPrefix + runId);
        var entity = Entity(runId);
        entity.Tell(StartOf(runId, workflow, T0 + TimeSpan.FromSeconds(8)));

        await gate.Reached.Task.WaitAsync(TimeSpan.FromSeconds(20));
        _clock.Advance(TimeSpan.FromSeconds(9)); // the asking node gives up while the write is held
        gate.Open.SetResult();

        var refused = ExpectMsg<Refused>();
        Output?.WriteLine(refused.Message);
        Assert.Equal(DurableRefusalCodes.StartExpired, refused.Code);
        Assert.Contains("no step was executed", refused.Message);
        var failed = await AwaitFinishedAsync(entity, runId);
        Assert.Equal("failed", failed.Status);
        Assert.Equal(typeof(StartExpiredException).FullName, failed.ErrorType);
        Assert.Equal(0, failed.StepsCompleted);
        Assert.Equal(0, _reserveCalls);

        // Recovered elsewhere, the run keeps its outcome and still executes nothing.
        Watch(entity);
        Sys.Stop(entity);
        ExpectTerminated(entity);
        var recovered = Entity(runId);
        var view = await recovered.Ask<View>(new Get(runId), TimeSpan.FromSeconds(20));
        Assert.Equal("failed", view.Status);
        Assert.Equal(0, _reserveCalls);
    }

    private static async Task<View> AwaitFinishedAsync(IActorRef entity, string runId)
    {
        for (var attempt = 0; attempt < 200; attempt++)
        {
            var view = await entity.Ask<View>(new Get(runId), TimeSpan.FromSeconds(20));
            if (view.Status is "succeeded" or "failed") return view;
            // Answered as soon as the run journals anything after the view (a run that does nothing more fails the ask).
            await entity.Ask<Events>(new GetEvents(runId, view.LastEventId, 10, 20_000), TimeSpan.FromSeconds(20));
        }
        throw new Xunit.Sdk.XunitException($"Run {runId} did not finish.");
    }
}
