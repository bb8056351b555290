using TtaActors.Actors.Durable;
using TtaActors.Actors.Primitives;

namespace TtaActors.Runtime.Workflows;

/// <summary>Builds the durable parts of a workflow file: its wait steps and its durable definition.</summary>
public static class DurableFileSteps
{
    /// <summary>The primitive of an <c>approval:</c> or <c>wait:</c> step; prompt and payload render from the step's input.</summary>
    public static Primitive? Wait(WaitSpec spec, Func<StepSpec, Primitive?> step)
    {
        Primitive? onTimeout = null;
        if (spec.OnTimeout is { } branch && (onTimeout = step(branch)) is null) return null;
        var describe = spec.Describe();
        return new WaitForSignalPrimitive(spec.Signals, spec.Name ?? (spec.IsApproval ? spec.Signals[0] : spec.Kind),
            spec.TimeoutSeconds is { } seconds ? TimeSpan.FromSeconds(seconds) : null, onTimeout,
            (input, context) =>
            {
                var scope = new TemplateScope(JsonData.ToNode(input), context);
                return new WaitRequest(spec.Prompt?.RenderText(scope, describe), spec.Payload is { } payload ? payload.Render(scope, describe) : scope.Input?.DeepClone());
            },
            spec.IsApproval);
    }

    /// <summary>
    /// The durable definition of a file with <c>durability: steps</c> (null otherwise): its top-level steps, each
    /// materialised once, and the SHA-256 of the file's text, which a resumed run must still match.
    /// </summary>
    public static DurableWorkflowDefinition? Definition(WorkflowDocument document, Primitive root, WorkflowStepServices services, string path)
    {
        if (document.Durability != WorkflowDurability.Steps) return null;
        try
        {
            return DurableWorkflowDefinition.Create(document.Name, root, services.Materialize, DurableWorkflowDefinition.TextHash(File.ReadAllText(path)));
        }
        catch (ArgumentException error)
        {
            throw new WorkflowFileException(path, [new WorkflowProblem(new SourceLocation(path, 1, 1), error.Message)]);
        }
    }
}
