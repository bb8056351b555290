namespace TtaActors.Actors.Integrations.Supabase;

/// <summary>A Supabase configuration a step cannot run with; the message names the variable and what to do.</summary>
public sealed class SupabaseConfigurationException(string message) : Exception(message);

/// <summary>
/// Where the Supabase project is and the key to reach it: <c>SUPABASE_URL</c> and the first of <c>SUPABASE_KEY</c>,
/// <c>SUPABASE_SERVICE_ROLE_KEY</c>, <c>SUPABASE_ANON_KEY</c> that is set. The key is sent as <c>apikey</c> and as
/// <c>Authorization: Bearer</c>, and never appears in spans, logs or errors (<see cref="ToString"/> says only whether it is set).
/// </summary>
public sealed record SupabaseOptions
{
    /// <summary>The variable holding the project URL.</summary>
    public const string UrlVariable = "SUPABASE_URL";
    /// <summary>The variables the key is read from, first one set wins.</summary>
    public static readonly IReadOnlyList<string> KeyVariables = ["SUPABASE_KEY", "SUPABASE_SERVICE_ROLE_KEY", "SUPABASE_ANON_KEY"];

    /// <summary>The project URL (<c>SUPABASE_URL</c>), e.g. <c>https://xyz.supabase.co</c>.</summary>
    public required Uri Url { get; init; }
    /// <summary>The API key; never printed or recorded.</summary>
    public required string Key { get; init; }

    /// <summary>Bytes of one response body; a larger answer fails the step (use <c>limit</c> or a narrower <c>select</c>).</summary>
    public long MaxResponseBytes { get; init; } = 8 * 1024 * 1024;

    /// <summary>Time one request may take unless the step sets its own.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The options from the environment, or null when <c>SUPABASE_URL</c> is not set; a bad value throws naming the variable.</summary>
    public static SupabaseOptions? FromEnvironment(Func<string, string?> read)
    {
        var url = read(UrlVariable);
        if (string.IsNullOrWhiteSpace(url)) return null;
        if (!Uri.TryCreate(url.Trim(), UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp)
            || !string.IsNullOrEmpty(uri.Query) || !string.IsNullOrEmpty(uri.Fragment) || !string.IsNullOrEmpty(uri.UserInfo))
            throw new SupabaseConfigurationException(
                $"{UrlVariable} must be the project's base URL, such as https://abcdefghijklm.supabase.co (http or https, no query, fragment or credentials).");
        var key = KeyVariables.Select(read).FirstOrDefault(v => !string.IsNullOrWhiteSpace(v))?.Trim();
        if (key is null)
            throw new SupabaseConfigurationException(
                $"{UrlVariable} is set but no key is: set {string.Join(", ", KeyVariables.SkipLast(1))} or {KeyVariables[^1]} (the project's API key, from its API settings).");
        if (key.Any(c => c < ' ' || c == '\u007f'))
            throw new SupabaseConfigurationException("The Supabase key holds a control character (a line break?); set it again without one.");
        return new SupabaseOptions { Url = uri, Key = key };
    }

    /// <summary>The data API's base: <c>{SUPABASE_URL}/rest/v1/</c>.</summary>
    public Uri RestBase => new(Url.AbsoluteUri.TrimEnd('/') + "/rest/v1/");

    /// <summary>The project's host and whether a key is set; never the key.</summary>
    public override string ToString() => $"Supabase at {Url.GetLeftPart(UriPartial.Authority)}, key set";
}
