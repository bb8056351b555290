using System.Text.Json.Nodes;
using TtaActors.Actors.Context;
using TtaActors.Actors.Execution;
using TtaActors.Actors.Llm;
using TtaActors.Actors.Primitives;

namespace TtaActors.Runtime.Workflows;

/// <summary>Builds the primitive of an <c>llm:</c> step; registered by the LLM integration.</summary>
public interface ILlmStepFactory
{
    /// <param name="tools">The step's tools, built from <see cref="LlmSpec.Tools"/> (empty: a plain chat step).</param>
    /// <summary>The primitive of one <c>llm:</c> step.</summary>
    /// <param name="spec">The step as parsed.</param>
    /// <param name="name">The step's name in spans and metrics.</param>
    Primitive Create(LlmSpec spec, string name, IReadOnlyList<Microsoft.Extensions.AI.AITool> tools);
}

/// <summary>What building file steps needs from the node: outbound HTTP, the environment, and a way to materialise nested graphs.</summary>
public sealed partial record WorkflowStepServices(
    HttpClient Http,
    Func<string, string?> Environment,
    Func<Primitive, string, WorkflowGraph> Materialize,
    ILlmStepFactory? Llm = null)
{
    /// <summary>The bounds file steps keep (body sizes, depths, counts).</summary>
    public WorkflowFileLimits Limits { get; init; } = WorkflowFileLimits.Default;

    /// <summary>Finds a registered workflow by name when a workflow tool is called (null: workflow tools cannot run here).</summary>
    public Func<string, RegisteredWorkflow?>? FindWorkflow { get; init; }
}

/// <summary>
/// Turns a parsed workflow file into the same primitive definitions code builds (Sequential, Parallel, Router,
/// Retry, Fallback, Timeout, Lambda leaves), so file workflows and code workflows share one execution path.
/// </summary>
public sealed partial class WorkflowFileBuilder
{
    private readonly WorkflowStepServices _services;
    private readonly string _workflow;
    private readonly List<WorkflowProblem> _problems = [];

    private WorkflowFileBuilder(WorkflowStepServices services, string workflow)
    {
        _services = services;
        _workflow = workflow;
    }

    /// <summary>
    /// Reads, checks and builds one workflow file: the one path by which <c>tta validate</c>, <c>tta run</c> and a node
    /// accept a file, so they accept and refuse the same files. Throws <see cref="WorkflowFileException"/> with every problem.
    /// </summary>
    public static (WorkflowDocument Document, Primitive Root) Load(string path, WorkflowStepServices services)
    {
        WorkflowDocument? document;
        IReadOnlyList<WorkflowProblem> problems;
        try
        {
            (document, problems) = WorkflowFileParser.ParseFile(path, services.Limits);
        }
        catch (Exception error) when (error is not (OutOfMemoryException or WorkflowFileException))
        {
            // Whatever a file does to the reader, it is this file's problem, never the end of the node loading it.
            throw new WorkflowFileException(path, [new WorkflowProblem(new SourceLocation(path, 1, 1),
                $"The file could not be read ({error.GetType().Name}: {error.Message}); simplify it, and report the file if it looks valid.")]);
        }
        if (document is null) throw new WorkflowFileException(path, problems);
        return (document, Build(document, services));
    }

    /// <summary>The workflow's root primitive; throws <see cref="WorkflowFileException"/> listing every step that cannot be built.</summary>
    public static Primitive Build(WorkflowDocument document, WorkflowStepServices services)
    {
        var builder = new WorkflowFileBuilder(services, document.Name);
        var root = builder.Step(document.Root);
        if (builder._problems.Count > 0 || root is null) throw new WorkflowFileException(document.File, builder._problems);
        return root;
    }

    private Primitive? Step(StepSpec spec)
    {
        try
        {
            return StepOf(spec);
        }
        catch (Exception error) when (error is ArgumentException or ArithmeticException)
        {
            // The parser bounds every value; a primitive that still refuses one is reported where the step is written.
            _problems.Add(new WorkflowProblem(spec.At, $"The {spec.Describe()} cannot be built: {error.Message}"));
            return null;
        }
    }

