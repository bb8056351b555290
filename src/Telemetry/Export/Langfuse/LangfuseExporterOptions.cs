using System.Text;

namespace TtaActors.Telemetry.Export.Langfuse;

/// <summary>
/// Where and how spans go to Langfuse. A class rather than a record so that printing it can never show the
/// secret key.
/// </summary>
public sealed class LangfuseExporterOptions
{
    public const string DefaultHost = "https://cloud.langfuse.com";
    public const string TracesPath = "api/public/otel/v1/traces";
    public const string IngestionPath = "api/public/ingestion";
    public const string IngestionVersionHeader = "x-langfuse-ingestion-version";
    public const string IngestionVersion = "4";

    public required Uri Host { get; init; }
    public required string PublicKey { get; init; }
    public required string SecretKey { get; init; }

    /// <summary>Largest request body; Langfuse rejects bodies of a few MB, so larger batches are split.</summary>
    public int MaxRequestBytes { get; init; } = 3_000_000;

    /// <summary>Spans kept while Langfuse cannot take them; beyond this new spans are dropped and counted.</summary>
    public int MaxQueuedSpans { get; init; } = 50_000;

    /// <summary>Bytes of encoded spans kept while Langfuse cannot take them.</summary>
    public long MaxQueuedBytes { get; init; } = 64L * 1024 * 1024;

    /// <summary><c>TTA_TELEMETRY_SPOOL_DIR</c>: spans waiting for Langfuse are kept here and survive a restart.</summary>
    public string? SpoolDirectory { get; init; }

    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(15);
    public TimeSpan InitialBackoff { get; init; } = TimeSpan.FromSeconds(1);
    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>The longest <c>Retry-After</c> honoured as given; a longer one is shortened to this.</summary>
    public TimeSpan MaxRetryAfter { get; init; } = TimeSpan.FromMinutes(5);

    public Uri TracesEndpoint => Combine(TracesPath);
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

    public override string ToString() => $"Langfuse {Host} (public key {PublicKey}, secret key hidden)";

    private Uri Combine(string path)
    {
        var text = Host.ToString();
        return new Uri(text.EndsWith('/') ? text + path : text + "/" + path);
    }

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}
