using System.Diagnostics.Metrics;

namespace TtaActors.Telemetry.Llm;

/// <summary>
/// Which version of the (still experimental) GenAI conventions the LLM spans and metrics follow. As the conventions ask of
/// instrumentations that emitted v1.36 or earlier, the default stays v1.36 and <c>OTEL_SEMCONV_STABILITY_OPT_IN</c>
/// containing <c>gen_ai_latest_experimental</c> switches to the latest names and drops the old ones.
/// </summary>
public enum GenAiConventions
{
    /// <summary><c>gen_ai.system</c>, content as <c>gen_ai.content.prompt</c>/<c>.completion</c> events, agent and tool durations in <c>gen_ai.client.operation.duration</c>.</summary>
    V1_36 = 0,

    /// <summary><c>gen_ai.input.messages</c>, <c>gen_ai.output.messages</c>, <c>gen_ai.system_instructions</c>, <c>gen_ai.invoke_agent.duration</c>, <c>gen_ai.execute_tool.duration</c>.</summary>
    LatestExperimental = 1,
}

/// <summary>Reads the conventions' mode from the opt-in variable.</summary>
public static class GenAiConventionsMode
{
    /// <summary>The mode a comma-separated <c>OTEL_SEMCONV_STABILITY_OPT_IN</c> value selects (null or empty: the default).</summary>
    public static GenAiConventions Parse(string? optIn)
    {
        if (string.IsNullOrWhiteSpace(optIn)) return GenAiConventions.V1_36;
        foreach (var token in optIn.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (string.Equals(token, TelemetryNames.GenAiConventions.LatestExperimentalOptIn, StringComparison.OrdinalIgnoreCase))
                return GenAiConventions.LatestExperimental;
        }
        return GenAiConventions.V1_36;
    }
}

/// <summary>The instruments of the latest conventions and of client-side rate limiting.</summary>
public static class GenAiInstruments
{
    /// <summary>Bucket boundaries the conventions give for <c>gen_ai.invoke_agent.duration</c>, in seconds.</summary>
    public static readonly IReadOnlyList<double> AgentDurationBuckets =
    [
        0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 6.4, 12.8, 25.6, 51.2, 102.4, 204.8, 409.6,
    ];

    /// <summary>Waits run from milliseconds (a refill) to a minute (a full token window) or a provider's Retry-After.</summary>
    public static readonly IReadOnlyList<double> RateLimitWaitBuckets =
    [
        0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300,
    ];

    /// <summary>With the latest conventions: histogram of agent invocation time, in seconds.</summary>
    public static readonly Histogram<double> InvokeAgentDuration = TtaInstrumentation.Meter.CreateHistogram(
        TelemetryNames.GenAiConventions.InvokeAgentDuration,
        unit: "s",
        description: "Duration of GenAI agent invocations.",
        tags: null,
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = AgentDurationBuckets });

    /// <summary>With the latest conventions: histogram of tool call time, in seconds.</summary>
    public static readonly Histogram<double> ExecuteToolDuration = TtaInstrumentation.Meter.CreateHistogram(
        TelemetryNames.GenAiConventions.ExecuteToolDuration,
        unit: "s",
        description: "Duration of tool executions by GenAI agents.",
        tags: null,
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = TtaInstrumentation.GenAiDurationBuckets });

    /// <summary>Histogram of seconds LLM calls waited for a rate limit, by provider, model and reason.</summary>
    public static readonly Histogram<double> RateLimitWait = TtaInstrumentation.Meter.CreateHistogram(
        TelemetryNames.LlmRateLimits.WaitSeconds,
        unit: "s",
        description: "Time LLM calls waited for a rate limit (local requests/tokens per minute, or a provider's Retry-After).",
        tags: null,
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = RateLimitWaitBuckets });

    /// <summary>Counter of LLM calls that waited for or were refused by a rate limit, by provider, model and reason.</summary>
    public static readonly Counter<long> RateLimited = TtaInstrumentation.Meter.CreateCounter<long>(
        TelemetryNames.LlmRateLimits.Limited,
        unit: null,
        description: "LLM calls that waited for or were refused by a rate limit, by provider, model and reason.");
}
