using System.Collections.Immutable;
using System.Text.RegularExpressions;

namespace TtaActors.Telemetry.Llm;

/// <summary>
/// What of a prompt and a completion reaches spans (and so Langfuse): captured by default, secrets redacted by
/// pattern, truncated to a size Langfuse accepts. Truncation keeps the observation; it never drops it.
/// </summary>
public sealed record CapturePolicy
{
    /// <summary>What a redacted secret is replaced with.</summary>
    public const string Redacted = "[REDACTED]";

    /// <summary>Secrets that have a recognisable shape: provider and Langfuse keys, bearer tokens, cloud keys.</summary>
    public static readonly ImmutableArray<Regex> DefaultPatterns =
    [
        new(@"sk-ant-[A-Za-z0-9_\-]{8,}", RegexOptions.Compiled | RegexOptions.CultureInvariant),
        new(@"sk-(proj-|svcacct-)?[A-Za-z0-9_\-]{16,}", RegexOptions.Compiled | RegexOptions.CultureInvariant),
        new(@"(pk|sk)-lf-[A-Za-z0-9\-]{8,}", RegexOptions.Compiled | RegexOptions.CultureInvariant),
        new(@"(?i)bearer\s+[A-Za-z0-9._~+/\-]{16,}=*", RegexOptions.Compiled | RegexOptions.CultureInvariant),
        new(@"AKIA[0-9A-Z]{16}", RegexOptions.Compiled | RegexOptions.CultureInvariant),
        new(@"gh[pousr]_[A-Za-z0-9]{30,}", RegexOptions.Compiled | RegexOptions.CultureInvariant),
        new(@"(?i)(api[_-]?key|secret|password|passwd|token)(\s*[:=]\s*)[""']?[^\s""',;]{6,}",
            RegexOptions.Compiled | RegexOptions.CultureInvariant),
    ];

    /// <summary>Capture on, 16,384 characters, <see cref="DefaultPatterns"/>, v1.36 conventions.</summary>
    public static CapturePolicy Default { get; } = new();

    /// <summary>Prompt and completion are recorded at all; off records model, usage and cost only.</summary>
    public bool Enabled { get; init; } = true;

    /// <summary>Longest text kept per prompt or completion, in characters, after redaction.</summary>
    public int MaxChars { get; init; } = 16_384;

    /// <summary>Patterns whose matches are replaced with <see cref="Redacted"/> before text reaches a span; <see cref="DefaultPatterns"/> by default.</summary>
    public ImmutableArray<Regex> RedactPatterns { get; init; } = DefaultPatterns;

    /// <summary>
    /// Which GenAI convention names carry the content (and the provider and durations): v1.36 by default,
    /// the latest with <c>OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental</c>.
    /// </summary>
    public GenAiConventions Conventions { get; init; }

    /// <summary>Exact values that must never be recorded, such as the configured API keys.</summary>
    public ImmutableArray<string> SecretValues { get; init; } = [];

    /// <summary>This policy, also redacting the given values wherever they appear (empty ones are ignored).</summary>
    public CapturePolicy WithSecrets(IEnumerable<string?> secrets) =>
        this with { SecretValues = SecretValues.AddRange(secrets.Where(s => !string.IsNullOrEmpty(s) && s.Length >= 4).Select(s => s!)) };

    /// <summary>This policy with extra patterns; a bad pattern fails with its text and the parser's reason.</summary>
    public CapturePolicy WithPatterns(IEnumerable<string> patterns)
    {
        var compiled = patterns.Select(pattern =>
        {
            try
            {
                return new Regex(pattern, RegexOptions.Compiled | RegexOptions.CultureInvariant, TimeSpan.FromMilliseconds(200));
            }
            catch (ArgumentException error)
            {
                throw new ArgumentException($"Redaction pattern '{pattern}' is not a valid regular expression: {error.Message}", error);
            }
        });
        return this with { RedactPatterns = RedactPatterns.AddRange(compiled) };
    }

    /// <summary>The text as it may be recorded, or null when capture is off.</summary>
    public string? Apply(string? text)
    {
        if (!Enabled || text is null) return null;
        var clean = Redact(text);
        if (clean.Length <= MaxChars) return clean;
        return string.Concat(clean.AsSpan(0, MaxChars), $"...[truncated {clean.Length - MaxChars} chars]");
    }

    /// <summary>The text with every secret value and secret-shaped string replaced by <see cref="Redacted"/>.</summary>
    public string Redact(string text)
    {
        foreach (var secret in SecretValues)
        {
            if (text.Contains(secret, StringComparison.Ordinal)) text = text.Replace(secret, Redacted, StringComparison.Ordinal);
        }
        foreach (var pattern in RedactPatterns)
        {
            text = pattern.Replace(text, match =>
                // A key=value secret keeps its key, so the reader still sees what was there.
                match.Groups.Count > 2 && match.Groups[2].Success ? match.Groups[1].Value + match.Groups[2].Value + Redacted : Redacted);
        }
        return text;
    }
}
