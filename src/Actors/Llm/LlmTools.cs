using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;
using TtaActors.Actors.Context;
using TtaActors.Actors.Execution;
using TtaActors.Telemetry;

namespace TtaActors.Actors.Llm;

/// <summary>What an agent does when one of its tools fails.</summary>
public enum ToolErrorMode
{
    /// <summary>The model is told the tool failed (its error message, redacted) and decides what to do next.</summary>
    Report,

    /// <summary>The step fails with the tool's error; no further model call is made.</summary>
    Fail,
}

/// <summary>A tool failed and the step's <see cref="ToolErrorMode"/> is <see cref="ToolErrorMode.Fail"/>.</summary>
public sealed class LlmToolException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>A tool that says what kind of tool it is (the GenAI conventions' <c>gen_ai.tool.type</c>).</summary>
public interface ITypedTool
{
    /// <summary><c>function</c> (code the agent runs itself) or <c>extension</c> (a call to another service).</summary>
    string ToolType { get; }
}

/// <summary>What a running agent passes to its tools in <see cref="AIFunctionArguments.Context"/>.</summary>
public static class ToolContext
{
    /// <summary>Context metadata: the trace name (<c>workflow.trace_name</c>) of the run that called a workflow tool, kept by the nested run.</summary>
    public const string TraceNameKey = "tta.langfuse.trace_name";

    /// <summary>The calling run's context (persona, session, tags), so a tool's own work belongs to the same run.</summary>
    public static WorkflowContext? Workflow(AIFunctionArguments arguments) =>
        arguments.Context?.TryGetValue(typeof(WorkflowContext), out var value) == true ? value as WorkflowContext : null;

    /// <summary>Where a tool adds the LLM calls it made itself (a workflow tool's nested run), so the run's tokens and cost include them.</summary>
    internal static LlmCallTally? Tally(AIFunctionArguments arguments) =>
        arguments.Context?.TryGetValue(typeof(LlmCallTally), out var value) == true ? value as LlmCallTally : null;

    /// <summary>The arguments as one JSON object (the values the model sent).</summary>
    public static JsonObject ArgumentsJson(AIFunctionArguments arguments)
    {
        var json = new JsonObject();
        foreach (var (name, value) in arguments)
        {
            json[name] = value switch
            {
                null => null,
                JsonElement element => JsonNode.Parse(element.GetRawText()),
                JsonNode node => node.DeepClone(),
                _ => JsonSerializer.SerializeToNode(value, AIJsonUtilities.DefaultOptions),
            };
        }
        return json;
    }
}

/// <summary>
/// A registered workflow offered to a model as a tool: the model sees its name, description and input schema; a call
/// runs the workflow (its spans under the <c>execute_tool</c> span, in the same trace) with the caller's persona and
/// session, and its output is the tool's result. A failed run is a tool failure.
/// </summary>
public sealed class WorkflowTool : AIFunction, ITypedTool
{
    private readonly Func<JsonObject, WorkflowContext, CancellationToken, Task<WorkflowRunResult>> _run;

    /// <param name="inputSchema">A JSON schema of an object: what the model must send (it is the workflow's input).</param>
    /// <param name="name">The tool's name as the model sees it (see <see cref="LlmToolNames"/>).</param>
    /// <param name="description">What the tool does, for the model.</param>
    /// <param name="run">Runs the workflow with the model's arguments in the context made from the caller's.</param>
    /// <exception cref="ArgumentException">The name breaks <see cref="LlmToolNames"/>' rule or the schema is not an object.</exception>
    public WorkflowTool(string name, string description, JsonElement inputSchema,
        Func<JsonObject, WorkflowContext, CancellationToken, Task<WorkflowRunResult>> run)
    {
        LlmToolNames.Check(name);
        if (inputSchema.ValueKind != JsonValueKind.Object)
            throw new ArgumentException($"The input schema of workflow tool '{name}' must be a JSON schema object.", nameof(inputSchema));
        Name = name;
        Description = description ?? throw new ArgumentNullException(nameof(description));
        JsonSchema = inputSchema;
        _run = run ?? throw new ArgumentNullException(nameof(run));
    }

    /// <summary>A tool that runs <paramref name="graph"/>; <paramref name="adaptInput"/> turns the model's JSON arguments into the workflow's input.</summary>
    public static WorkflowTool For(WorkflowGraph graph, string description, JsonElement inputSchema, Func<JsonObject, object?>? adaptInput = null,
        string? name = null)
    {
        ArgumentNullException.ThrowIfNull(graph);
        adaptInput ??= arguments => arguments;
        return new WorkflowTool(name ?? graph.Name, description, inputSchema, (arguments, context, cancellation) =>
            graph.RunAsync(adaptInput(arguments), context, new RunOptions { Cancellation = cancellation }));
    }

    /// <inheritdoc/>
    public override string Name { get; }
    /// <inheritdoc/>
    public override string Description { get; }
    /// <inheritdoc/>
    public override JsonElement JsonSchema { get; }
    /// <inheritdoc/>
    public string ToolType => TelemetryNames.GenAiAgents.FunctionToolType;

    /// <summary>Runs the workflow in a child of the caller's context; a failed run throws <see cref="LlmToolException"/>.</summary>
    protected override async ValueTask<object?> InvokeCoreAsync(AIFunctionArguments arguments, CancellationToken cancellationToken)
    {
        var caller = ToolContext.Workflow(arguments) ?? WorkflowContext.Create();
        // A child of the caller's context: the same persona, session and tags; a new correlation id for the nested run.
        var context = WorkflowContext.Create(workflowId: Name, sessionId: caller.SessionId, persona: caller.Persona, chatMode: caller.ChatMode,
            workspace: caller.Workspace) with { CausationId = caller.CorrelationId, Tags = caller.Tags, Metadata = caller.Metadata };
        var result = await _run(ToolContext.ArgumentsJson(arguments), context, cancellationToken).ConfigureAwait(false);
        ToolContext.Tally(arguments)?.AddNested(result.Context.LlmCalls);
        if (result.Failure is { } failure) throw new LlmToolException($"Workflow tool '{Name}' failed: {failure}", failure.Exception);
        return result.Output;
    }
}

/// <summary>The rule every tool name follows (what OpenAI and Anthropic accept): 1 to 64 of A-Z a-z 0-9 _ -.</summary>
public static class LlmToolNames
{
    /// <summary>The longest tool name.</summary>
    public const int MaxLength = 64;

    /// <summary>Null when <paramref name="name"/> is a valid tool name, else what is wrong with it.</summary>
    public static string? Problem(string? name)
    {
        if (string.IsNullOrEmpty(name)) return "A tool needs a name.";
        if (name.Length > MaxLength) return $"Tool name '{name[..MaxLength]}...' is longer than {MaxLength} characters.";
        foreach (var c in name)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '_' or '-'))
                return $"Tool name '{name}' may only use letters, digits, '_' and '-' (providers refuse other characters).";
        }
        return null;
    }

    /// <summary>Throws when <paramref name="name"/> is not a valid tool name.</summary>
    /// <exception cref="ArgumentException">The name is empty, too long or has a character providers refuse.</exception>
    public static void Check(string name)
    {
        if (Problem(name) is { } problem) throw new ArgumentException(problem, nameof(name));
    }
}
