using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using TtaActors.Actors.Durable;
using TtaActors.Actors.Primitives;
using TtaActors.Actors.Typed;

namespace TtaActors.Runtime.Workflows;

/// <summary>
/// A workflow defined in code and registered with the host by <c>AddTtaWorkflow</c>: the
/// host materialises it when it starts (after the actor system), lists it in <c>GET /workflows</c>, runs it through
/// <c>POST /runs</c> and stops its graph when it stops.
/// </summary>
/// <param name="Name">The name runs ask for (<c>"workflow"</c> of <c>POST /runs</c>); unique among the host's workflows.</param>
/// <param name="Definition">The untyped primitive tree (a typed <see cref="Step{TIn,TOut}"/> converts to it).</param>
/// <param name="AdaptInput">Turns the JSON input of a request into what the first step takes; an <see cref="ArgumentException"/> answers 422 (field <c>input</c>).</param>
/// <param name="Description">Shown by <c>GET /workflows</c>.</param>
/// <param name="Durability"><see cref="WorkflowDurability.Steps"/> journals every run (needs a node: <c>AddTtaNode</c>).</param>
/// <param name="DefinitionVersion">The version a resumed durable run must still match; default the hash of the primitive tree.</param>
public sealed record CodeWorkflow(string Name, Primitive Definition, Func<JsonNode?, object?> AdaptInput, string? Description = null,
    WorkflowDurability Durability = WorkflowDurability.None, string? DefinitionVersion = null);

/// <summary>Registration of workflows defined in code with a host (<see cref="WorkflowHostingExtensions.AddTtaWorkflows"/>).</summary>
public static class CodeWorkflowExtensions
{
    /// <summary>
    /// Registers an untyped workflow: <paramref name="adaptInput"/> (default: the JSON input as it is, a <see cref="JsonNode"/>
    /// or null) turns the request's input into what its first step takes. Any order with the other <c>AddTta...</c> calls.
    /// </summary>
    /// <param name="services">The host's services.</param>
    /// <param name="name">The workflow's name: 1 to 128 letters, digits, <c>-</c>, <c>_</c> or <c>.</c>.</param>
    /// <param name="definition">The primitive tree.</param>
    /// <param name="adaptInput">From the request's JSON input to the first step's input; throw <see cref="ArgumentException"/> to refuse it.</param>
    /// <param name="description">Shown by <c>GET /workflows</c>.</param>
    /// <param name="durability">Journaled, resumable runs (<see cref="WorkflowDurability.Steps"/>) need a node (<c>AddTtaNode</c>).</param>
    /// <param name="definitionVersion">For durable workflows: the version a resumed run must match.</param>
    public static IServiceCollection AddTtaWorkflow(this IServiceCollection services, string name, Primitive definition,
        Func<JsonNode?, object?>? adaptInput = null, string? description = null,
        WorkflowDurability durability = WorkflowDurability.None, string? definitionVersion = null)
    {
        ArgumentNullException.ThrowIfNull(definition);
        CheckName(name);
        services.AddSingleton(new CodeWorkflow(name, definition, adaptInput ?? (input => input), description, durability, definitionVersion));
        return services;
    }

    /// <summary>
    /// Registers a typed workflow: the request's JSON input is read as a <typeparamref name="TIn"/> (System.Text.Json,
    /// web defaults: camelCase, case-insensitive); JSON that is not one answers 422 (field <c>input</c>) naming the workflow and the type.
    /// The output is written as JSON (a Parallel's branches as an array, in order).
    /// </summary>
    /// <param name="services">The host's services.</param>
    /// <param name="name">The workflow's name: 1 to 128 letters, digits, <c>-</c>, <c>_</c> or <c>.</c>.</param>
    /// <param name="workflow">The typed step (a composition of steps) to run.</param>
    /// <param name="description">Shown by <c>GET /workflows</c>.</param>
    /// <typeparam name="TIn">What the workflow takes.</typeparam>
    /// <typeparam name="TOut">What it answers.</typeparam>
    public static IServiceCollection AddTtaWorkflow<TIn, TOut>(this IServiceCollection services, string name, Step<TIn, TOut> workflow,
        string? description = null)
    {
        ArgumentNullException.ThrowIfNull(workflow);
        return services.AddTtaWorkflow(name, workflow.Primitive, JsonInput<TIn>(name), description);
    }

