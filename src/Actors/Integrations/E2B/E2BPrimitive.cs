using Akka.Actor;
using TtaActors.Actors.Context;
using TtaActors.Actors.Execution;
using TtaActors.Actors.Primitives;
using TtaActors.Telemetry.Llm;

namespace TtaActors.Actors.Integrations.E2B;

/// <summary>
/// A leaf step that runs code or a command in a fresh E2B sandbox and always kills it: its span is
/// <c>primitive.{Name}</c> (type <c>E2BPrimitive</c>) with <c>execute_tool e2b.run_code</c> under it. The output is
/// <c>{"sandbox_id", "stdout", "stderr", "exit_code", "results", "error", "files"}</c>.
/// </summary>
public sealed class E2BPrimitive : Primitive
{
    private readonly LambdaPrimitive _step;

    /// <param name="request">The run for the step's input and context (code and file contents may come from the run).</param>
    /// <param name="describe">How errors name the step (a workflow file's step and location); null names none.</param>
    /// <param name="client">The E2B client.</param>
    /// <param name="capture">What of code, output and files reaches the spans; <see cref="CapturePolicy.Default"/> when null.</param>
    /// <param name="name">The name in spans, metrics and failure paths; the type name when null.</param>
    public E2BPrimitive(E2BClient client, Func<object?, WorkflowContext, E2BRunRequest> request, CapturePolicy? capture = null, string? name = null,
        string? describe = null) : base(name)
    {
        Client = client ?? throw new ArgumentNullException(nameof(client));
        ArgumentNullException.ThrowIfNull(request);
        var policy = capture ?? CapturePolicy.Default;
        var suffix = describe is null ? "" : $" ({describe})";
        _step = new LambdaPrimitive(async (input, context, cancellation) =>
        {
            var run = request(input, context);
            try
            {
                var result = await client.RunAsync(run, policy, cancellation).ConfigureAwait(false);
                return new StepOutcome(result.ToJson());
            }
            catch (Exception error) when (describe is not null && error is E2BException or E2BRunFailedException or TimeoutException or ArgumentException)
            {
                throw error switch
                {
                    E2BException e2b => new E2BException(e2b.Message + suffix, e2b.StatusCode),
                    E2BRunFailedException failed => new E2BRunFailedException(failed.Message + suffix, failed.Result),
                    TimeoutException => new TimeoutException(error.Message + suffix, error),
                    _ => new ArgumentException(error.Message + suffix, error),
                };
            }
        }, name);
    }

    /// <summary>A step that runs the same request every time.</summary>
    public E2BPrimitive(E2BClient client, E2BRunRequest request, CapturePolicy? capture = null, string? name = null)
        : this(client, Validated(request), capture, name)
    {
    }

    /// <summary>The E2B client the step runs with.</summary>
    public E2BClient Client { get; }
    /// <inheritdoc/>
    public override IReadOnlyList<Primitive> Children => [];
    /// <inheritdoc/>
    public override string TypeName => "E2BPrimitive";

    internal override Props CreateProps(PrimitiveNode node) => _step.CreateProps(node);

    private static Func<object?, WorkflowContext, E2BRunRequest> Validated(E2BRunRequest request)
    {
        if (request.Problems() is { Count: > 0 } problems) throw new ArgumentException(string.Join(" ", problems), nameof(request));
        return (_, _) => request;
    }
}
