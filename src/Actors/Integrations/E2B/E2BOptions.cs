using System.Globalization;

namespace TtaActors.Actors.Integrations.E2B;

/// <summary>An E2B configuration a step cannot run with; the message names the variable and what to do.</summary>
public sealed class E2BConfigurationException(string message) : Exception(message);

/// <summary>
/// How to reach E2B, from the variables its SDKs read: <c>E2B_API_KEY</c> (sent as <c>X-API-Key</c> to the API, never
/// exported into a sandbox, a span, a log or an error), <c>E2B_DOMAIN</c> (default <c>e2b.app</c>), <c>E2B_API_URL</c>
/// (default <c>https://api.{domain}</c>) and <c>E2B_SANDBOX_URL</c> (one base URL for every sandbox, which the SDKs
/// use for local and self-hosted deployments; the sandbox and port then travel in the <c>E2b-Sandbox-Id</c> and
/// <c>E2b-Sandbox-Port</c> headers). Without it a sandbox port is reached at <c>https://{port}-{sandboxID}.{domain}</c>.
/// </summary>
public sealed record E2BOptions
{
    /// <summary>The variable holding the API key.</summary>
    public const string ApiKeyVariable = "E2B_API_KEY";
    /// <summary>The variable naming the E2B domain.</summary>
    public const string DomainVariable = "E2B_DOMAIN";
    /// <summary>The variable overriding the API's base URL.</summary>
    public const string ApiUrlVariable = "E2B_API_URL";
    /// <summary>The variable giving one base URL for every sandbox (local and self-hosted deployments).</summary>
    public const string SandboxUrlVariable = "E2B_SANDBOX_URL";
    /// <summary>E2B's own domain, used when <c>E2B_DOMAIN</c> is not set.</summary>
    public const string DefaultDomain = "e2b.app";

    /// <summary>The code interpreter's template and port (e2b-dev/code-interpreter).</summary>
    public const string CodeInterpreterTemplate = "code-interpreter-v1";
    /// <summary>The port the code interpreter listens on inside its sandbox.</summary>
    public const int CodeInterpreterPort = 49999;

    /// <summary>The sandbox daemon's port (envd: processes and files).</summary>
    public const int EnvdPort = 49983;

    /// <summary>The sandbox user commands and files run as (the SDKs' default).</summary>
    public const string DefaultUser = "user";

    /// <summary>The API key (<c>E2B_API_KEY</c>), sent as <c>X-API-Key</c>; never exported, logged or printed.</summary>
    public required string ApiKey { get; init; }
    /// <summary>The E2B domain (<c>E2B_DOMAIN</c>); <see cref="DefaultDomain"/> by default.</summary>
    public string Domain { get; init; } = DefaultDomain;
    /// <summary>The API's base URL (<c>E2B_API_URL</c>); null uses <c>https://api.{Domain}</c>.</summary>
    public Uri? ApiUrl { get; init; }
    /// <summary>One base URL for every sandbox (<c>E2B_SANDBOX_URL</c>); null reaches a port at <c>https://{port}-{sandboxID}.{Domain}</c>.</summary>
    public Uri? SandboxUrl { get; init; }

    /// <summary>Time one API or file request may take (creating, killing, uploading, downloading).</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Time the kill request may take; it runs even when the step was cancelled.</summary>
    public TimeSpan KillTimeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>The longest a sandbox may live (E2B kills it then even if nobody does); steps ask for less.</summary>
    public TimeSpan MaxSandboxLifetime { get; init; } = TimeSpan.FromHours(1);

    /// <summary>Bytes of stdout and of stderr kept per run; beyond it the text is cut with a marker.</summary>
    public int MaxOutputBytes { get; init; } = 1024 * 1024;

    /// <summary>Bytes of one uploaded or downloaded file, and of the code interpreter's results.</summary>
    public int MaxFileBytes { get; init; } = 8 * 1024 * 1024;

    /// <summary><see cref="ApiUrl"/>, else <c>https://api.{Domain}</c>.</summary>
    public Uri EffectiveApiUrl => ApiUrl ?? new Uri($"https://api.{Domain}");

    /// <summary>The options from the environment, or null when <c>E2B_API_KEY</c> is not set; a bad value throws naming the variable.</summary>
    public static E2BOptions? FromEnvironment(Func<string, string?> read)
    {
        var key = read(ApiKeyVariable)?.Trim();
        if (string.IsNullOrEmpty(key)) return null;
        if (key.Any(c => c < ' ' || c == '\u007f'))
            throw new E2BConfigurationException($"{ApiKeyVariable} holds a control character (a line break?); set it again without one.");
        var domain = read(DomainVariable)?.Trim();
        if (string.IsNullOrEmpty(domain)) domain = DefaultDomain;
        if (Uri.CheckHostName(domain) != UriHostNameType.Dns)
            throw new E2BConfigurationException($"{DomainVariable} must be a host name such as {DefaultDomain}; found '{domain}'.");
        return new E2BOptions
        {
            ApiKey = key,
            Domain = domain.ToLowerInvariant(),
            ApiUrl = BaseUrl(read, ApiUrlVariable),
            SandboxUrl = BaseUrl(read, SandboxUrlVariable),
        };
    }

    private static Uri? BaseUrl(Func<string, string?> read, string variable)
    {
        var text = read(variable)?.Trim();
        if (string.IsNullOrEmpty(text)) return null;
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp)
            || !string.IsNullOrEmpty(uri.Query) || !string.IsNullOrEmpty(uri.Fragment) || !string.IsNullOrEmpty(uri.UserInfo))
            throw new E2BConfigurationException($"{variable} must be an http or https base URL without query, fragment or credentials; found '{text}'.");
        return uri;
    }

    /// <summary>The API's host; the key is never shown.</summary>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"E2B at {EffectiveApiUrl.GetLeftPart(UriPartial.Authority)}, key set");
}
