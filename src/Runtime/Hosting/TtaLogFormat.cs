using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;
using OpenTelemetry;
using OpenTelemetry.Logs;

namespace TtaActors.Runtime.Hosting;

/// <summary>
/// The node's log line, one event per line so the journal and Loki see one entry per event:
/// <c>2026-12-02T00:45:01.123Z ERROR service_name=tta-dev-copilot Category: message trace_id=… span_id=…</c>.
/// The level is a word (TRACE, DEBUG, INFO, WARN, ERROR, FATAL) so <c>|= "ERROR"</c> finds errors; line breaks in a
/// message or an exception are written as <c>\n</c>. Under systemd (<c>JOURNAL_STREAM</c> set) each line starts with
/// the syslog priority (<c>&lt;3&gt;</c>), which journald strips and stores as the entry's PRIORITY.
/// </summary>
public static class TtaLogFormat
{
    /// <summary>The console formatter's name (<c>Logging:Console:FormatterName</c>).</summary>
    public const string FormatterName = "tta";

    /// <summary>The level word of <paramref name="level"/>.</summary>
    public static string Word(LogLevel level) => level switch
    {
        LogLevel.Trace => "TRACE",
        LogLevel.Debug => "DEBUG",
        LogLevel.Information => "INFO",
        LogLevel.Warning => "WARN",
        LogLevel.Error => "ERROR",
        LogLevel.Critical => "FATAL",
        _ => "NONE",
    };

    /// <summary>The syslog priority journald reads from a <c>&lt;N&gt;</c> line prefix.</summary>
    public static int SyslogPriority(LogLevel level) => level switch
    {
        LogLevel.Critical => 2,
        LogLevel.Error => 3,
        LogLevel.Warning => 4,
        LogLevel.Information => 6,
        _ => 7,
    };

    /// <summary>
    /// Console logging in the node's line format for <paramref name="serviceName"/>, and the same level word at the
    /// start of every OTLP log record's body, so the Loki line filters match logs that come by either path.
    /// </summary>
    public static ILoggingBuilder AddTtaConsole(this ILoggingBuilder logging, string serviceName, Func<string, string?>? read = null)
    {
        read ??= Environment.GetEnvironmentVariable;
        var journal = !string.IsNullOrEmpty(read("JOURNAL_STREAM"));
        logging.AddConsole(console => console.FormatterName = FormatterName);
        logging.AddConsoleFormatter<TtaConsoleFormatter, TtaConsoleFormatterOptions>(format =>
        {
            format.ServiceName = serviceName;
            format.JournalPriority = journal;
            format.UseUtcTimestamp = true;
        });
        logging.Services.ConfigureOpenTelemetryLoggerProvider(logs => logs.AddProcessor(new LevelWordProcessor()));
        return logging;
    }

    /// <summary>Writes <paramref name="text"/> on one line: CR and LF become the two characters <c>\r</c> and <c>\n</c>.</summary>
    internal static void AppendOneLine(StringBuilder line, string text)
    {
        foreach (var c in text)
        {
            switch (c)
            {
                case '\n': line.Append("\\n"); break;
                case '\r': line.Append("\\r"); break;
                default: line.Append(c); break;
            }
        }
    }

    /// <summary>OTLP log bodies start with the level word, like the console line.</summary>
    private sealed class LevelWordProcessor : BaseProcessor<LogRecord>
    {
        public override void OnEnd(LogRecord record)
        {
            var word = Word(record.LogLevel);
            if (record.FormattedMessage is { } message && !message.StartsWith(word, StringComparison.Ordinal))
                record.FormattedMessage = word + " " + message;
        }
    }
}

/// <summary>Options of the <c>tta</c> console log format.</summary>
public sealed class TtaConsoleFormatterOptions : ConsoleFormatterOptions
{
    /// <summary>The workspace's service name, written as <c>service_name=…</c> on every line.</summary>
    public string ServiceName { get; set; } = "tta";

