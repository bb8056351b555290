using System.Runtime.Serialization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Akka.Actor;
using Akka.Serialization;
using TtaActors.Actors.Execution;

namespace TtaActors.Actors.Serialization;

/// <summary>
/// A <see cref="SerializerWithStringManifest"/> writing System.Text.Json. Each message type has a short, stable manifest
/// that never changes when the type is renamed or moved; JSON lets a reader skip fields it does not know and default
/// fields an older writer did not have, so adding a field keeps old journals and older nodes readable.
/// </summary>
public abstract class JsonManifestSerializer : SerializerWithStringManifest
{
    private readonly Dictionary<Type, string> _manifests;
    private readonly Dictionary<string, Type> _types;

    /// <param name="system">The actor system.</param>
    /// <param name="manifests">The manifest of each message type; each must be unique and must never change.</param>
    protected JsonManifestSerializer(ExtendedActorSystem system, IReadOnlyDictionary<Type, string> manifests) : base(system)
    {
        _manifests = new Dictionary<Type, string>(manifests);
        _types = manifests.ToDictionary(pair => pair.Value, pair => pair.Key);
    }

    /// <summary>The options every TtaActors serializer writes with.</summary>
    public static JsonSerializerOptions Options { get; } = CreateOptions();

    /// <summary>The serializer's name in its errors.</summary>
    protected abstract string Name { get; }

    /// <inheritdoc/>
    /// <exception cref="System.Runtime.Serialization.SerializationException">The type has no manifest.</exception>
    public override string Manifest(object o) =>
        _manifests.TryGetValue(o.GetType(), out var manifest)
            ? manifest
            : throw new SerializationException($"{Name} cannot serialise {o.GetType().FullName}: it is bound to this serializer but has no manifest.");

    /// <inheritdoc/>
    public override byte[] ToBinary(object obj) => JsonSerializer.SerializeToUtf8Bytes(ToWire(obj), Options);

    /// <inheritdoc/>
    /// <exception cref="System.Runtime.Serialization.SerializationException">The manifest is unknown (written by an incompatible TtaActors version).</exception>
    public override object FromBinary(byte[] bytes, string manifest)
    {
        if (!_types.TryGetValue(manifest, out var type))
        {
            throw new SerializationException(
                $"{Name} does not know the message kind '{manifest}'. It was written by an incompatible TtaActors version (another node " +
                "of the cluster, or an older or newer journal); run the same TtaActors version on every node.");
        }
        try
        {
            return FromWire(type, bytes);
        }
        catch (JsonException error)
        {
            throw new SerializationException(
                $"{Name} cannot read a '{manifest}' message ({error.Message}). It was written by an incompatible TtaActors version; " +
                "run the same TtaActors version on every node.", error);
        }
    }

    /// <summary>The object written for <paramref name="message"/>; by default the message itself.</summary>
    protected virtual object ToWire(object message) => message;

    /// <summary>The message read back from <paramref name="bytes"/>, of the type its manifest names.</summary>
    protected virtual object FromWire(Type type, byte[] bytes) =>
        JsonSerializer.Deserialize(bytes, type, Options)
        ?? throw new SerializationException($"{Name} read an empty '{type.Name}' message.");

    private static JsonSerializerOptions CreateOptions()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        };
        options.Converters.Add(new RunIdConverter());
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }

    private sealed class RunIdConverter : JsonConverter<RunId>
    {
        public override RunId Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            Guid.TryParse(reader.GetString(), out var value) ? new RunId(value) : throw new JsonException("A run id must be a GUID string.");

        public override void Write(Utf8JsonWriter writer, RunId value, JsonSerializerOptions options) => writer.WriteStringValue(value.ToString());
    }
}
