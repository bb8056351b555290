using System.Diagnostics;

namespace TtaActors.Telemetry.Export.Langfuse;

/// <summary>
/// The Langfuse side of the telemetry contract: the attributes Langfuse reads for a trace's fields, derived from the
/// contract attributes a span carries when the Langfuse exporter encodes it. The workflow path sets each field once
/// under its contract name and never under Langfuse's; other exporters send the contract names only.
/// </summary>
/// <remarks>
/// Langfuse takes a trace's user, session, metadata and tags from whichever span carries them (a run's spans may reach
/// it in several requests), so they are derived on every span that holds their source. A span that names a field
/// itself (the Langfuse-style API of <see cref="LangfuseTracing"/>) keeps its own value.
/// </remarks>
internal static class LangfuseAttributeMapping
{
    /// <summary>Contract attribute and the Langfuse attribute made of it, in the order they are written.</summary>
    private static readonly (string Source, string Target)[] Mapping =
    [
        (TelemetryNames.Attributes.WorkflowTraceName, TelemetryNames.Langfuse.TraceName),
        (TelemetryNames.Attributes.Persona, TelemetryNames.Langfuse.UserId),
        (TelemetryNames.Attributes.WorkflowSessionId, TelemetryNames.Langfuse.SessionId),
        (TelemetryNames.Attributes.ChatMode, TelemetryNames.Langfuse.TraceMetadataChatMode),
        (TelemetryNames.Attributes.WorkflowWorkspace, TelemetryNames.Langfuse.TraceMetadataWorkspace),
        (TelemetryNames.Attributes.WorkflowTags, TelemetryNames.Langfuse.TraceTags),
    ];

    /// <summary>
    /// The name an attribute goes to Langfuse under: a run's recorded input and output are Langfuse's trace input and
    /// output, sent under Langfuse's names instead of the contract's, so the content is sent once.
    /// </summary>
    public static string NameOf(string key) => key switch
    {
        TelemetryNames.Attributes.WorkflowInput => TelemetryNames.Langfuse.TraceInput,
        TelemetryNames.Attributes.WorkflowOutput => TelemetryNames.Langfuse.TraceOutput,
        _ => key,
    };

    /// <summary>The Langfuse attributes <paramref name="activity"/> does not carry itself, made of its contract attributes.</summary>
    public static void AddDerived(Activity activity, Action<string, object> write)
    {
        Span<int> found = stackalloc int[Mapping.Length];
        found.Clear();
        object?[]? values = null;
        foreach (var tag in activity.TagObjects)
        {
            if (tag.Value is null) continue;
            for (var i = 0; i < Mapping.Length; i++)
            {
                if (tag.Key == Mapping[i].Source)
                {
                    values ??= new object?[Mapping.Length];
                    values[i] = tag.Value;
                }
                else if (tag.Key == Mapping[i].Target) found[i] = 1;
            }
        }
        if (values is null) return;
        for (var i = 0; i < Mapping.Length; i++)
        {
            if (values[i] is { } value && found[i] == 0) write(Mapping[i].Target, value);
        }
    }
}
