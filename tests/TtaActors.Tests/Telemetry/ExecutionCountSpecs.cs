using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using TtaActors.Actors.Context;
using TtaActors.Actors.Primitives;
using TtaActors.Telemetry;
using TtaActors.Tests.Primitives;

namespace TtaActors.Tests.Telemetry;

/// <summary>
/// <c>primitive_executions_total</c> is an observable counter over cells that each node finds among the few it has used:
/// every label set must still be counted apart, also beyond the cells a node remembers.
/// </summary>
public class ExecutionCountSpecs : PrimitiveSpec
{
    [Fact]
    public async Task Each_label_set_of_a_node_should_be_counted_apart_also_beyond_the_cells_the_node_remembers()
    {
        var prefix = $"tta-count-{Guid.NewGuid():N}"[..20];
        var observed = new ConcurrentDictionary<(string? Service, string? Status, string? Name), long>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter == TtaInstrumentation.Meter && instrument.Name == TelemetryNames.Metrics.PrimitiveExecutions)
                l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            string? service = null, status = null, name = null;
            foreach (var tag in tags)
            {
                if (tag.Key == TelemetryNames.Labels.ServiceName) service = tag.Value as string;
                if (tag.Key == TelemetryNames.Labels.Status) status = tag.Value as string;
                if (tag.Key == TelemetryNames.Labels.PrimitiveName) name = tag.Value as string;
            }
            if (service?.StartsWith(prefix, StringComparison.Ordinal) == true) observed[(service, status, name)] = value;
        });
        listener.Start();
        var graph = Materialize(Lambda.From<int, int>(x => x < 0 ? throw new InvalidOperationException("negative") : x, "counted"));

        // Twelve services (more than the cells a node remembers), service i run i + 1 times, and one failure each.
        for (var i = 0; i < 12; i++)
        {
            var context = WorkflowContext.Create(persona: "backend-engineer", workspace: $"{prefix}-{i}");
            for (var run = 0; run <= i; run++) Assert.True((await graph.RunAsync(run, context)).Succeeded);
            Assert.False((await graph.RunAsync(-1, context)).Succeeded);
        }
        listener.RecordObservableInstruments();

        for (var i = 0; i < 12; i++)
        {
            var service = $"{prefix}-{i}";
            Assert.Equal(i + 1, observed.GetValueOrDefault((service, TelemetryNames.Status.Success, "counted")));
            Assert.Equal(1, observed.GetValueOrDefault((service, TelemetryNames.Status.Error, "counted")));
        }
    }
}
