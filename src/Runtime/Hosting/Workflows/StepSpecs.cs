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
    /// <summary>The step's keyword in the file (<c>sequence</c>, <c>llm</c>, ...).</summary>
    public abstract string Kind { get; }

    /// <summary>How errors name this step: its name (or kind) and where it is written.</summary>
    public string Describe() => $"{Kind} step '{Name ?? Kind}' ({At})";
}

/// <summary><c>sequence:</c> steps one after another.</summary>
/// <param name="At">Where the step is written.</param>
/// <param name="Name">The step's <c>name:</c>; null uses its kind.</param>
/// <param name="Steps">The steps, in order.</param>
public sealed record SequenceSpec(SourceLocation At, string? Name, IReadOnlyList<StepSpec> Steps) : StepSpec(At, Name)
{
    /// <inheritdoc/>
    public override string Kind => "sequence";
}

/// <summary><c>parallel:</c> branches on the same input.</summary>
/// <param name="At">Where the step is written.</param>
/// <param name="Name">The step's <c>name:</c>; null uses its kind.</param>
/// <param name="Branches">The branches, in output order.</param>
public sealed record ParallelSpec(SourceLocation At, string? Name, IReadOnlyList<StepSpec> Branches) : StepSpec(At, Name)
{
    /// <inheritdoc/>
    public override string Kind => "parallel";
}

/// <summary><c>router:</c> the route named by a template of the input and context.</summary>
/// <param name="At">Where the step is written.</param>
/// <param name="Name">The step's <c>name:</c>; null uses its kind.</param>
/// <param name="By">Renders the route key.</param>
/// <param name="Routes">The routes by key, in file order.</param>
/// <param name="Default">The route for an unknown key; null fails the run.</param>
public sealed record RouterSpec(SourceLocation At, string? Name, Template By, IReadOnlyList<KeyValuePair<string, StepSpec>> Routes,
    string? Default) : StepSpec(At, Name)
{
    /// <inheritdoc/>
    public override string Kind => "router";
}

/// <summary><c>retry:</c> the inner step again on failure.</summary>
/// <param name="At">Where the step is written.</param>
/// <param name="Name">The step's <c>name:</c>; null uses its kind.</param>
/// <param name="Policy">Attempts and backoff.</param>
/// <param name="Do">The step attempted.</param>
public sealed record RetrySpec(SourceLocation At, string? Name, RetryPolicy Policy, StepSpec Do) : StepSpec(At, Name)
{
    /// <inheritdoc/>
    public override string Kind => "retry";
}

/// <summary><c>fallback:</c> another step when the first fails.</summary>
/// <param name="At">Where the step is written.</param>
/// <param name="Name">The step's <c>name:</c>; null uses its kind.</param>
/// <param name="Do">The step tried first.</param>
/// <param name="Otherwise">The step run when it fails.</param>
public sealed record FallbackSpec(SourceLocation At, string? Name, StepSpec Do, StepSpec Otherwise) : StepSpec(At, Name)
{
    /// <inheritdoc/>
    public override string Kind => "fallback";
}

/// <summary><c>timeout:</c> the inner step within a time limit.</summary>
/// <param name="At">Where the step is written.</param>
/// <param name="Name">The step's <c>name:</c>; null uses its kind.</param>
/// <param name="Seconds">The limit.</param>
/// <param name="Do">The step run within it.</param>
/// <param name="Otherwise">The step run on expiry; null fails the run.</param>
public sealed record TimeoutSpec(SourceLocation At, string? Name, double Seconds, StepSpec Do, StepSpec? Otherwise) : StepSpec(At, Name)
{
    /// <inheritdoc/>
    public override string Kind => "timeout";
}

/// <remarks><see cref="Prompt"/> is null when the prompt comes from Langfuse (<see cref="LangfusePrompt"/>).</remarks>
public sealed record LlmSpec(SourceLocation At, string? Name, string? Provider, string? Model, Template? Prompt, Template? System,
    double? Temperature, int? MaxTokens) : StepSpec(At, Name)
{
    /// <inheritdoc/>
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

/// <summary>One request header of an <c>http:</c> step.</summary>
/// <param name="Name">The header's name.</param>
/// <param name="Value">Renders the header's value.</param>
/// <param name="At">Where it is written.</param>
public sealed record HttpHeaderSpec(string Name, Template Value, SourceLocation At);

/// <summary><c>http:</c> one HTTP request; the response body is the output.</summary>
/// <param name="At">Where the step is written.</param>
/// <param name="Name">The step's <c>name:</c>; null uses its kind.</param>
/// <param name="Method">The HTTP method.</param>
/// <param name="Url">The URL; placeholders fill in values only, never its shape.</param>
/// <param name="Headers">Request headers.</param>
/// <param name="Body">The JSON body; null sends none.</param>
/// <param name="Expect">The statuses that count as success; null takes any 2xx.</param>
/// <param name="TimeoutSeconds">How long the request may take.</param>
public sealed record HttpSpec(SourceLocation At, string? Name, HttpMethod Method, UrlTemplate Url, IReadOnlyList<HttpHeaderSpec> Headers,
    JsonTemplate? Body, IReadOnlyList<int>? Expect, double TimeoutSeconds) : StepSpec(At, Name)
{
    /// <inheritdoc/>
    public override string Kind => "http";
}

/// <summary><c>template:</c> text rendered from the input and context.</summary>
/// <param name="At">Where the step is written.</param>
/// <param name="Name">The step's <c>name:</c>; null uses its kind.</param>
/// <param name="Text">The template.</param>
public sealed record TemplateSpec(SourceLocation At, string? Name, Template Text) : StepSpec(At, Name)
{
    /// <inheritdoc/>
    public override string Kind => "template";
}

/// <summary><c>set:</c> a JSON value built from the input and context.</summary>
/// <param name="At">Where the step is written.</param>
/// <param name="Name">The step's <c>name:</c>; null uses its kind.</param>
/// <param name="Value">The value's template.</param>
public sealed record SetSpec(SourceLocation At, string? Name, JsonTemplate Value) : StepSpec(At, Name)
{
    /// <inheritdoc/>
    public override string Kind => "set";
}
