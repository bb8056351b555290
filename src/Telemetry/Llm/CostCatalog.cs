using System.Collections.Immutable;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace TtaActors.Telemetry.Llm;

/// <summary>Public price of one model, in USD per one million tokens.</summary>
public sealed record ModelPrice(decimal InputPerMillion, decimal OutputPerMillion, decimal? CachedInputPerMillion = null, string? Provider = null);

/// <summary>What one call cost, split the way Langfuse shows it.</summary>
public sealed record LlmCost(decimal Input, decimal Output, decimal Total);

/// <summary>
/// Prices per model, from the data file shipped with TtaActors (<c>Llm/model-prices.json</c>), overridable and
/// extendable from configuration. A model that is not in the catalog has no cost: the catalog never guesses.
/// </summary>
public sealed partial class CostCatalog
{
    private const string ResourceName = "TtaActors.Telemetry.model-prices.json";
    private static readonly Lazy<CostCatalog> Shipped = new(LoadShipped);

    private CostCatalog(ImmutableDictionary<string, ModelPrice> prices) => Prices = prices;

    /// <summary>Price per model name (case-insensitive).</summary>
    public ImmutableDictionary<string, ModelPrice> Prices { get; }

    /// <summary>The catalog shipped with this version of TtaActors.</summary>
    public static CostCatalog Default => Shipped.Value;

    /// <summary>A catalog with no prices: no call gets a cost.</summary>
    public static CostCatalog Empty { get; } = new(ImmutableDictionary<string, ModelPrice>.Empty.WithComparers(StringComparer.OrdinalIgnoreCase));

    /// <summary>This catalog with <paramref name="model"/> priced as given (added or replaced).</summary>
    public CostCatalog With(string model, ModelPrice price) => new(Prices.SetItem(model, price));

    /// <summary>This catalog with every model of <paramref name="other"/> added or replaced.</summary>
    public CostCatalog With(CostCatalog other) => new(Prices.SetItems(other.Prices));

    /// <summary>
    /// The price of <paramref name="model"/>: an exact match, else the catalog model that the name extends with a
    /// dated or <c>-latest</c> suffix (<c>gpt-4o-mini-2024-07-18</c>, <c>claude-sonnet-4-20250514</c>).
    /// </summary>
    public ModelPrice? Find(string? model)
    {
        if (string.IsNullOrEmpty(model)) return null;
        if (Prices.TryGetValue(model, out var exact)) return exact;
        var match = VersionSuffix().Match(model);
        if (match.Success && Prices.TryGetValue(model[..match.Index], out var dated)) return dated;
        return null;
    }

    /// <summary>The cost of a call, or null when the model has no price.</summary>
    public LlmCost? Cost(string? model, long inputTokens, long outputTokens, long cachedInputTokens = 0)
    {
        if (Find(model) is not { } price) return null;
        var cached = Math.Clamp(cachedInputTokens, 0, inputTokens);
        var input = ((inputTokens - cached) * price.InputPerMillion + cached * (price.CachedInputPerMillion ?? price.InputPerMillion)) / 1_000_000m;
        var output = outputTokens * price.OutputPerMillion / 1_000_000m;
        return new LlmCost(input, output, input + output);
    }

    /// <summary>Reads a catalog in the format of the shipped data file; errors name the file and the model.</summary>
    public static CostCatalog Parse(string json, string source)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
        }
        catch (JsonException error)
        {
            throw new InvalidDataException($"Model price file '{source}' is not valid JSON: {error.Message}", error);
        }
        using (document)
        {
            if (!document.RootElement.TryGetProperty("models", out var models) || models.ValueKind != JsonValueKind.Object)
                throw new InvalidDataException($"Model price file '{source}' has no \"models\" object.");
            var prices = ImmutableDictionary.CreateBuilder<string, ModelPrice>(StringComparer.OrdinalIgnoreCase);
            foreach (var model in models.EnumerateObject())
            {
                prices[model.Name] = new ModelPrice(
                    Required(model, "input", source),
                    Required(model, "output", source),
                    Optional(model, "cached_input", source),
                    model.Value.TryGetProperty("provider", out var provider) ? provider.GetString() : null);
            }
            return new CostCatalog(prices.ToImmutable());
        }
    }

    /// <summary>Reads a price file from disk; a missing file is an error naming it.</summary>
    public static CostCatalog Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Model price file '{path}' does not exist.", path);
        return Parse(File.ReadAllText(path), path);
    }

    private static decimal Required(JsonProperty model, string field, string source) =>
        Optional(model, field, source)
        ?? throw new InvalidDataException($"Model price file '{source}': model '{model.Name}' has no \"{field}\" price.");

    private static decimal? Optional(JsonProperty model, string field, string source)
    {
        if (model.Value.ValueKind != JsonValueKind.Object)
            throw new InvalidDataException($"Model price file '{source}': model '{model.Name}' must be an object of prices.");
        if (!model.Value.TryGetProperty(field, out var value)) return null;
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetDecimal(out var price) || price < 0)
            throw new InvalidDataException($"Model price file '{source}': \"{field}\" of model '{model.Name}' must be a number of USD per million tokens, 0 or more.");
        return price;
    }

    private static CostCatalog LoadShipped()
    {
        using var stream = typeof(CostCatalog).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"The shipped model price file '{ResourceName}' is missing from the TtaActors.Telemetry assembly.");
        using var reader = new StreamReader(stream);
        return Parse(reader.ReadToEnd(), ResourceName);
    }

    [GeneratedRegex(@"-(\d{4}-\d{2}-\d{2}|\d{8}|latest)$", RegexOptions.CultureInvariant)]
    private static partial Regex VersionSuffix();
}
