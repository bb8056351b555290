using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;
using TtaActors.Actors.Context;
using TtaActors.Actors.Execution;
using TtaActors.Actors.Llm;
using TtaActors.Telemetry;

namespace TtaActors.Runtime.Workflows;

/// <summary>
/// The tools of an <c>llm:</c> step in a workflow file. Their arguments come from the model and are hostile input:
/// they are checked against the declared parameters (names, types, enums, required) before anything runs, and an
/// http tool renders them with the same rules as an http step (values percent-encoded in the URL, never in the scheme,
/// host or port; control characters refused in headers).
/// </summary>
internal static class FileTools
{
    /// <summary>Nested agent runs (a workflow tool whose workflow has an agent with workflow tools...) stop at this depth.</summary>
    public const int MaxNesting = 8;

    private const string NestingKey = "tta.agent.nesting";

    public static AITool Create(LlmToolSpec spec, WorkflowStepServices services)
    {
        var schema = Schema(spec.Parameters);
        if (spec.Http is { } http)
        {
            var step = new HttpStep(http, services.Http, services.Environment);
            return new FileTool(spec, schema, TelemetryNames.GenAiAgents.ExtensionToolType,
                async (arguments, original, cancellation) =>
                    JsonData.ToNode((await step.ExecuteAsync(arguments, ToolContext.Workflow(original) ?? WorkflowContext.Create(), cancellation)).Output));
        }
        var workflow = spec.Workflow!;
        return new FileTool(spec, schema, TelemetryNames.GenAiAgents.FunctionToolType, async (arguments, original, cancellation) =>
        {
            var context = ToolContext.Workflow(original) ?? WorkflowContext.Create();
            if (services.FindWorkflow?.Invoke(workflow) is not { } registered)
                throw new InvalidOperationException($"Tool '{spec.Name}' ({spec.At}): no workflow named '{workflow}' is registered on this node.");
            var depth = context.Metadata.TryGetValue(NestingKey, out var text) && int.TryParse(text, CultureInfo.InvariantCulture, out var d) ? d : 0;
            if (depth >= MaxNesting)
                throw new InvalidOperationException($"Tool '{spec.Name}' ({spec.At}): workflow tools are nested {MaxNesting} deep; the call was refused.");
            var tool = WorkflowTool.For(registered.Graph, spec.Description, schema, input => registered.AdaptInput(input), spec.Name);
            // The caller's context entries (the step's tally among them, so the nested run's LLM calls count for this run).
            var shared = original.Context is null ? new Dictionary<object, object?>() : new Dictionary<object, object?>(original.Context);
            shared[typeof(WorkflowContext)] = context.WithMetadata(NestingKey, (depth + 1).ToString(CultureInfo.InvariantCulture));
            var inner = new AIFunctionArguments(arguments.ToDictionary(p => p.Key, p => (object?)p.Value)) { Context = shared };
            return JsonData.ToNode(await tool.InvokeAsync(inner, cancellation));
        });
    }

    /// <summary>The JSON schema the model is given: an object of the declared parameters, nothing else.</summary>
    public static JsonElement Schema(IReadOnlyList<ToolParameterSpec> parameters)
    {
        var properties = new JsonObject();
        foreach (var parameter in parameters)
        {
            var property = new JsonObject { ["type"] = parameter.Type };
            if (parameter.Description is not null) property["description"] = parameter.Description;
            if (parameter.Enum is { } values) property["enum"] = new JsonArray(values.Select(v => (JsonNode?)JsonValue.Create(v)).ToArray());
            properties[parameter.Name] = property;
        }
        var schema = new JsonObject
        {
            ["type"] = "object",
            ["properties"] = properties,
            ["required"] = new JsonArray(parameters.Where(p => p.Required).Select(p => (JsonNode?)JsonValue.Create(p.Name)).ToArray()),
            ["additionalProperties"] = false,
        };
        return JsonSerializer.SerializeToElement(schema);
    }

    /// <summary>The arguments as the declared parameters allow them, or an error naming the first that does not fit.</summary>
    public static JsonObject Check(LlmToolSpec spec, JsonObject arguments)
    {
        foreach (var (name, _) in arguments)
        {
            if (spec.Parameters.All(p => p.Name != name))
                throw new ArgumentException($"Tool '{spec.Name}' has no parameter '{Short(name)}'; its parameters are: " +
                    $"{(spec.Parameters.Count == 0 ? "none" : string.Join(", ", spec.Parameters.Select(p => p.Name)))}.");
        }
        foreach (var parameter in spec.Parameters)
        {
            var value = arguments[parameter.Name];
            if (value is null)
            {
                if (parameter.Required) throw new ArgumentException($"Tool '{spec.Name}' needs the argument '{parameter.Name}' ({parameter.Type}).");
                continue;
            }
            var fits = value is JsonValue scalar && parameter.Type switch
            {
                "string" => scalar.GetValueKind() == JsonValueKind.String,
                "boolean" => scalar.GetValueKind() is JsonValueKind.True or JsonValueKind.False,
                "integer" => scalar.GetValueKind() == JsonValueKind.Number && scalar.TryGetValue<long>(out _),
                _ => scalar.GetValueKind() == JsonValueKind.Number,
            };
            if (!fits) throw new ArgumentException($"Tool '{spec.Name}': argument '{parameter.Name}' must be a {parameter.Type}; got {Short(value.ToJsonString())}.");
            if (parameter.Enum is { } allowed && !allowed.Contains(value.GetValue<string>()))
                throw new ArgumentException($"Tool '{spec.Name}': argument '{parameter.Name}' must be one of {string.Join(", ", allowed)}; got {Short(value.ToJsonString())}.");
        }
        return arguments;
    }

    private static string Short(string text) => text.Length > 80 ? text[..80] + "..." : text;

    private sealed class FileTool(LlmToolSpec spec, JsonElement schema, string toolType,
        Func<JsonObject, AIFunctionArguments, CancellationToken, Task<JsonNode?>> run) : AIFunction, ITypedTool
    {
        public override string Name => spec.Name;
        public override string Description => spec.Description;
        public override JsonElement JsonSchema => schema;
        public string ToolType => toolType;

        protected override async ValueTask<object?> InvokeCoreAsync(AIFunctionArguments arguments, CancellationToken cancellationToken)
        {
            return await run(Check(spec, ToolContext.ArgumentsJson(arguments)), arguments, cancellationToken);
        }
    }
}