    /// <summary>Reads a request's JSON input as a <typeparamref name="TIn"/>; refuses what is not one with an <see cref="ArgumentException"/>.</summary>
    public static Func<JsonNode?, object?> JsonInput<TIn>(string workflow) => input =>
    {
        if (typeof(TIn).IsAssignableFrom(typeof(JsonNode)) || input is not null && typeof(TIn).IsInstanceOfType(input)) return input;
        if (input is null)
            throw new ArgumentException($"Workflow '{workflow}' takes a {typeof(TIn).Name} as input; the request has none (send \"input\").");
        try
        {
            return input.Deserialize<TIn>(JsonSerializerOptions.Web)
                   ?? throw new ArgumentException($"Workflow '{workflow}' takes a {typeof(TIn).Name} as input, not JSON null.");
        }
        catch (Exception error) when (error is JsonException or NotSupportedException or InvalidOperationException)
        {
            throw new ArgumentException($"Workflow '{workflow}' takes a {typeof(TIn).Name} as input: {error.Message}", error);
        }
    };

    private static void CheckName(string name)
    {
        if (string.IsNullOrEmpty(name) || name.Length > 128 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
            throw new ArgumentException(
                $"Workflow name '{name}' is not 1 to 128 letters, digits, '-', '_' or '.'; runs ask for it by name in POST /runs.", nameof(name));
    }
}

/// <summary>
/// Materialises the code workflows (<c>AddTtaWorkflow</c>) into the registry when the host
/// starts, after the actor system; stops every graph of the registry (code and file workflows) as soon as the host is
/// asked to stop (<see cref="IHostApplicationLifetime.ApplicationStopping"/>: a signal, Ctrl+C or <c>StopAsync</c>),
/// before any hosted service (the actor system's included) stops, so runs still in flight fail with
/// <see cref="Actors.Execution.WorkflowGraphStoppedException"/> naming the graph and where each run was.
/// </summary>
public sealed class CodeWorkflowStartup(IServiceProvider services) : IHostedLifecycleService
{
    private readonly Lock _gate = new();
    private Task? _stopped;

    /// <summary>Registers every code workflow; a duplicate name or a definition that cannot start stops the host with its name.</summary>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        // Resolved here, not in the constructor: the host builds every hosted service before it starts the actor system's.
        var registry = services.GetRequiredService<WorkflowRegistry>();
        foreach (var workflow in services.GetServices<CodeWorkflow>())
        {
            try
            {
                registry.Register(workflow.Name, workflow.Definition, workflow.AdaptInput, workflow.Description, workflow.Durability,
                    workflow.DefinitionVersion);
            }
            catch (Exception error) when (error is ArgumentException or InvalidOperationException or Akka.Actor.InvalidActorNameException)
            {
                throw new Hosting.TtaConfigurationException($"Code workflow '{workflow.Name}' (AddTtaWorkflow) cannot be started: {error.Message}", error);
            }
        }
        // A host whose stop nobody awaits yet (tta run waiting for its run, when Ctrl+C comes) still ends its runs.
        services.GetService<IHostApplicationLifetime>()?.ApplicationStopping.Register(() => StopGraphs());
        return Task.CompletedTask;
    }

    /// <summary>Waits for the graphs' stop, begun when the host was asked to stop, before the hosted services stop.</summary>
    public Task StoppingAsync(CancellationToken cancellationToken) => StopGraphs().WaitAsync(cancellationToken);

    /// <summary>Nothing more: the graphs stopped in <see cref="StoppingAsync"/>.</summary>
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Nothing before the start.</summary>
    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Nothing after the start.</summary>
    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Nothing after the stop.</summary>
    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Stops every graph once, off the thread that asked (a signal handler must not wait for actors).</summary>
    private Task StopGraphs()
    {
        lock (_gate)
            return _stopped ??= Task.Run(() => services.GetRequiredService<WorkflowRegistry>().StopAllAsync());
    }
}