    /// <summary>Starts each line with the syslog priority for journald (on by default under systemd).</summary>
    public bool JournalPriority { get; set; }
}

/// <summary>The console side of <see cref="TtaLogFormat"/>.</summary>
public sealed class TtaConsoleFormatter : ConsoleFormatter, IDisposable
{
    // The attributes Akka.Hosting's logger puts on an actor's log event (its AkkaLogState is internal).
    private const string AkkaTraceIdKey = "Akka.TraceId";
    private const string AkkaSpanIdKey = "Akka.SpanId";

    private readonly IDisposable? _reload;
    private TtaConsoleFormatterOptions _options;

    /// <summary>Follows changes of <paramref name="options"/>.</summary>
    public TtaConsoleFormatter(IOptionsMonitor<TtaConsoleFormatterOptions> options) : base(TtaLogFormat.FormatterName)
    {
        _options = options.CurrentValue;
        _reload = options.OnChange(changed => _options = changed);
    }

    /// <summary>Writes one entry as one line in the format <see cref="TtaLogFormat"/> describes.</summary>
    public override void Write<TState>(in LogEntry<TState> logEntry, IExternalScopeProvider? scopeProvider, TextWriter textWriter)
    {
        var message = logEntry.Formatter(logEntry.State, logEntry.Exception);
        if (string.IsNullOrEmpty(message) && logEntry.Exception is null) return;
        var options = _options;
        var line = new StringBuilder(96 + message.Length);
        if (options.JournalPriority) line.Append('<').Append(TtaLogFormat.SyslogPriority(logEntry.LogLevel)).Append('>');
        line.Append(DateTime.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture))
            .Append(' ').Append(TtaLogFormat.Word(logEntry.LogLevel))
            .Append(" service_name=").Append(options.ServiceName)
            .Append(' ').Append(logEntry.Category).Append(": ");
        TtaLogFormat.AppendOneLine(line, message);
        var (traceId, spanId) = TraceOf(logEntry.State, scopeProvider);
        if (traceId is not null) line.Append(" trace_id=").Append(traceId).Append(" span_id=").Append(spanId);
        if (logEntry.Exception is { } error)
        {
            line.Append(" exception: ");
            TtaLogFormat.AppendOneLine(line, error.ToString());
        }
        line.Append('\n');
        textWriter.Write(line.ToString());
    }

    /// <summary>
    /// The trace of the event: the one Akka captured where an actor logged (the mailbox hop loses Activity.Current), else
    /// the scope's, else the current Activity's.
    /// </summary>
    private static (string? TraceId, string? SpanId) TraceOf<TState>(TState state, IExternalScopeProvider? scopes)
    {
        if (state is IEnumerable<KeyValuePair<string, object?>> pairs)
        {
            string? traceId = null, spanId = null;
            foreach (var (key, value) in pairs)
            {
                if (key == AkkaTraceIdKey) traceId = value?.ToString();
                else if (key == AkkaSpanIdKey) spanId = value?.ToString();
            }
            if (Valid(traceId)) return (traceId, spanId);
        }
        if (Activity.Current is { } current && current.TraceId != default)
            return (current.TraceId.ToHexString(), current.SpanId.ToHexString());
        string? scopedTrace = null, scopedSpan = null;
        scopes?.ForEachScope((scope, _) =>
        {
            if (scope is not IEnumerable<KeyValuePair<string, object?>> values) return;
            foreach (var (key, value) in values)
            {
                if (key == "TraceId") scopedTrace = value?.ToString();
                else if (key == "SpanId") scopedSpan = value?.ToString();
            }
        }, (object?)null);
        return Valid(scopedTrace) ? (scopedTrace, scopedSpan) : (null, null);
    }

    private static bool Valid(string? traceId) => !string.IsNullOrEmpty(traceId) && traceId.Any(c => c != '0');

    /// <summary>Stops following option changes.</summary>
    public void Dispose() => _reload?.Dispose();
}
