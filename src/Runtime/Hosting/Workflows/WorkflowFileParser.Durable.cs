using TtaActors.Actors.Durable;
using YamlDotNet.RepresentationModel;

namespace TtaActors.Runtime.Workflows;

/// <summary>A step that pauses a durable run for a signal: <c>approval:</c> (a human decision with a prompt) or <c>wait:</c>.</summary>
public sealed record WaitSpec(SourceLocation At, string? Name, bool IsApproval, IReadOnlyList<string> Signals, Template? Prompt, JsonTemplate? Payload,
    double? TimeoutSeconds, StepSpec? OnTimeout) : StepSpec(At, Name)
{
    /// <inheritdoc/>
    public override string Kind => IsApproval ? "approval" : "wait";
}

/// <summary>The durable parts of the schema: <c>durability:</c>, <c>approval:</c> and <c>wait:</c> (docs/workflow-files.md).</summary>
public sealed partial class WorkflowFileParser
{
    private WorkflowDurability Durability(YamlNode node)
    {
        var text = String(node, "durability");
        switch (text)
        {
            case null:
                return WorkflowDurability.None;
            case "none":
                return WorkflowDurability.None;
            case "steps":
                return WorkflowDurability.Steps;
            default:
                Problem(At(node), $"Unknown durability '{text}'; use none (in memory, the default) or steps (journaled, resumable runs).");
                return WorkflowDurability.None;
        }
    }

    private StepSpec? Wait(string kind, SourceLocation at, string? name, YamlNode body)
    {
        var approval = kind == "approval";
        var keys = Keys(body, kind, approval
            ? ["prompt", "payload", "signal", "timeout_seconds", "on_timeout"]
            : ["signal", "signals", "prompt", "payload", "timeout_seconds", "on_timeout"]);
        if (keys is null) return null;
        var ok = true;
        var signals = new List<string>();
        if (keys.TryGetValue("signal", out var signalNode))
        {
            if (String(signalNode, "signal") is { } signal) signals.Add(signal);
            else ok = false;
        }
        if (keys.TryGetValue("signals", out var signalsNode))
        {
            if (signalsNode is not YamlSequenceNode { Children.Count: > 0 } list)
            {
                Problem(At(signalsNode), "'signals:' takes a non-empty list of signal names.");
                ok = false;
            }
            else
            {
                foreach (var item in list.Children)
                {
                    if (String(item, "signal name") is { } signal) signals.Add(signal);
                    else ok = false;
                }
            }
        }
        if (signals.Count == 0 && ok)
        {
            if (approval) signals.Add(name ?? "approval");
            else
            {
                Problem(at, "The wait step has no 'signal:' or 'signals:' (the names of the signals it waits for).");
                ok = false;
            }
        }
        foreach (var signal in signals)
        {
            if (WaitForSignalPrimitive.SignalNameProblem(signal) is { } problem)
            {
                Problem(at, $"Signal '{signal}' of the {kind} step: {problem}");
                ok = false;
            }
        }

        Template? prompt = null;
        if (keys.TryGetValue("prompt", out var promptNode))
        {
            prompt = String(promptNode, "prompt") is { } text ? TemplateOf(promptNode, text, allowEnv: false) : null;
            ok &= prompt is not null;
        }
        else if (approval)
        {
            Problem(at, "The approval step has no 'prompt:' (what the approver is asked, a template).");
            ok = false;
        }
        JsonTemplate? payload = null;
        if (keys.TryGetValue("payload", out var payloadNode))
        {
            payload = JsonTemplateOf(payloadNode, allowEnv: false);
            ok &= payload is not null;
        }
        double? timeout = null;
        if (keys.TryGetValue("timeout_seconds", out var timeoutNode))
        {
            timeout = Number(timeoutNode, "timeout_seconds", MinSeconds, MaxSeconds);
            ok &= timeout is not null;
        }
        StepSpec? onTimeout = null;
        if (keys.TryGetValue("on_timeout", out var onTimeoutNode))
        {
            onTimeout = Step(onTimeoutNode);
            ok &= onTimeout is not null;
            if (timeout is null && !keys.ContainsKey("timeout_seconds"))
            {
                Problem(At(onTimeoutNode), $"'on_timeout:' of the {kind} step needs 'timeout_seconds:' (how long to wait before taking it).");
                ok = false;
            }
        }
        return ok ? new WaitSpec(at, name, approval, signals, prompt, payload, timeout, onTimeout) : null;
    }

    /// <summary>Waits need a durable workflow, and must be its top-level steps (only those are journaled).</summary>
    private void CheckWaits(StepSpec root, WorkflowDurability durability)
    {
        var topLevel = root is SequenceSpec sequence ? sequence.Steps : [root];
        foreach (var step in topLevel)
        {
            if (step is WaitSpec wait)
            {
                if (durability != WorkflowDurability.Steps)
                    Problem(wait.At, $"The {wait.Kind} step needs a durable workflow: add 'durability: steps' at the top of the file " +
                                     "(a run waiting for a signal is journaled so it survives restarts).");
                if (wait.OnTimeout is { } branch) CheckNested(branch);
            }
            else CheckNested(step);
        }
    }

    private void CheckNested(StepSpec step)
    {
        foreach (var child in Children(step))
        {
            if (child is WaitSpec wait)
                Problem(wait.At, $"The {wait.Kind} step is nested inside another step; waits must be top-level steps of the workflow " +
                                 "(the list under 'steps:'), where a durable run is journaled.");
            CheckNested(child);
        }
    }

    private static IEnumerable<StepSpec> Children(StepSpec step) => step switch
    {
        SequenceSpec s => s.Steps,
        ParallelSpec p => p.Branches,
        RouterSpec r => r.Routes.Select(route => route.Value),
        RetrySpec r => [r.Do],
        FallbackSpec f => [f.Do, f.Otherwise],
        TimeoutSpec t => t.Otherwise is null ? [t.Do] : [t.Do, t.Otherwise],
        WaitSpec w => w.OnTimeout is null ? [] : [w.OnTimeout],
        _ => [],
    };
}
