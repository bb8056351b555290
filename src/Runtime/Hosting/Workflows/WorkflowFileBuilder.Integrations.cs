using TtaActors.Actors.Integrations.E2B;
using TtaActors.Actors.Integrations.Supabase;
using TtaActors.Actors.Primitives;
using TtaActors.Telemetry.Llm;

namespace TtaActors.Runtime.Workflows;

public sealed partial record WorkflowStepServices
{
    /// <summary>What of an e2b: step's code and output reaches spans: the LLM capture policy (TTA_LLM_CAPTURE and the rest).</summary>
    public CapturePolicy Capture { get; init; } = CapturePolicy.Default;
}

/// <summary>The <c>supabase:</c> and <c>e2b:</c> steps, configured from the node's environment when the file is built.</summary>
public sealed partial class WorkflowFileBuilder
{
    private Primitive? Supabase(SupabaseStepSpec spec)
    {
        SupabaseOptions? options;
        try
        {
            options = SupabaseOptions.FromEnvironment(_services.Environment);
        }
        catch (SupabaseConfigurationException error)
        {
            _problems.Add(new WorkflowProblem(spec.At, error.Message));
            return null;
        }
        if (options is null)
        {
            _problems.Add(new WorkflowProblem(spec.At,
                $"supabase: steps cannot run here: {SupabaseOptions.UrlVariable} is not set. The file is valid; set {SupabaseOptions.UrlVariable} and " +
                $"{SupabaseOptions.KeyVariables[0]} (or {string.Join(" / ", SupabaseOptions.KeyVariables.Skip(1))}) in the node's environment to run it."));
            return null;
        }
        return new SupabasePrimitive(new SupabaseClient(_services.Http, options), spec.Query, spec.Name ?? spec.Kind,
            TimeSpan.FromSeconds(spec.TimeoutSeconds), spec.Describe());
    }

    private Primitive? E2B(E2BStepSpec spec)
    {
        E2BOptions? options;
        try
        {
            options = E2BOptions.FromEnvironment(_services.Environment);
        }
        catch (E2BConfigurationException error)
        {
            _problems.Add(new WorkflowProblem(spec.At, error.Message));
            return null;
        }
        if (options is null)
        {
            _problems.Add(new WorkflowProblem(spec.At,
                $"e2b: steps cannot run here: {E2BOptions.ApiKeyVariable} is not set. The file is valid; set {E2BOptions.ApiKeyVariable} in the node's environment to run it."));
            return null;
        }
        return new E2BPrimitive(new E2BClient(_services.Http, options),
            (input, context) => spec.Render(new TemplateScope(JsonData.ToNode(input), context)), _services.Capture, spec.Name ?? spec.Kind, spec.Describe());
    }
}
