using TtaActors.Actors.Primitives;

namespace TtaActors.Runtime.Workflows;

/// <summary>A parsed workflow file: its name, description and the step tree, each step with its location.</summary>
public sealed record WorkflowDocument(string Name, string? Description, StepSpec Root, string File)
{
    /// <summary><c>durability: none | steps</c> (default none).</summary>
    public Actors.Durable.WorkflowDurability Durability { get; init; }
}

/// <summary>One step of a workflow file, as parsed and checked, before it becomes a primitive.</summary>
public abstract record StepSpec(SourceLocation At, string? Name)
{
    public abstract string Kind { get; }

    /// <summary>How errors name this step: its name (or kind) and where it is written.</summary>
    public string Describe() => $"{Kind} step '{Name ?? Kind}' ({At})";
}

public sealed record SequenceSpec(SourceLocation At, string? Name, IReadOnlyList<StepSpec> Steps) : StepSpec(At, Name)
{
    public override string Kind => "sequence";
}

public sealed record ParallelSpec(SourceLocation At, string? Name, IReadOnlyList<StepSpec> Branches) : StepSpec(At, Name)
{
    public override string Kind => "parallel";
}

public sealed record RouterSpec(SourceLocation At, string? Name, Template By, IReadOnlyList<KeyValuePair<string, StepSpec>> Routes,
    string? Default) : StepSpec(At, Name)
{
    public override string Kind => "router";
}

public sealed record RetrySpec(SourceLocation At, string? Name, RetryPolicy Policy, StepSpec Do) : StepSpec(At, Name)
{
    public override string Kind => "retry";
}

public sealed record FallbackSpec(SourceLocation At, string? Name, StepSpec Do, StepSpec Otherwise) : StepSpec(At, Name)
{
    public override string Kind => "fallback";
}

public sealed record TimeoutSpec(SourceLocation At, string? Name, double Seconds, StepSpec Do, StepSpec? Otherwise) : StepSpec(At, Name)
{
    public override string Kind => "timeout";
}

/// <remarks><see cref="Prompt"/> is null when the prompt comes from Langfuse (<see cref="LangfusePrompt"/>).</remarks>
public sealed record LlmSpec(SourceLocation At, string? Name, string? Provider, string? Model, Template? Prompt, Template? System,
    double? Temperature, int? MaxTokens) : StepSpec(At, Name)
{
    public override string Kind => "llm";

    /// <summary>The step's tools; with any, the step is an agent.</summary>
    public IReadOnlyList<LlmToolSpec> Tools { get; init; } = [];

    /// <summary><c>max_iterations</c>: model calls that may ask for tools (then one more without tools).</summary>
    public int MaxIterations { get; init; } = Actors.Llm.LlmStepOptions.DefaultMaxIterations;

    /// <summary><c>on_tool_error</c>: <c>report</c> (to the model) or <c>fail</c> (the step).</summary>
    public Actors.Llm.ToolErrorMode OnToolError { get; init; }

    /// <summary><c>prompt: {langfuse: NAME, ...}</c>: the prompt from Langfuse's prompt management.</summary>
    public Actors.Llm.Prompts.LangfusePromptReference? LangfusePrompt { get; init; }

    /// <summary><c>output_schema:</c> the JSON the answer must be; the parsed JSON is then the step's output.</summary>
    public Actors.Llm.LlmOutputSchema? OutputSchema { get; init; }

    /// <summary><c>output_retries</c>: times the model is asked again when its answer does not match the schema.</summary>
    public int OutputRetries { get; init; } = Actors.Llm.LlmStepOptions.DefaultOutputRetries;
}

/// <summary>One declared argument of a file tool: the model must send it with this JSON type.</summary>
public sealed record ToolParameterSpec(string Name, string Type, string? Description, bool Required, IReadOnlyList<string>? Enum);

/// <summary>A tool of an <c>llm:</c> step: an <c>http:</c> call or a registered <c>workflow:</c>, with the arguments the model sends.</summary>
public sealed record LlmToolSpec(SourceLocation At, string Name, string Description, IReadOnlyList<ToolParameterSpec> Parameters,
    HttpSpec? Http, string? Workflow);

public sealed record HttpHeaderSpec(string Name, Template Value, SourceLocation At);

public sealed record HttpSpec(SourceLocation At, string? Name, HttpMethod Method, UrlTemplate Url, IReadOnlyList<HttpHeaderSpec> Headers,
    JsonTemplate? Body, IReadOnlyList<int>? Expect, double TimeoutSeconds) : StepSpec(At, Name)
{
    public override string Kind => "http";
}

public sealed record TemplateSpec(SourceLocation At, string? Name, Template Text) : StepSpec(At, Name)
{
    public override string Kind => "template";
}

public sealed record SetSpec(SourceLocation At, string? Name, JsonTemplate Value) : StepSpec(At, Name)
{
    public override string Kind => "set";
}
