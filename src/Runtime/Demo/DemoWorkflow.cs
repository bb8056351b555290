using System.Collections.Concurrent;
using TtaActors.Actors.Context;
using TtaActors.Actors.Llm;
using TtaActors.Llm.Providers;
using TtaActors.Actors.Primitives;
using Microsoft.Extensions.DependencyInjection;
using TtaActors.Runtime.Hosting;
using TtaActors.Runtime.Workflows;

namespace TtaActors.Runtime.Demo;

/// <summary>A parsed request of the demo: what kind of work, for which area of the code.</summary>
public sealed record Ticket(string Kind, string Area, string Summary, string? Plan = null);

/// <summary>What the demo answers: the drafts, the model's review of them, and what the review used and cost.</summary>
public sealed record DemoOutput(string Drafts, string Review, string Provider, string Model, long? InputTokens, long? OutputTokens,
    decimal? CostUsd, string? FinishReason);

/// <summary>
/// The bundled demo workflow, a small dev-copilot: parse a request, route it by kind (the feature route calls a
/// design tool that fails twice before it answers, under a Retry), then draft code, tests and docs in parallel,
/// summarise, and have a chat model review the summary (the offline model unless a provider key is set).
/// </summary>
public static class DemoWorkflow
{
    /// <summary>The demo workflow's name.</summary>
    public const string Name = "dev-copilot-demo";
    /// <summary>The input <c>tta demo</c> runs with when given none.</summary>
    public const string DefaultInput = "feature: orders-api: add rate limiting to the orders endpoint";

    /// <summary>Registers the demo as the code workflow every node and <c>tta run</c> offer.</summary>
    public static IServiceCollection AddDemoWorkflow(this IServiceCollection services) =>
        services.AddTtaWorkflow(Name, Build(), input => input switch
        {
            null => DefaultInput,
            System.Text.Json.Nodes.JsonValue value when value.TryGetValue<string>(out var text) => text,
            _ => throw new ArgumentException(
                $"Workflow '{Name}' takes a string such as \"{DefaultInput}\" as input."),
        }, "The bundled dev-copilot demo: Sequential, Router, Retry and Parallel over a \"kind: area: summary\" request.");

    /// <summary>How many times the design tool fails for each run before it answers.</summary>
    public const int DesignToolFailures = 2;

    /// <summary>The workflow; its review step uses <paramref name="llm"/>, by default the settings from the environment.</summary>
    public static Primitive Build(LlmSettings? llm = null)
    {
        try
        {
            llm ??= LlmProviders.FromEnvironment();
        }
        catch (LlmConfigurationException error)
        {
            throw new TtaConfigurationException(error.Message, error);
        }

        var failuresLeft = new ConcurrentDictionary<string, int>();

        var parse = Lambda.From<string, Ticket>(Parse, "parse-request");

        var designTool = Lambda.FromAsync<Ticket, Ticket>(async (ticket, context, cancellation) =>
        {
            await Task.Delay(5, cancellation);
            var left = failuresLeft.AddOrUpdate(context.CorrelationId, DesignToolFailures, (_, n) => n - 1);
            if (left > 0) throw new TimeoutException($"design tool timed out ({left} more failure(s) to come in this run)");
            failuresLeft.TryRemove(context.CorrelationId, out _);
            return ticket with { Plan = $"token bucket per client in front of {ticket.Area}" };
        }, "call-design-tool");

        var planFeature = new RetryPrimitive(designTool,
            new RetryPolicy { MaxRetries = 3, BackoffBase = 2, MaxBackoff = 0.05, Jitter = true }, name: "plan-feature");
        var reproduceBug = Lambda.From<Ticket, Ticket>(t => t with { Plan = $"reproduce in {t.Area}, bisect, fix" }, "reproduce-bug");

        var triage = new RouterPrimitive(
            new Dictionary<string, Primitive> { ["feature"] = planFeature, ["bugfix"] = reproduceBug },
            (input, _) => ((Ticket)input!).Kind,
            defaultRoute: "feature",
            name: "triage");

        var draftCode = Lambda.FromAsync<Ticket, string>(async (t, ct) =>
        {
            await Task.Delay(10, ct);
            return $"code: {t.Plan}";
        }, "draft-code");
        var writeTests = Lambda.From<Ticket, string>(t => $"tests: {t.Area} rejects the 101st request in a minute", "write-tests");
        var updateDocs = Lambda.From<Ticket, string>(t => $"docs: {t.Summary}", "update-docs");

        var summarize = Lambda.From<object?[], string>(
            parts => string.Join(" | ", parts.Select(p => p?.ToString())), "summarize");

        var review = llm.Chat(options: new LlmStepOptions
        {
            SystemPrompt = "You review change plans for a {persona} working in {chatmode} mode. Answer in at most three sentences.",
            PromptTemplate = "Review this plan before it is implemented: {input}",
            Temperature = 0.2f,
            MaxTokens = 200,
            Stream = true,
        }, name: "review-plan");
        var keepDrafts = Lambda.From<string, string>(drafts => drafts, "keep-drafts");
        var report = Lambda.From<object?[], DemoOutput>(parts =>
        {
            var drafts = (string)parts[0]!;
            var answer = (LlmResponse)parts[1]!;
            return new DemoOutput(drafts, answer.Content, answer.Provider, answer.Model, answer.Usage.InputTokens, answer.Usage.OutputTokens,
                answer.CostUsd, answer.FinishReason);
        }, "report");

        return parse >> triage >> (draftCode | writeTests | updateDocs) >> summarize >> (keepDrafts | review) >> report;
    }

    /// <summary>Reads "kind: area: summary"; a request without a kind is a feature.</summary>
    public static Ticket Parse(string request)
    {
        var parts = request.Split(':', 3, StringSplitOptions.TrimEntries);
        return parts.Length switch
        {
            3 => new Ticket(parts[0], parts[1], parts[2]),
            2 => new Ticket("feature", parts[0], parts[1]),
            _ => new Ticket("feature", "general", request.Trim()),
        };
    }

    /// <summary>The context the demo runs in: a persona session of a backend engineer.</summary>
    public static WorkflowContext Context() =>
        WorkflowContext.Create(workflowId: Name, sessionId: "demo-session", persona: "backend-engineer", chatMode: "feature-implementation");
}