    private Primitive? StepOf(StepSpec spec) => spec switch
    {
        SequenceSpec s => All(s.Steps) is { } steps ? new SequentialPrimitive(steps, s.Name) : null,
        ParallelSpec p => All(p.Branches) is { } branches ? new ParallelPrimitive(branches, p.Name) : null,
        RouterSpec r => Router(r),
        RetrySpec r => Step(r.Do) is { } inner ? new RetryPrimitive(inner, r.Policy, r.Name) : null,
        FallbackSpec f => Fallback(f),
        TimeoutSpec t => Timeout(t),
        TemplateSpec t => Leaf(t, (input, context) => JsonValue.Create(t.Text.RenderText(new TemplateScope(input, context), t.Describe()))),
        SetSpec s => Leaf(s, (input, context) => s.Value.Render(new TemplateScope(input, context), s.Describe())),
        HttpSpec h => new LambdaPrimitive(new HttpStep(h, _services.Http, _services.Environment).ExecuteAsync, h.Name ?? h.Kind),
        LlmSpec l => Llm(l),
        SupabaseStepSpec s => Supabase(s),
        E2BStepSpec e => E2B(e),
        WaitSpec w => DurableFileSteps.Wait(w, Step),
        _ => throw new ArgumentOutOfRangeException(nameof(spec), spec.GetType().Name, "Unknown step spec."),
    };

    private IReadOnlyList<Primitive>? All(IReadOnlyList<StepSpec> specs)
    {
        var built = specs.Select(Step).ToList();
        return built.Any(b => b is null) ? null : built.Select(b => b!).ToList();
    }

    private Primitive? Router(RouterSpec spec)
    {
        var routes = new Dictionary<string, Primitive>();
        foreach (var (key, step) in spec.Routes)
        {
            if (Step(step) is { } primitive) routes[key] = primitive;
        }
        if (routes.Count != spec.Routes.Count) return null;
        var describe = spec.Describe();
        return new RouterPrimitive(routes,
            (input, context) => spec.By.RenderText(new TemplateScope(JsonData.ToNode(input), context), describe),
            spec.Default, spec.Name);
    }

    private Primitive? Llm(LlmSpec spec)
    {
        if (_services.Llm is not { } factory)
        {
            _problems.Add(new WorkflowProblem(spec.At,
                "llm: steps cannot run here: no LLM chat client is configured. The file is valid; configure an LLM provider to run it."));
            return null;
        }
        try
        {
            return factory.Create(spec, spec.Name ?? spec.Kind, spec.Tools.Select(t => FileTools.Create(t, _services)).ToList());
        }
        catch (Exception error) when (error is LlmConfigurationException or ArgumentException)
        {
            _problems.Add(new WorkflowProblem(spec.At, error.Message));
            return null;
        }
    }

    private Primitive? Fallback(FallbackSpec spec)
    {
        var primary = Step(spec.Do);
        var otherwise = Step(spec.Otherwise);
        return primary is null || otherwise is null ? null : new FallbackPrimitive(primary, otherwise, spec.Name);
    }

    private Primitive? Timeout(TimeoutSpec spec)
    {
        var inner = Step(spec.Do);
        var otherwise = spec.Otherwise is null ? null : Step(spec.Otherwise);
        if (inner is null || (spec.Otherwise is not null && otherwise is null)) return null;
        return new TimeoutPrimitive(inner, TimeSpan.FromSeconds(spec.Seconds), otherwise, name: spec.Name);
    }

    private static LambdaPrimitive Leaf(StepSpec spec, Func<JsonNode?, WorkflowContext, JsonNode?> render) =>
        new((input, context, _) => new ValueTask<StepOutcome>(new StepOutcome(render(JsonData.ToNode(input), context))), spec.Name ?? spec.Kind);
}
