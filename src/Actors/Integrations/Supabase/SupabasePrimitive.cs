using System.Text.Json;
using System.Text.Json.Nodes;
using Akka.Actor;
using TtaActors.Actors.Context;
using TtaActors.Actors.Execution;
using TtaActors.Actors.Primitives;

namespace TtaActors.Actors.Integrations.Supabase;

/// <summary>
/// A leaf step that calls Supabase's data API: its span is <c>primitive.{Name}</c> (type <c>SupabasePrimitive</c>)
/// with the client span (<c>select orders</c>) under it. The output is the rows (or the function's answer); with
/// <see cref="SupabaseQuery.Count"/> it is <c>{"rows": [...], "count": N}</c>.
/// </summary>
public sealed class SupabasePrimitive : Primitive
{
    private readonly LambdaPrimitive _step;

    /// <param name="describe">How errors name the step (a workflow file's step and location); null names none.</param>
    /// <param name="client">The Supabase client.</param>
    /// <param name="query">The call; its problems are checked here.</param>
    /// <param name="name">The name in spans, metrics and failure paths; the type name when null.</param>
    /// <param name="timeout">How long one call may take; null takes <see cref="SupabaseOptions.RequestTimeout"/> (30 s by default).</param>
    /// <exception cref="ArgumentException">The query has problems (see <see cref="SupabaseQuery.Problems"/>).</exception>
    public SupabasePrimitive(SupabaseClient client, SupabaseQuery query, string? name = null, TimeSpan? timeout = null, string? describe = null)
        : base(name)
    {
        Client = client ?? throw new ArgumentNullException(nameof(client));
        Query = query ?? throw new ArgumentNullException(nameof(query));
        if (query.Problems() is { Count: > 0 } problems)
            throw new ArgumentException($"Supabase step '{name ?? TypeName}': {string.Join(" ", problems)}", nameof(query));
        var suffix = describe is null ? "" : $" ({describe})";
        _step = new LambdaPrimitive(async (input, context, cancellation) =>
        {
            List<JsonNode?> values;
            JsonNode? body = null;
            try
            {
                values = query.Filters.Select(f => f.Value(input, context)).ToList();
                if (query.SendsBody) body = query.Body is { } make ? make(input, context) : ToJson(input);
                // Rendering the target checks every value before anything is sent.
                _ = query.RelativeTarget(values);
            }
            catch (ArgumentException error)
            {
                throw new ArgumentException(error.Message + suffix, error);
            }
            SupabaseResult result;
            try
            {
                result = await client.ExecuteAsync(query, values, body, timeout, cancellation).ConfigureAwait(false);
            }
            catch (SupabaseException error) when (describe is not null)
            {
                throw new SupabaseException(error.Message + suffix, error.StatusCode ?? default, error.Code, error.Error, error.Details, error.Hint);
            }
            catch (TimeoutException error) when (describe is not null)
            {
                throw new TimeoutException(error.Message + suffix, error);
            }
            object? output = query.Count is null ? result.Data : new JsonObject { ["rows"] = result.Data, ["count"] = result.Count };
            return new StepOutcome(output);
        }, name);
    }

    /// <summary>The Supabase client the step calls with.</summary>
    public SupabaseClient Client { get; }
    /// <summary>The call the step makes.</summary>
    public SupabaseQuery Query { get; }
    /// <inheritdoc/>
    public override IReadOnlyList<Primitive> Children => [];
    /// <inheritdoc/>
    public override string TypeName => "SupabasePrimitive";

    internal override Props CreateProps(PrimitiveNode node) => _step.CreateProps(node);

    private static JsonNode? ToJson(object? input) => input switch
    {
        null => null,
        JsonNode node => node.DeepClone(),
        JsonElement element => JsonNode.Parse(element.GetRawText()),
        _ => JsonSerializer.SerializeToNode(input),
    };
}
