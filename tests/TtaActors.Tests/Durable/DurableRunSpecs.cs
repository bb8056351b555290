using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Akka.Actor;
using Akka.Configuration;
using TtaActors.Actors.Context;
using TtaActors.Actors.Durable;
using TtaActors.Actors.Execution;
using TtaActors.Actors.Primitives;
using TtaActors.Runtime.Cluster;
using TtaActors.Tests.Sessions;
using Xunit;
using Xunit.Abstractions;
using static TtaActors.Actors.Durable.DurableRunCommands;
using static TtaActors.Actors.Durable.DurableRunReplies;

namespace TtaActors.Tests.Durable;

/// <summary>
/// The durable run entity against a real SQLite journal: an entity stopped mid-run stands for its node dying, a new entity
/// of the same id for the run coming back on another node (it recovers from the journal alone).
/// </summary>
public sealed class DurableRunSpecs(SqliteJournalFile journal, ITestOutputHelper output)
    : Akka.TestKit.Xunit2.TestKit(
        ConfigurationFactory.ParseString("akka.test.single-expect-default = 20s")
            .WithFallback(TtaClusterHostingExtensions.JournalConfig(new TtaClusterOptions { Journal = JournalProvider.Sqlite, ConnectionString = journal.ConnectionString })),
        output: output),
        IClassFixture<SqliteJournalFile>
{
    private readonly Catalog _catalog = new();
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    private sealed class Catalog : IDurableWorkflowCatalog
    {
        public readonly ConcurrentDictionary<string, DurableWorkflowDefinition> Definitions = new();
        public bool Ready => true;
        public DurableWorkflowDefinition? Find(string workflow) => Definitions.GetValueOrDefault(workflow);
    }

    /// <summary>reserve -> approval -> charge: reserve counts its calls; charge records its idempotency keys and, while told to, blocks.</summary>
    private sealed class OrderWorkflow
    {
        public int ReserveCalls;
        public readonly ConcurrentQueue<string> ChargeKeys = new();
        public TaskCompletionSource<string>? Block;

        public Primitive Definition(TimeSpan? approvalTimeout = null, Primitive? onTimeout = null) =>
            Lambda.From<Order, Order>(order =>
            {
                Interlocked.Increment(ref ReserveCalls);
                return order with { Reserved = true };
            }, "reserve")
            >> WaitForSignalPrimitive.Approval("Approve the order?", timeout: approvalTimeout, onTimeout: onTimeout)
            >> Lambda.FromAsync<object, string>(async (approval, context, _) =>
            {
                ChargeKeys.Enqueue(context.IdempotencyKey() ?? "none");
                var block = Block;
                var text = approval is JsonNode node ? node.ToJsonString() : approval?.ToString();
                return block is null ? $"charged after {text}" : await block.Task;
            }, "charge");
    }

    public sealed record Order(string Id, bool Reserved);

    private string Register(Primitive definition, string? version = null)
    {
        var name = $"order-{Guid.NewGuid():N}"[..20];
        _catalog.Definitions[name] = DurableWorkflowDefinition.Create(name, definition, (step, stepName) => WorkflowGraph.Materialize(Sys, step, stepName),
            version is null ? null : DurableWorkflowDefinition.TextHash(version));
        return name;
    }

    private IActorRef Entity(string runId) => Sys.ActorOf(DurableRunActor.Props(runId, _catalog, new DurableRunSettings()));

    private static string NewRunId() => RunId.New().ToString();

    private View Start(IActorRef entity, string runId, string workflow, object? input)
    {
        entity.Tell(new Start(runId, workflow, DurableJson.From(input), DurableJson.Context(WorkflowContext.Create()), null, null, "backend-engineer", null));
        return ExpectMsg<View>();
    }

    private async Task<View> StatusAsync(IActorRef entity, string runId, string status)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (true)
        {
            var view = await entity.Ask<View>(new Get(runId), Patience);
            if (view.Status == status) return view;
            if (DateTime.UtcNow > deadline) throw new Xunit.Sdk.XunitException($"Run {runId} is {view.Status}, not {status}: {view}");
            // Follow the run's events instead of polling blindly: the entity answers as soon as something happens.
            await entity.Ask<Events>(new GetEvents(runId, view.LastEventId, 10, 2000), Patience);
        }
    }

    private async Task<List<JsonObject>> EventsAsync(IActorRef entity, string runId, long after = 0)
    {
        var events = await entity.Ask<Events>(new GetEvents(runId, after, 1000, 0), Patience);
        return events.Items.Select(e => JsonNode.Parse(e.Json)!.AsObject()).ToList();
    }

    private static string Kind(JsonObject e) => (string)e["type"]! == "CUSTOM" ? $"CUSTOM {(string)e["name"]!}" : (string)e["type"]!;

    private async Task StopAsync(IActorRef entity)
    {
        Watch(entity);
        Sys.Stop(entity);
        ExpectTerminated(entity);
        await Task.Yield();
    }

    [Fact]
    public async Task A_resumed_run_should_not_repeat_completed_steps_and_should_repeat_the_step_in_flight_with_the_same_idempotency_key()
    {
        var workflow = new OrderWorkflow { Block = new TaskCompletionSource<string>() };
        var name = Register(workflow.Definition());
        var runId = NewRunId();
        var first = Entity(runId);
        Assert.Equal("running", Start(first, runId, name, new Order("A1", false)).Status);
        var waiting = await StatusAsync(first, runId, "waiting");
        Assert.Equal(["approval"], waiting.AwaitedSignals);

        var accepted = await first.Ask<SignalAccepted>(new Signal(runId, "approval", "sig-1", """{"approved":true}"""), Patience);
        Assert.False(accepted.Duplicate);
        AwaitCondition(() => workflow.ChargeKeys.Count == 1, Patience);
        // The node dies while charge is in flight: its answer never reaches the journal.
        await StopAsync(first);
        workflow.Block.SetResult("lost with the dead node");
        workflow.Block = null;

        var second = Entity(runId);
        var finished = await StatusAsync(second, runId, "succeeded");

        Assert.Equal(1, workflow.ReserveCalls);
        var key = $"{runId}:2:charge:1";
        Assert.Equal([key, key], workflow.ChargeKeys.ToArray());
        Assert.Equal("charged after {\"approved\":true}", JsonNode.Parse(finished.Output!.Json)!.GetValue<string>());
        var events = await EventsAsync(second, runId);
        Assert.Equal(
            ["RUN_STARTED", "STEP_STARTED", "STEP_FINISHED", "CUSTOM approval_requested", "CUSTOM signal_received", "STEP_FINISHED",
             "STEP_STARTED", "STEP_STARTED", "STEP_FINISHED", "RUN_FINISHED"],
            events.Select(Kind).ToArray());
        Assert.Equal("0:reserve", (string)events[1]["stepName"]!);
        Assert.True((bool)events[2]["output"]!["reserved"]!);
        Assert.Equal("Approve the order?", (string)events[3]["value"]!["prompt"]!);
        Assert.Equal("A1", (string)events[3]["value"]!["payload"]!["id"]!);
        // Event ids (journal sequence numbers) go up one by one, so Last-Event-ID resumes without a gap.
        var after = await second.Ask<Events>(new GetEvents(runId, 6, 1000, 0), Patience);
        Assert.Equal([7L, 8L, 9L, 10L], after.Items.Select(e => e.Id).ToArray());
        Assert.True(after.Finished);
    }

    [Fact]
    public async Task Signals_should_be_refused_unless_awaited_and_be_idempotent_by_their_id()
    {
        var workflow = new OrderWorkflow();
        var name = Register(workflow.Definition());
        var runId = NewRunId();
        var entity = Entity(runId);
        Start(entity, runId, name, new Order("B2", false));
        await StatusAsync(entity, runId, "waiting");

        var other = await entity.Ask<Refused>(new Signal(runId, "reject", "sig-x", null), Patience);
        Assert.Equal(DurableRefusalCodes.NotAwaited, other.Code);
        Assert.Equal(["approval"], other.AwaitedSignals);
        Assert.Contains("it waits for approval", other.Message);

        Assert.False((await entity.Ask<SignalAccepted>(new Signal(runId, "approval", "sig-1", "\"yes\""), Patience)).Duplicate);
        Assert.True((await entity.Ask<SignalAccepted>(new Signal(runId, "approval", "sig-1", "\"yes\""), Patience)).Duplicate);
        var finished = await StatusAsync(entity, runId, "succeeded");
        Assert.Equal("charged after \"yes\"", JsonNode.Parse(finished.Output!.Json)!.GetValue<string>());
        Assert.Single(workflow.ChargeKeys);

        var late = await entity.Ask<Refused>(new Signal(runId, "approval", "sig-2", "\"again\""), Patience);
        Assert.Equal(DurableRefusalCodes.Finished, late.Code);
        var unknown = Entity(NewRunId());
        Assert.Equal(DurableRefusalCodes.NotFound, (await unknown.Ask<Refused>(new Get("nope"), Patience)).Code);
    }

    [Fact]
    public async Task A_run_whose_definition_changed_should_fail_at_resume_naming_both_hashes()
    {
        var workflow = new OrderWorkflow();
        var name = Register(workflow.Definition(), version: "v1");
        var startedWith = _catalog.Definitions[name].Hash;
        var runId = NewRunId();
        var first = Entity(runId);
        Start(first, runId, name, new Order("C3", false));
        await StatusAsync(first, runId, "waiting");
        await StopAsync(first);

        _catalog.Definitions[name] = DurableWorkflowDefinition.Create(name, workflow.Definition(),
            (step, stepName) => WorkflowGraph.Materialize(Sys, step, stepName), DurableWorkflowDefinition.TextHash("v2"));
        var failed = await StatusAsync(Entity(runId), runId, "failed");

        Assert.Equal(typeof(DefinitionChangedException).FullName, failed.ErrorType);
        Assert.Contains(startedWith, failed.ErrorMessage);
        Assert.Contains(_catalog.Definitions[name].Hash, failed.ErrorMessage);
        Assert.Empty(workflow.ChargeKeys);
    }

    [Fact]
    public async Task A_wait_that_times_out_should_take_its_branch_or_fail_the_run()
    {
        var branch = new OrderWorkflow();
        var withBranch = Register(branch.Definition(TimeSpan.FromMilliseconds(200), Lambda.From<object, string>(_ => "auto-declined", "decline")));
        var runId = NewRunId();
        var entity = Entity(runId);
        Start(entity, runId, withBranch, new Order("D4", false));
        var declined = await StatusAsync(entity, runId, "succeeded");
        Assert.Equal("\"charged after auto-declined\"", declined.Output!.Json);
        Assert.Contains("CUSTOM signal_timed_out", (await EventsAsync(entity, runId)).Select(Kind));

        var strict = new OrderWorkflow();
        var withoutBranch = Register(strict.Definition(TimeSpan.FromMilliseconds(200)));
        var strictId = NewRunId();
        var strictEntity = Entity(strictId);
        Start(strictEntity, strictId, withoutBranch, new Order("D5", false));
        var failed = await StatusAsync(strictEntity, strictId, "failed");
        Assert.Equal(typeof(SignalTimeoutException).FullName, failed.ErrorType);
        Assert.Contains("waited 0.2 s for 'approval'", failed.ErrorMessage);
        Assert.Empty(strict.ChargeKeys);
    }

    /// <summary>A wait's prompt and a signal's payload reach their spans under the capture policy, as LLM content does.</summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Wait_and_signal_spans_should_record_prompt_and_payload_under_the_capture_policy(bool capture)
    {
        const string secret = "sk-proj-0123456789abcdefghijklmnop";
        using var spans = new TtaActors.Tests.Support.SpanRecorder();
        var name = Register(Lambda.From<string, string>(text => text, "take")
            >> WaitForSignalPrimitive.Approval($"Ship it? The key is {secret}.")
            >> Lambda.From<object, string>(approval => "done", "finish"));
        var runId = NewRunId();
        var entity = Sys.ActorOf(DurableRunActor.Props(runId, _catalog,
            new DurableRunSettings { Capture = TtaActors.Telemetry.Llm.CapturePolicy.Default with { Enabled = capture } }));

        Start(entity, runId, name, "x");
        await StatusAsync(entity, runId, "waiting");
        await entity.Ask<SignalAccepted>(new Signal(runId, "approval", "sig-c", $$"""{"approved":true,"note":"token={{secret}}"}"""), Patience);
        await StatusAsync(entity, runId, "succeeded");

        var mine = spans.Where(s => Equals(s.GetTagItem(TtaActors.Telemetry.TelemetryNames.Durable.StepPath), "1:approval")
                                    && Equals(s.GetTagItem(TtaActors.Telemetry.TelemetryNames.Attributes.WorkflowRunId), runId));
        var prompt = mine.Select(s => s.GetTagItem(TtaActors.Telemetry.TelemetryNames.Durable.WaitPrompt) as string).Where(v => v is not null).ToList();
        var payload = mine.Select(s => s.GetTagItem(TtaActors.Telemetry.TelemetryNames.Durable.SignalPayload) as string).Where(v => v is not null).ToList();
        Assert.True(mine.Count >= 2, $"the wait and signal spans of step 1:approval were not seen ({mine.Count})");
        Assert.All(mine.SelectMany(s => s.TagObjects), tag => Assert.DoesNotContain(secret, tag.Value?.ToString() ?? ""));
        if (capture)
        {
            Assert.Equal("Ship it? The key is [REDACTED].", Assert.Single(prompt));
            Assert.Contains("\"approved\":true", Assert.Single(payload));
            Assert.Contains(TtaActors.Telemetry.Llm.CapturePolicy.Redacted, payload[0]);
        }
        else
        {
            Assert.Empty(prompt);
            Assert.Empty(payload);
        }
        // The journal keeps both whole: the next step received the payload as sent.
        Assert.Contains((await EventsAsync(entity, runId)), e => e.ToJsonString().Contains("sig-c", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_resumed_run_should_stay_in_the_trace_of_its_start_with_one_root_and_no_orphan_span()
    {
        var exported = new ConcurrentQueue<System.Diagnostics.Activity>();
        using var listener = new System.Diagnostics.ActivityListener
        {
            ShouldListenTo = source => source.Name == TtaActors.Telemetry.TelemetryNames.SourceName,
            Sample = (ref System.Diagnostics.ActivityCreationOptions<System.Diagnostics.ActivityContext> _) =>
                System.Diagnostics.ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = exported.Enqueue,
        };
        System.Diagnostics.ActivitySource.AddActivityListener(listener);
        // The run's root span, as DurableRuns.StartAsync makes it: ended once the start is journaled, its context journaled.
        var previous = System.Diagnostics.Activity.Current;
        System.Diagnostics.Activity.Current = null;
        var root = TtaActors.Telemetry.TtaInstrumentation.ActivitySource.StartActivity("workflow.order")!;
        System.Diagnostics.Activity.Current = previous;
        var parent = TraceParent.From(root);

        var workflow = new OrderWorkflow { Block = new TaskCompletionSource<string>() };
        var name = Register(workflow.Definition());
        var runId = NewRunId();
        var first = Entity(runId);
        first.Tell(new Start(runId, name, DurableJson.From(new Order("T1", false)), DurableJson.Context(WorkflowContext.Create()), parent.ToW3C(),
            parent.TraceState, null, null));
        ExpectMsg<View>();
        root.Stop();
        await StatusAsync(first, runId, "waiting");
        await first.Ask<SignalAccepted>(new Signal(runId, "approval", "sig-t", "true"), Patience);
        AwaitCondition(() => workflow.ChargeKeys.Count == 1, Patience);
        // The node dies with charge in flight: its step span (and the spans inside it) are never ended, so never exported,
        // as on a killed process. Its Block is never completed.
        await StopAsync(first);
        workflow.Block = null;
        var resumedAt = DateTime.UtcNow;

        var second = Entity(runId);
        await StatusAsync(second, runId, "succeeded");

        AwaitCondition(() => exported.Any(s => s.OperationName == "durable.step 2:charge" && s.StartTimeUtc >= resumedAt), Patience);
        var trace = exported.Where(s => s.TraceId == root.TraceId).ToList();
        var ids = trace.Select(s => s.SpanId).ToHashSet();
        Assert.Equal([root.SpanId], trace.Where(s => !ids.Contains(s.ParentSpanId)).Select(s => s.SpanId));
        var resumed = trace.Where(s => s.StartTimeUtc >= resumedAt).ToList();
        Assert.Contains(resumed, s => s.OperationName == "durable.step 2:charge" && Equals(s.GetTagItem("durable.resumed"), true));
        Assert.Contains(resumed, s => s.OperationName.StartsWith("primitive.", StringComparison.Ordinal));
        Assert.All(resumed, s => Assert.Contains(s.ParentSpanId, ids));
        // Steps before and after the resume hang under the same root: the journaled trace parent, not the new node's context.
        Assert.All(trace.Where(s => s.OperationName.StartsWith("durable.step", StringComparison.Ordinal)), s => Assert.Equal(root.SpanId, s.ParentSpanId));
        Assert.True(trace.Count(s => s.OperationName.StartsWith("durable.step", StringComparison.Ordinal)) >= 2);
    }

    [Fact]
    public async Task A_streaming_llm_step_should_journal_its_text_in_bounded_chunks_as_text_message_events()
    {
        const string model = "gpt-4o-mini-2024-07-18";
        static string Chunk(string delta, string? finish = null) =>
            "data: {\"id\":\"c9\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"" + model
            + "\",\"choices\":[{\"index\":0,\"delta\":" + delta + ",\"finish_reason\":" + (finish is null ? "null" : $"\"{finish}\"") + "}]}";
        // 300 deltas of two characters: 600 characters of answer.
        var deltas = Enumerable.Range(0, 300).Select(i => Chunk($$"""{"content":"{{(char)('a' + i % 26)}}{{i % 10}}"}""")).ToList();
        using var server = new TtaActors.Tests.Llm.ScriptedHttpServer(_ => new TtaActors.Tests.Llm.ScriptedResponse(200, Events:
            [Chunk("""{"role":"assistant","content":""}"""), .. deltas, Chunk("{}", "stop"), "data: [DONE]"]));
        var settings = new TtaActors.Actors.Llm.LlmSettings(TtaActors.Llm.Providers.LlmProviders.Create(new TtaActors.Llm.Providers.LlmProviderOptions
        {
            OpenAiApiKey = "sk-test-openai-0123456789abcdefghij", OpenAiBaseUrl = new Uri(server.BaseUrl + "/v1"), MaxRetries = 0,
        }));
        var name = Register(settings.Chat("openai", "gpt-4o-mini", new TtaActors.Actors.Llm.LlmStepOptions { Stream = true }));
        var runId = NewRunId();
        // Only the size bound cuts chunks here (the interval is far away), so the chunking is exact.
        var entity = Sys.ActorOf(DurableRunActor.Props(runId, _catalog,
            new DurableRunSettings { TextChunkChars = 100, TextFlushInterval = TimeSpan.FromHours(1) }));

        Start(entity, runId, name, "go");
        var finished = await StatusAsync(entity, runId, "succeeded");

        var events = await EventsAsync(entity, runId);
        var kinds = events.Select(Kind).ToList();
        var start = kinds.IndexOf("TEXT_MESSAGE_START");
        var end = kinds.IndexOf("TEXT_MESSAGE_END");
        Assert.True(start > kinds.IndexOf("STEP_STARTED") && end > start && kinds.IndexOf("STEP_FINISHED") > end, string.Join(",", kinds));
        var contents = events.Where(e => Kind(e) == "TEXT_MESSAGE_CONTENT").ToList();
        Assert.Equal(6, contents.Count);
        Assert.All(contents, c => Assert.Equal(100, ((string)c["delta"]!).Length));
        var messageId = (string)events[start]["messageId"]!;
        Assert.All(events.Skip(start).Take(end - start + 1), e => Assert.Equal(messageId, (string)e["messageId"]!));
        Assert.Equal("assistant", (string)events[start]["role"]!);
        var text = string.Concat(contents.Select(c => (string)c["delta"]!));
        Assert.Equal(string.Concat(Enumerable.Range(0, 300).Select(i => $"{(char)('a' + i % 26)}{i % 10}")), text);
        Assert.Contains(text, finished.Output!.Json);

        // The chunks are in the journal: a new entity (another node) replays the same stream.
        await StopAsync(entity);
        var replayed = await EventsAsync(Entity(runId), runId);
        Assert.Equal(events.Select(e => e.ToJsonString()), replayed.Select(e => e.ToJsonString()));
    }

    [Fact]
    public async Task A_finished_run_recovered_elsewhere_should_keep_its_outcome_without_executing_anything_again()
    {
        var workflow = new OrderWorkflow();
        var name = Register(workflow.Definition());
        var runId = NewRunId();
        var first = Entity(runId);
        Start(first, runId, name, new Order("F1", false));
        await StatusAsync(first, runId, "waiting");
        await first.Ask<SignalAccepted>(new Signal(runId, "approval", "sig-f", "true"), Patience);
        var finished = await StatusAsync(first, runId, "succeeded");
        await StopAsync(first);

        var second = Entity(runId);
        var recovered = await second.Ask<View>(new Get(runId), Patience);

        Assert.Equal(("succeeded", finished.Output!.Json, finished.LastEventId), (recovered.Status, recovered.Output!.Json, recovered.LastEventId));
        Assert.Equal(1, workflow.ReserveCalls);
        Assert.Single(workflow.ChargeKeys);
        var late = await second.Ask<Refused>(new Signal(runId, "approval", "sig-late", "true"), Patience);
        Assert.Equal(DurableRefusalCodes.Finished, late.Code);
        var events = await EventsAsync(second, runId);
        Assert.Equal(1, events.Count(e => Kind(e) == "RUN_FINISHED"));
        // Exactly one completion record in the journal itself (what GET /runs?status= and recovery at start-up read).
        var journal = Akka.Persistence.Query.PersistenceQuery.Get(Sys)
            .ReadJournalFor<Akka.Persistence.Sql.Query.SqlReadJournal>(Akka.Persistence.Sql.Query.SqlReadJournal.Identifier);
        var stored = await journal.CurrentEventsByPersistenceId(DurableRunActor.PersistenceIdPrefix + runId, 0, long.MaxValue)
            .RunWith(Akka.Streams.Dsl.Sink.Seq<Akka.Persistence.Query.EventEnvelope>(), Akka.Streams.ActorMaterializer.Create(Sys));
        Assert.Single(stored, e => e.Event is DurableRunEvents.RunSucceeded);
        Assert.Equal(finished.LastEventId, stored[^1].SequenceNr);
    }

    [Theory]
    [InlineData(0, false)]
    [InlineData(1, true)]
    [InlineData(DurableRunSettings.MaxTextChunkChars, true)]
    [InlineData(DurableRunSettings.MaxTextChunkChars + 1, false)]
    public void The_text_chunk_size_should_be_bounded(int chars, bool accepted)
    {
        if (accepted) Assert.Equal(chars, new DurableRunSettings { TextChunkChars = chars }.TextChunkChars);
        else Assert.Throws<ArgumentOutOfRangeException>(() => new DurableRunSettings { TextChunkChars = chars });
        Assert.Equal(512, new DurableRunSettings().TextChunkChars);
    }

    [Fact]
    public void Every_journaled_event_and_every_message_should_round_trip_through_the_durable_serializer()
    {
        var at = DateTimeOffset.UnixEpoch;
        object[] messages =
        [
            new DurableRunEvents.RunStarted("r", "w", "h", new TypedJson("System.String, System.Private.CoreLib", "\"x\""), "{}", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", null, "p", null, at),
            new DurableRunEvents.StepStarted(1, "1:a", "r:1:a:1", 1, at),
            new DurableRunEvents.StepCompleted(1, "1:a", null, "{}", 1.5, at),
            new DurableRunEvents.WaitStarted(2, "2:b", ["approval"], true, "ok?", "{\"a\":1}", at, at),
            new DurableRunEvents.SignalReceived(2, "approval", "s", "true", at),
            new DurableRunEvents.WaitTimedOut(2, true, at),
            new DurableRunEvents.TextMessageStarted("m1", "0:llm", at),
            new DurableRunEvents.TextMessageContent("m1", "Hello", at),
            new DurableRunEvents.TextMessageEnded("m1", at),
            new DurableRunEvents.RunSucceeded(null, at),
            new DurableRunEvents.RunFailed("p", "T", "m", at),
            new Signal("r", "approval", "s", null),
            new Start("r", "w", null, "{}", null, null, "p", "c", at),
            new GetEvents("r", 3, 10, 100),
            new Refused("r", DurableRefusalCodes.NotAwaited, "m", ["a", "b"]),
            new Events("r", [new Event(1, "{}")], true),
        ];
        foreach (var message in messages)
        {
            var serializer = Sys.Serialization.FindSerializerFor(message);
            Assert.IsType<DurableRunSerializer>(serializer);
            var back = Sys.Serialization.Deserialize(serializer.ToBinary(message), serializer.Identifier,
                ((Akka.Serialization.SerializerWithStringManifest)serializer).Manifest(message));
            Assert.Equal(System.Text.Json.JsonSerializer.Serialize(message, message.GetType()), System.Text.Json.JsonSerializer.Serialize(back, back.GetType()));
        }
    }
}
