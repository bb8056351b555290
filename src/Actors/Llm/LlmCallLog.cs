using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using Akka.Actor;
using Akka.DependencyInjection;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using TtaActors.Actors.Execution;
using TtaActors.Telemetry.Llm;

namespace TtaActors.Actors.Llm;

/// <summary>
/// One log line per LLM call, for log search (<c>|= "llm" |= "completion"</c> in Loki):
/// <c>llm completion status=ok provider=openai model=gpt-4o-mini input_tokens=812 output_tokens=164 cost_usd=0.000220
/// duration_ms=1840 persona=backend-engineer chatmode=feature-implementation workflow=dev-copilot step=dev-copilot/draft
/// run_id=… session_id=…</c>, category <c>TtaActors.Llm</c>. Never prompt or completion text, never a key; a failed call
/// is an ERROR line with the error's type only (provider messages can echo the request). The fields are also the log
/// record's attributes (OTLP), and the line is written with the chat span current, so it carries that span's ids.
/// Written through the host's <see cref="ILoggerFactory"/> (Akka.Hosting's service provider); an actor system without
/// one (a bare TestKit) writes no line.
/// </summary>
internal static class LlmCallLog
{
    public const string Category = "TtaActors.Llm";

    /// <summary>Longest value written for a field that comes from a caller (persona, session, model).</summary>
    internal const int MaxValueLength = 128;

    private static readonly ConditionalWeakTable<ActorSystem, StrongBox<ILogger?>> Loggers = new();

    public static void Write(ActorSystem system, Activity? span, LlmCallOutcome outcome, PrimitiveExecution execution)
    {
        if (LoggerOf(system) is not { } logger) return;
        var level = outcome.Error is null ? LogLevel.Information : LogLevel.Error;
        if (!logger.IsEnabled(level)) return;
        var fields = Fields(outcome, execution);
        var previous = Activity.Current;
        if (span is not null) Activity.Current = span;
        try
        {
            logger.Log(level, default, fields, null, static (state, _) => Format(state));
        }
        finally
        {
            Activity.Current = previous;
        }
    }

    internal static List<KeyValuePair<string, object?>> Fields(LlmCallOutcome outcome, PrimitiveExecution execution)
    {
        var context = execution.Context;
        var fields = new List<KeyValuePair<string, object?>>(16);
        Add(fields, "status", outcome.Error is null ? "ok" : "error");
        if (outcome.Error is { } error) Add(fields, "error_type", error.GetType().FullName);
        Add(fields, "provider", outcome.Provider);
        Add(fields, "model", outcome.Model);
        Add(fields, "input_tokens", outcome.InputTokens);
        Add(fields, "output_tokens", outcome.OutputTokens);
        Add(fields, "cost_usd", outcome.Cost?.Total);
        Add(fields, "duration_ms", (long)Math.Round(outcome.DurationSeconds * 1000));
        Add(fields, "persona", context.Persona);
        Add(fields, "chatmode", context.ChatMode);
        Add(fields, "workflow", execution.Node.WorkflowName);
        Add(fields, "step", execution.Node.Path);
        Add(fields, "run_id", execution.RunId.ToString());
        Add(fields, "session_id", context.SessionId);
        return fields;
    }

    /// <summary>
    /// <c>llm completion key=value …</c>, logfmt style: a value with a space, quote, equals sign, backslash or control
    /// character is quoted and escaped, so a caller's persona cannot forge another field or another line.
    /// </summary>
    internal static string Format(List<KeyValuePair<string, object?>> fields)
    {
        var line = new StringBuilder("llm completion", 320);
        foreach (var (key, value) in fields)
        {
            var text = Convert.ToString(value, CultureInfo.InvariantCulture) ?? "";
            line.Append(' ').Append(key).Append('=');
            if (text.Length > 0 && !text.Any(c => c is ' ' or '"' or '=' or '\\' || char.IsControl(c)))
            {
                line.Append(text);
                continue;
            }
            line.Append('"');
            foreach (var c in text)
            {
                switch (c)
                {
                    case '"': line.Append("\\\""); break;
                    case '\\': line.Append("\\\\"); break;
                    case '\n': line.Append("\\n"); break;
                    case '\r': line.Append("\\r"); break;
                    case var control when char.IsControl(control):
                        line.Append("\\u").Append(((int)control).ToString("x4", CultureInfo.InvariantCulture));
                        break;
                    default: line.Append(c); break;
                }
            }
            line.Append('"');
        }
        return line.ToString();
    }

    private static void Add(List<KeyValuePair<string, object?>> fields, string key, object? value)
    {
        if (value is null) return;
        if (value is string { Length: > MaxValueLength } text) value = text[..MaxValueLength];
        fields.Add(new KeyValuePair<string, object?>(key, value));
    }

    private static ILogger? LoggerOf(ActorSystem system) =>
        Loggers.GetValue(system, static s => new StrongBox<ILogger?>(Resolve(s))).Value;

    private static ILogger? Resolve(ActorSystem system)
    {
        // Only systems built with a service provider (Akka.Hosting, or a DependencyResolverSetup) have a logger factory.
        if (!system.Settings.Setup.Get<DependencyResolverSetup>().HasValue) return null;
        return DependencyResolver.For(system).Resolver.GetService<ILoggerFactory>()?.CreateLogger(Category);
    }
}
