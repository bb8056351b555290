using System.Runtime.Serialization;
using System.Text.Json;
using Akka.Actor;
using TtaActors.Actors.Context;
using TtaActors.Actors.Serialization;

namespace TtaActors.Actors.Execution;

/// <summary>
/// Serialises what crosses a node between primitive actors: <see cref="WorkflowEnvelope"/>, its answers and
/// <see cref="WorkflowContext"/>. The trace parent travels as its W3C <c>traceparent</c> string, so a span on the other
/// node joins the same trace. A payload travels as JSON with its type name; the receiving node reads it back as that
/// type when it has it, else as a <see cref="JsonElement"/>. Context state values arrive as <see cref="JsonElement"/>.
/// The original exception object of a failure stays on its node; its type name and message travel.
/// </summary>
public sealed class WorkflowEnvelopeSerializer(ExtendedActorSystem system) : JsonManifestSerializer(system, Manifests)
{
    /// <summary>The serializer id bound in HOCON; stable, since it is written on the wire.</summary>
    public const int Id = 5151;

    private static readonly Dictionary<Type, string> Manifests = new()
    {
        [typeof(WorkflowEnvelope)] = "wf.envelope",
        [typeof(PrimitiveSucceeded)] = "wf.succeeded",
        [typeof(PrimitiveFailed)] = "wf.failed",
        [typeof(WorkflowContext)] = "wf.context",
    };

    private readonly ExtendedActorSystem _system = system;

    /// <summary>Returns <see cref="Id"/>.</summary>
    public override int Identifier => Id;

    /// <summary>The serializer's name in errors.</summary>
    protected override string Name => nameof(WorkflowEnvelopeSerializer);

    /// <summary>The wire form of an envelope or answer.</summary>
    protected override object ToWire(object message) => message switch
    {
        WorkflowEnvelope envelope => new EnvelopeWire(envelope.RunId, envelope.CallId, TypedPayload.From(envelope.Payload), envelope.Context,
            envelope.TraceParent.ToW3C(), envelope.TraceParent.TraceState, envelope.LangfuseTraceId,
            Akka.Serialization.Serialization.SerializedActorPath(envelope.ReplyTo), envelope.Deadline),
        PrimitiveSucceeded succeeded => new SucceededWire(succeeded.RunId, succeeded.CallId, TypedPayload.From(succeeded.Output), succeeded.Context),
        PrimitiveFailed failed => new FailedWire(failed.RunId, failed.CallId, failed.Failure.PrimitivePath, failed.Failure.ErrorType, failed.Failure.Message),
        _ => message,
    };

    /// <summary>The envelope or answer of a wire form.</summary>
    protected override object FromWire(Type type, byte[] bytes)
    {
        if (type == typeof(WorkflowEnvelope))
        {
            var wire = Read<EnvelopeWire>(bytes);
            return new WorkflowEnvelope(wire.RunId, wire.CallId, wire.Payload?.Read(), wire.Context,
                TraceParent.ParseW3C(wire.TraceParent, wire.TraceState), wire.LangfuseTraceId,
                _system.Provider.ResolveActorRef(wire.ReplyTo))
            {
                Deadline = wire.Deadline,
            };
        }
        if (type == typeof(PrimitiveSucceeded))
        {
            var wire = Read<SucceededWire>(bytes);
            return new PrimitiveSucceeded(wire.RunId, wire.CallId, wire.Output?.Read(), wire.Context);
        }
        if (type == typeof(PrimitiveFailed))
        {
            var wire = Read<FailedWire>(bytes);
            return new PrimitiveFailed(wire.RunId, wire.CallId, new WorkflowFailure(wire.PrimitivePath, wire.ErrorType, wire.Message));
        }
        return base.FromWire(type, bytes);
    }

    private static T Read<T>(byte[] bytes) =>
        JsonSerializer.Deserialize<T>(bytes, Options) ?? throw new SerializationException($"An empty {typeof(T).Name} was read.");

    private sealed record EnvelopeWire(RunId RunId, long CallId, TypedPayload? Payload, WorkflowContext Context, string? TraceParent,
        string? TraceState, string? LangfuseTraceId, string ReplyTo, DateTimeOffset? Deadline);

    private sealed record SucceededWire(RunId RunId, long CallId, TypedPayload? Output, WorkflowContext Context);

    private sealed record FailedWire(RunId RunId, long CallId, string PrimitivePath, string ErrorType, string Message);

    /// <summary>A payload as JSON with the name of its type (<c>Namespace.Type, Assembly</c>, no version).</summary>
    private sealed record TypedPayload(string Type, JsonElement Value)
    {
        public static TypedPayload? From(object? payload) => payload is null
            ? null
            : new TypedPayload($"{payload.GetType().FullName}, {payload.GetType().Assembly.GetName().Name}",
                JsonSerializer.SerializeToElement(payload, payload.GetType(), Options));

        public object? Read()
        {
            var type = System.Type.GetType(Type, throwOnError: false);
            return type is null || type == typeof(JsonElement) ? Value : Value.Deserialize(type, Options);
        }
    }
}
