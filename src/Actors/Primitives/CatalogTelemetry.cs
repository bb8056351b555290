using System.Diagnostics;
using TtaActors.Actors.Context;
using TtaActors.Actors.Execution;
using TtaActors.Telemetry;

namespace TtaActors.Actors.Primitives;

/// <summary>Decision attributes and instruments of the catalog primitives, built only when someone listens.</summary>
internal static class CatalogTelemetry
{
    /// <summary>Sets a decision attribute on the execution's span, if the span records data.</summary>
    public static void Tag<T>(PrimitiveExecution execution, string key, T value)
    {
        // Generic so that a value type is boxed only when the span records it.
        if (execution.Span is { IsAllDataRequested: true } span) span.SetTag(key, value);
    }

    public static void RecordCacheLookup(PrimitiveNode node, WorkflowContext context, bool hit)
    {
        var counter = hit ? TtaInstrumentation.CacheHits : TtaInstrumentation.CacheMisses;
        if (!counter.Enabled) return;
        counter.Add(1, NameAndService(node, context.Workspace));
    }

    public static void RecordLateResult(PrimitiveNode node, string? serviceName)
    {
        if (!TtaInstrumentation.TimeoutLateResults.Enabled) return;
        TtaInstrumentation.TimeoutLateResults.Add(1, NameAndService(node, serviceName));
    }

    public static void RecordCircuitState(PrimitiveNode node, string? serviceName, CircuitState state)
    {
        if (!TtaInstrumentation.CircuitBreakerState.Enabled) return;
        TtaInstrumentation.CircuitBreakerState.Record((int)state, NameAndService(node, serviceName));
    }

    public static void RecordCircuitTransition(PrimitiveNode node, string? serviceName, CircuitState from, CircuitState to)
    {
        if (!TtaInstrumentation.CircuitBreakerTransitions.Enabled) return;
        var tags = NameAndService(node, serviceName);
        tags.Add(TelemetryNames.Catalog.Labels.FromState, from.ToLabel());
        tags.Add(TelemetryNames.Catalog.Labels.ToState, to.ToLabel());
        TtaInstrumentation.CircuitBreakerTransitions.Add(1, tags);
    }

    /// <summary>Records a transition as an event on the span of the run that caused it (none for a reset).</summary>
    public static void AddTransitionEvent(Activity? span, CircuitState from, CircuitState to)
    {
        if (span is not { IsAllDataRequested: true }) return;
        span.AddEvent(new ActivityEvent(TelemetryNames.Catalog.Events.CircuitTransition, tags: new ActivityTagsCollection
        {
            { TelemetryNames.Catalog.Attributes.CircuitFromState, from.ToLabel() },
            { TelemetryNames.Catalog.Attributes.CircuitToState, to.ToLabel() },
        }));
    }

    private static TagList NameAndService(PrimitiveNode node, string? serviceName) => new()
    {
        { TelemetryNames.Labels.PrimitiveName, node.Name },
        { TelemetryNames.Labels.ServiceName, serviceName ?? PrimitiveTelemetry.UnknownService },
    };
}
