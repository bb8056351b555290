using System.CommandLine;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Trace;
using TtaActors.Runtime.Demo;
using TtaActors.Runtime.Hosting;

namespace TtaActors.Runtime.Cli;

/// <summary><c>tta demo</c>: runs the bundled workflow on the embedded default and prints its output and span tree.</summary>
public static class DemoCommand
{
    public static Command Create()
    {
        var hold = new Option<bool>("--hold") { Description = "Keep serving metrics after the run, until Ctrl+C." };
        var metricsPort = new Option<int?>("--metrics-port")
        {
            Description = $"Port of the Prometheus endpoint on loopback (default {TtaRuntimeOptions.DefaultMetricsPort}, or TTA_METRICS_PORT; 0 = off).",
        };
        var input = new Option<string>("--input")
        {
            Description = "The request to run, as \"kind: area: summary\" (kind feature or bugfix).",
            DefaultValueFactory = _ => DemoWorkflow.DefaultInput,
        };
        var command = new Command("demo", "Run the bundled workflow (Sequential, Router, Retry, Parallel) and print its span tree.")
        {
            hold, metricsPort, input,
        };
        command.SetAction((parse, cancellation) =>
            CommandErrors.Guard(() => RunAsync(parse.GetValue(input)!, parse.GetValue(hold), parse.GetValue(metricsPort), cancellation)));
        return command;
    }

    private static async Task<int> RunAsync(string input, bool hold, int? metricsPort, CancellationToken cancellation)
    {
        var options = TtaRuntimeOptions.FromEnvironment();
        if (metricsPort is { } port) options = options with { MetricsPort = TtaRuntimeOptions.ParsePort("--metrics-port", port.ToString()) };

        var spans = new SpanCollector();
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddTtaActors(options, tracing => tracing.AddProcessor(spans));
        using var host = builder.Build();
        await host.StartAsync(cancellation);

        // Ctrl+C and SIGTERM stop the host; the run and --hold end with it.
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(
            cancellation, host.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping);
        cancellation = stopping.Token;

        var runtime = host.Services.GetRequiredService<TtaRuntime>();
        var graph = runtime.Materialize(DemoWorkflow.Build(), DemoWorkflow.Name);
        var context = DemoWorkflow.Context();
        Console.WriteLine($"Running '{DemoWorkflow.Name}' as {context.Persona} ({context.ChatMode}) in workspace {options.ServiceName}");
        Console.WriteLine($"Input: {input}");
        var result = await graph.RunAsync(input, context, new() { Cancellation = cancellation });

        Console.WriteLine();
        if (result.Failure is { } failure) Console.WriteLine($"Failed at {failure.PrimitivePath}: {failure.ErrorType}: {failure.Message}");
        else Console.WriteLine($"Output: {JsonSerializer.Serialize(result.Output)}");
        Console.WriteLine();
        Console.WriteLine($"Span tree (trace {result.TraceId}):");
        Console.Write(SpanTreePrinter.Render(result.TraceId is null ? [] : spans.ForTrace(result.TraceId)));
        Console.WriteLine();
        Console.WriteLine($"Routing history: {string.Join(", ", result.Context.RoutingHistory.Select(r => $"{r.Route} (default: {r.UsedDefault})"))}");

        if (options.MetricsPort != 0)
        {
            Console.WriteLine($"Metrics: {MetricsEndpoint.Url(options.MetricsPort)}");
            if (hold)
            {
                Console.WriteLine("Serving metrics until Ctrl+C.");
                try
                {
                    await Task.Delay(Timeout.Infinite, cancellation);
                }
                catch (OperationCanceledException)
                {
                }
            }
        }

        await host.StopAsync(CancellationToken.None);
        return result.Succeeded ? 0 : 1;
    }
}
