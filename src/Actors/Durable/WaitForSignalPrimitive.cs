using System.Text.Json.Nodes;
using Akka.Actor;
using TtaActors.Actors.Context;
using TtaActors.Actors.Execution;
using TtaActors.Actors.Primitives;

namespace TtaActors.Actors.Durable;

/// <summary>What a waiting run shows to whoever is to answer it: a prompt and a payload, rendered from the step's input.</summary>
public sealed record WaitRequest(string? Prompt, JsonNode? Payload);

/// <summary>
/// Pauses a durable run until one of <see cref="Signals"/> arrives (<c>POST /runs/{id}/signals/{name}</c>); the signal's
/// payload is the step's output. After <see cref="Timeout"/> the run takes <see cref="OnTimeout"/> (its output is the
/// step's), or fails with <see cref="SignalTimeoutException"/>. A human approval is a wait for one signal with a prompt.
/// </summary>
/// <remarks>Only durable runs can wait (the wait is journaled and survives restarts); an in-memory run fails at it.</remarks>
public sealed class WaitForSignalPrimitive : Primitive
{
    /// <param name="signals">The signal names that end the wait (letters, digits, '.', '_', '-', at most 64 characters each).</param>
    /// <param name="name">The name in spans, metrics and failure paths; the type name when null.</param>
    /// <param name="timeout">How long to wait; null waits without end.</param>
    /// <param name="onTimeout">Runs on timeout with the step's input; without one the run fails with <see cref="SignalTimeoutException"/>. Needs <paramref name="timeout"/>.</param>
    /// <param name="request">Renders the prompt and payload shown to whoever answers; none by default.</param>
    /// <param name="isApproval">Whether this is a human approval.</param>
    /// <exception cref="ArgumentException">No signals, a bad signal name, or an on-timeout branch without a timeout.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeout"/> is not longer than zero.</exception>
    public WaitForSignalPrimitive(IReadOnlyList<string> signals, string? name = null, TimeSpan? timeout = null, Primitive? onTimeout = null,
        Func<object?, WorkflowContext, WaitRequest>? request = null, bool isApproval = false) : base(name)
    {
        if (signals is null || signals.Count == 0) throw new ArgumentException("A wait needs at least one signal name.", nameof(signals));
        foreach (var signal in signals)
        {
            if (SignalNameProblem(signal) is { } problem) throw new ArgumentException(problem, nameof(signals));
        }
        if (timeout is { } limit && limit <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(timeout), limit, "A wait's timeout must be longer than zero.");
        if (onTimeout is not null && timeout is null) throw new ArgumentException("A wait's on-timeout branch needs a timeout.", nameof(onTimeout));
        Signals = signals.Distinct(StringComparer.Ordinal).ToList();
        Timeout = timeout;
        OnTimeout = onTimeout;
        Request = request ?? ((_, _) => new WaitRequest(null, null));
        IsApproval = isApproval;
    }

    /// <summary>A wait for one human decision: the signal <paramref name="signal"/> (default <c>approval</c>) with a prompt.</summary>
    public static WaitForSignalPrimitive Approval(string prompt, string signal = "approval", TimeSpan? timeout = null, Primitive? onTimeout = null,
        string? name = null) =>
        new([signal], name ?? signal, timeout, onTimeout, (input, _) => new WaitRequest(prompt, JsonData(input)), isApproval: true);

    /// <summary>The longest signal name.</summary>
    public const int MaxSignalNameLength = 64;

    /// <summary>The signal names that end the wait.</summary>
    public IReadOnlyList<string> Signals { get; }
    /// <summary>How long the run waits; null for without end.</summary>
    public TimeSpan? Timeout { get; }
    /// <summary>Runs when the wait times out; null fails the run.</summary>
    public Primitive? OnTimeout { get; }
    /// <summary>Renders the prompt and payload from the step's input and context.</summary>
    public Func<object?, WorkflowContext, WaitRequest> Request { get; }

    /// <summary>Whether this wait is a human approval (its events say <c>approval_requested</c>).</summary>
    public bool IsApproval { get; }

    /// <inheritdoc/>
    public override string TypeName => "WaitForSignalPrimitive";

    /// <summary>The timeout branch is run by the durable run itself, not by this primitive's actor.</summary>
    public override IReadOnlyList<Primitive> Children => [];

    /// <summary>What is wrong with a signal name (letters, digits, '.', '_', '-', at most 64), or null.</summary>
    public static string? SignalNameProblem(string? name)
    {
        if (string.IsNullOrEmpty(name)) return "A signal name must not be empty.";
        if (name.Length > MaxSignalNameLength) return $"A signal name has at most {MaxSignalNameLength} characters; this one has {name.Length}.";
        return name.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-')
            ? null
            : "A signal name may only use letters, digits, '.', '_' and '-'.";
    }

    internal override Props CreateProps(PrimitiveNode node) =>
        new LambdaPrimitive((_, _, _) => throw new InvalidOperationException(
            $"Step '{DisplayName}' waits for a signal ({string.Join(", ", Signals)}), which only a durable run can do: give the workflow " +
            "'durability: steps' (or WorkflowDurability.Steps in C#) and run it on a node."), DisplayName).CreateProps(node);

    private static JsonNode? JsonData(object? input) => input switch
    {
        null => null,
        JsonNode node => node.DeepClone(),
        _ => System.Text.Json.JsonSerializer.SerializeToNode(input, input.GetType(), Serialization.JsonManifestSerializer.Options),
    };
}

/// <summary>No awaited signal arrived within a wait's timeout, and the wait has no on-timeout branch.</summary>
public sealed class SignalTimeoutException(string step, IReadOnlyList<string> signals, TimeSpan timeout)
    : TimeoutException($"Step '{step}' waited {timeout.TotalSeconds:0.###} s for {string.Join(" or ", signals.Select(s => $"'{s}'"))} and none arrived; " +
                       "the run fails. Give the wait an on-timeout branch, or a longer timeout.");

/// <summary>A durable run whose start was journaled after the instant its caller had to be answered by; it fails before any step.</summary>
public sealed class StartExpiredException(string runId, DateTimeOffset deadline, DateTimeOffset journaled)
    : TimeoutException($"Durable run {runId} was not started: its start was journaled at {journaled:O}, after {deadline:O}, the instant its " +
                       "caller had to be answered by (the node or the journal was slow), so the caller may have been told it did not start. " +
                       "The run fails here and no step was executed; start it again.");

/// <summary>A resumed durable run whose workflow definition is not the one it started with.</summary>
public sealed class DefinitionChangedException(string workflow, string startedWith, string current)
    : InvalidOperationException($"Workflow '{workflow}' changed since this run started (definition {startedWith[..12]}... at the start, " +
                                $"{current[..12]}... now; full hashes {startedWith} and {current}); the run is not resumed blindly and fails. " +
                                "Start a new run, or restore the old definition to resume it.");
