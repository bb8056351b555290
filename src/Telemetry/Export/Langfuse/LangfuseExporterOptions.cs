using System.Text;

namespace TtaActors.Telemetry.Export.Langfuse;

/// <summary>
/// Where and how spans go to Langfuse. A class rather than a record so that printing it can never show the
/// secret key.
/// </summary>
public sealed class LangfuseExporterOptions
{
    /// <summary>The Langfuse host used when <c>LANGFUSE_HOST</c> is not set.</summary>
    public const string DefaultHost = "https://cloud.langfuse.com";
    /// <summary>Path of Langfuse's OpenTelemetry traces endpoint (OTLP over HTTP, protobuf), relative to <see cref="Host"/>.</summary>
    public const string TracesPath = "api/public/otel/v1/traces";
    /// <summary>Path of Langfuse's batch ingestion endpoint, used only for scores.</summary>
    public const string IngestionPath = "api/public/ingestion";
    /// <summary>Header that tells Langfuse which ingestion version the spans follow.</summary>
    public const string IngestionVersionHeader = "x-langfuse-ingestion-version";
    /// <summary>Value of <see cref="IngestionVersionHeader"/>.</summary>
    public const string IngestionVersion = "4";

    /// <summary>The Langfuse base URL (<c>LANGFUSE_HOST</c>), e.g. <see cref="DefaultHost"/> or a self-hosted instance.</summary>
    public required Uri Host { get; init; }
    /// <summary>The project's public key (<c>LANGFUSE_PUBLIC_KEY</c>).</summary>
    public required string PublicKey { get; init; }
    /// <summary>The project's secret key (<c>LANGFUSE_SECRET_KEY</c>); never printed or logged.</summary>
    public required string SecretKey { get; init; }

    /// <summary>Largest request body; Langfuse rejects bodies of a few MB, so larger batches are split.</summary>
    public int MaxRequestBytes { get; init; } = 3_000_000;

    /// <summary>Spans kept while Langfuse cannot take them; beyond this new spans are dropped and counted.</summary>
    public int MaxQueuedSpans { get; init; } = 50_000;

    /// <summary>Bytes of encoded spans kept while Langfuse cannot take them.</summary>
    public long MaxQueuedBytes { get; init; } = 64L * 1024 * 1024;

    /// <summary><c>TTA_TELEMETRY_SPOOL_DIR</c>: spans waiting for Langfuse are kept here and survive a restart.</summary>
    public string? SpoolDirectory { get; init; }

    /// <summary>How long one request may take before it counts as a transient failure; 15 seconds by default.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(15);
    /// <summary>The wait after the first transient failure; further failures wait longer, up to <see cref="MaxBackoff"/>. 1 second by default.</summary>
    public TimeSpan InitialBackoff { get; init; } = TimeSpan.FromSeconds(1);
    /// <summary>The longest wait between attempts; 60 seconds by default.</summary>
    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>The longest <c>Retry-After</c> honoured as given; a longer one is shortened to this.</summary>
    public TimeSpan MaxRetryAfter { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary><see cref="Host"/> joined with <see cref="TracesPath"/>.</summary>
    public Uri TracesEndpoint => Combine(TracesPath);
    /// <summary><see cref="Host"/> joined with <see cref="IngestionPath"/>.</summary>
    public Uri IngestionEndpoint => Combine(IngestionPath);

    /// <summary>The <c>Authorization</c> header value: Basic base64(public:secret).</summary>
    public string AuthorizationHeader => "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{PublicKey}:{SecretKey}"));

    /// <summary>
    /// Reads <c>LANGFUSE_PUBLIC_KEY</c>, <c>LANGFUSE_SECRET_KEY</c>, <c>LANGFUSE_HOST</c> and
    /// <c>TTA_TELEMETRY_SPOOL_DIR</c>. Returns null with the reason when export is off (keys missing); a bad host
    /// throws naming the variable.
    /// </summary>
    public static LangfuseExporterOptions? FromEnvironment(Func<string, string?> read, out string reason)
    {
        var publicKey = NonEmpty(read("LANGFUSE_PUBLIC_KEY"));
        var secretKey = NonEmpty(read("LANGFUSE_SECRET_KEY"));
        if (publicKey is null || secretKey is null)
        {
            reason = (publicKey, secretKey) switch
            {
                (null, null) => "Langfuse export is off: LANGFUSE_PUBLIC_KEY and LANGFUSE_SECRET_KEY are not set.",
                (null, _) => "Langfuse export is off: LANGFUSE_SECRET_KEY is set but LANGFUSE_PUBLIC_KEY is not; set both to export.",
                _ => "Langfuse export is off: LANGFUSE_PUBLIC_KEY is set but LANGFUSE_SECRET_KEY is not; set both to export.",
            };
            return null;
        }
        var hostText = NonEmpty(read("LANGFUSE_HOST")) ?? NonEmpty(read("LANGFUSE_BASE_URL")) ?? DefaultHost;
        if (!Uri.TryCreate(hostText, UriKind.Absolute, out var host) || (host.Scheme != Uri.UriSchemeHttp && host.Scheme != Uri.UriSchemeHttps))
            throw new ArgumentException($"LANGFUSE_HOST: '{hostText}' is not an http(s) URL such as {DefaultHost}.");
        reason = $"Langfuse export is on: {host}";
        return new LangfuseExporterOptions
        {
            Host = host,
            PublicKey = publicKey,
            SecretKey = secretKey,
            SpoolDirectory = NonEmpty(read("TTA_TELEMETRY_SPOOL_DIR")),
        };
    }

    /// <summary>The host and public key; the secret key is never shown.</summary>
    public override string ToString() => $"Langfuse {Host} (public key {PublicKey}, secret key hidden)";

    private Uri Combine(string path)
    {
        var text = Host.ToString();
        return new Uri(text.EndsWith('/') ? text + path : text + "/" + path);
    }

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}
