using System.Collections.Concurrent;
using System.Diagnostics;

namespace TtaActors.Telemetry;

/// <summary>
/// Caps the distinct values a metric label that callers choose (persona, chat mode, model) takes on this process:
/// the first <see cref="Limit"/> distinct values are kept as they are, every later one folds into
/// <see cref="TelemetryNames.Overflow"/> and is counted in <c>telemetry_label_values_folded_total{label}</c>. Each
/// distinct value is one more series of every metric that carries the label, so without a cap a caller could create
/// series without end. The hot path costs one dictionary lookup.
/// </summary>
public sealed class LabelValueBound
{
    /// <summary>Distinct values kept per label when <c>TTA_METRIC_LABEL_VALUES</c> does not say otherwise.</summary>
    public const int DefaultLimit = 100;

    /// <summary>Persona values, shared by <c>persona</c>, <c>from_persona</c> and <c>to_persona</c> (they name the same things).</summary>
    public static readonly LabelValueBound Personas = new(DefaultLimit);

    /// <summary>Chat mode values (<c>chatmode</c>).</summary>
    public static readonly LabelValueBound ChatModes = new(DefaultLimit);

    /// <summary>Model values (<c>model</c>, <c>gen_ai.request.model</c>, <c>gen_ai.response.model</c>).</summary>
    public static readonly LabelValueBound Models = new(DefaultLimit);

    /// <summary>Agent and tool names (<c>gen_ai.agent.name</c>, <c>gen_ai.tool.name</c> on <c>gen_ai.client.operation.duration</c>).</summary>
    public static readonly LabelValueBound AgentsAndTools = new(DefaultLimit);

    private readonly ConcurrentDictionary<string, bool> _admitted = new(StringComparer.Ordinal);
    private readonly Lock _admitting = new();
    private int _limit;

    /// <summary>A bound that keeps the first <paramref name="limit"/> distinct values.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="limit"/> is below 1.</exception>
    public LabelValueBound(int limit) => _limit = CheckLimit(limit);

    /// <summary>The most distinct values kept; set by the host from <c>TTA_METRIC_LABEL_VALUES</c>.</summary>
    public int Limit
    {
        get => Volatile.Read(ref _limit);
        set => Volatile.Write(ref _limit, CheckLimit(value));
    }

    /// <summary>How many distinct values are kept now.</summary>
    public int Count => _admitted.Count;

    /// <summary>Sets the limit of every caller-supplied label of this process.</summary>
    public static void SetLimitForAll(int limit)
    {
        Personas.Limit = limit;
        ChatModes.Limit = limit;
        Models.Limit = limit;
        AgentsAndTools.Limit = limit;
    }

    /// <summary><paramref name="value"/> when it is (or can still become) one of the kept values, else the overflow value.</summary>
    /// <param name="label">The label being written, named in the folded counter.</param>
    /// <param name="value">The value a caller gave for the label.</param>
    public string Bound(string label, string value)
    {
        if (_admitted.ContainsKey(value)) return value;
        lock (_admitting)
        {
            if (_admitted.ContainsKey(value)) return value;
            if (_admitted.Count < Limit)
            {
                _admitted[value] = true;
                return value;
            }
        }
        var folded = TtaInstrumentation.LabelValuesFolded;
        if (folded.Enabled) folded.Add(1, new KeyValuePair<string, object?>(TelemetryNames.Labels.Label, label));
        return TelemetryNames.Overflow;
    }

    private static int CheckLimit(int limit) => limit > 0
        ? limit
        : throw new ArgumentOutOfRangeException(nameof(limit), limit, "A label needs room for at least one value.");
}
