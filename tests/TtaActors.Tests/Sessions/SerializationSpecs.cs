using System.Diagnostics;
using System.Runtime.Serialization;
using System.Text;
using System.Text.Json;
using Akka.Actor;
using TtaActors.Actors.Context;
using TtaActors.Actors.Execution;
using TtaActors.Actors.Sessions;
using TtaActors.Runtime.Hosting;
using Xunit;
using Xunit.Abstractions;
using static TtaActors.Actors.Sessions.PersonaSessionEvents;

namespace TtaActors.Tests.Sessions;

public sealed record SerializedTicket(string Kind, string Area, int Priority);

/// <summary>The explicit serializers, bound through the shipped <c>hocon/serialization.conf</c>.</summary>
public sealed class SerializationSpecs(ITestOutputHelper output)
    : Akka.TestKit.Xunit2.TestKit(HoconFiles.Load("serialization.conf"), output: output)
{
    private byte[] Write(object message, out string manifest, out int serializerId)
    {
        var serializer = Sys.Serialization.FindSerializerFor(message);
        serializerId = serializer.Identifier;
        manifest = Akka.Serialization.Serialization.ManifestFor(serializer, message);
        return serializer.ToBinary(message);
    }

    private object Read(byte[] bytes, int serializerId, string manifest) => Sys.Serialization.Deserialize(bytes, serializerId, manifest);

    [Fact]
    public void Session_messages_and_envelopes_should_be_bound_to_the_explicit_serializers()
    {
        Assert.IsType<PersonaSessionSerializer>(Sys.Serialization.FindSerializerFor(new PersonaSessionCommands.GetSession("a")));
        Assert.IsType<PersonaSessionSerializer>(Sys.Serialization.FindSerializerFor(new RunStarted(RunId.New(), "w", "p", null, DateTimeOffset.UnixEpoch)));
        Assert.IsType<PersonaSessionSerializer>(Sys.Serialization.FindSerializerFor(PersonaSessionState.Empty("a")));
        Assert.IsType<WorkflowEnvelopeSerializer>(Sys.Serialization.FindSerializerFor(WorkflowContext.Create()));
        Assert.IsType<WorkflowEnvelopeSerializer>(Sys.Serialization.FindSerializerFor(
            new PrimitiveFailed(RunId.New(), 1, new WorkflowFailure("a/b", "System.TimeoutException", "late"))));
    }

    [Fact]
    public void An_event_written_before_a_field_was_added_should_still_be_readable()
    {
        // RunFinished as an earlier version wrote it: no costUsd and no at; plus a field a later version added.
        var runId = RunId.New();
        var older = Encoding.UTF8.GetBytes(
            $$"""{"runId":"{{runId}}","succeeded":true,"inputTokens":12,"outputTokens":4,"model":"added-by-a-newer-version"}""");

        var read = Assert.IsType<RunFinished>(Read(older, PersonaSessionSerializer.Id, "ps.ev.run-finished"));

        Assert.Equal(new RunFinished(runId, true, 12, 4, 0m, default), read);
    }

    [Fact]
    public void Events_and_state_should_survive_a_round_trip()
    {
        var state = PersonaSessionState.Empty("s-1")
            .Apply(new PersonaSwitched("none", "backend-engineer", "feature-implementation", DateTimeOffset.UnixEpoch))
            .Apply(new TokenBudgetSet("backend-engineer", 500, DateTimeOffset.UnixEpoch))
            .Apply(new RunStarted(RunId.New(), "demo", "backend-engineer", "feature-implementation", DateTimeOffset.UnixEpoch));

        var bytes = Write(state, out var manifest, out var id);
        var read = Assert.IsType<PersonaSessionState>(Read(bytes, id, manifest));

        Assert.Equal(bytes, Write(read, out _, out _));
        Assert.Equal("backend-engineer", read.Persona);
        Assert.Equal(500, read.TokenBudgets["backend-engineer"]);
        Assert.Single(read.OpenRuns);
    }

    [Fact]
    public void A_message_from_an_incompatible_version_should_fail_with_a_clear_error()
    {
        var unknown = Assert.Throws<SerializationException>(() => Read("{}"u8.ToArray(), PersonaSessionSerializer.Id, "ps.ev.from-the-future"));
        Assert.Contains("does not know the message kind 'ps.ev.from-the-future'", unknown.Message);
        Assert.Contains("run the same TtaActors version on every node", unknown.Message);

        var garbled = Assert.Throws<SerializationException>(() => Read("[1,2"u8.ToArray(), PersonaSessionSerializer.Id, "ps.switch"));
        Assert.Contains("cannot read a 'ps.switch' message", garbled.Message);
    }

    [Fact]
    public void An_envelope_should_keep_its_trace_parent_context_payload_and_reply_address()
    {
        var traceParent = new TraceParent(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.Recorded, "tta=1");
        var context = WorkflowContext.Create("wf", "session-1", "backend-engineer", "feature-implementation", "tta-dev-copilot")
            .WithTag("team", "orders").WithBaggage("tenant", "t1").WithState("attempts", 2)
            .WithRoutingDecision(new RoutingDecision("feature", false, DateTimeOffset.UnixEpoch));
        var envelope = new WorkflowEnvelope(RunId.New(), 42, new SerializedTicket("feature", "orders-api", 2), context, traceParent, "lf-trace", TestActor)
        {
            Deadline = DateTimeOffset.UnixEpoch.AddHours(1),
        };

        var bytes = Write(envelope, out var manifest, out var id);
        var read = Assert.IsType<WorkflowEnvelope>(Read(bytes, id, manifest));

        Assert.Equal((envelope.RunId, envelope.CallId, envelope.LangfuseTraceId, envelope.Deadline), (read.RunId, read.CallId, read.LangfuseTraceId, read.Deadline));
        Assert.Equal(traceParent, read.TraceParent);
        Assert.Equal(envelope.Payload, read.Payload);
        Assert.Equal(TestActor, read.ReplyTo);
        Assert.Equal((context.WorkflowId, context.SessionId, context.Persona, context.ChatMode, context.Workspace, context.CorrelationId),
            (read.Context.WorkflowId, read.Context.SessionId, read.Context.Persona, read.Context.ChatMode, read.Context.Workspace, read.Context.CorrelationId));
        Assert.Equal("orders", read.Context.Tags["team"]);
        Assert.Equal("t1", read.Context.Baggage["tenant"]);
        Assert.Equal(2, ((JsonElement)read.Context.State["attempts"]!).GetInt32());
        Assert.Equal(context.RoutingHistory, read.Context.RoutingHistory);
    }

    [Fact]
    public void Answers_should_keep_their_output_or_failure()
    {
        var context = WorkflowContext.Create(persona: "frontend-dev");
        var ok = new PrimitiveSucceeded(RunId.New(), 7, new object?[] { "code", 3 }, context);
        var readOk = Assert.IsType<PrimitiveSucceeded>(Read(Write(ok, out var m1, out var id1), id1, m1));
        Assert.Equal((ok.RunId, ok.CallId, "frontend-dev"), (readOk.RunId, readOk.CallId, readOk.Context.Persona));
        var parts = Assert.IsType<object?[]>(readOk.Output);
        Assert.Equal("code", ((JsonElement)parts[0]!).GetString());

        var failed = new PrimitiveFailed(RunId.New(), 8, WorkflowFailure.From("demo/plan", new TimeoutException("design tool timed out")));
        var readFailed = Assert.IsType<PrimitiveFailed>(Read(Write(failed, out var m2, out var id2), id2, m2));
        Assert.Equal(new WorkflowFailure("demo/plan", "System.TimeoutException", "design tool timed out"), readFailed.Failure);
    }
}
