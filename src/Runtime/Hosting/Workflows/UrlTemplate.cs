using System.Text;

namespace TtaActors.Runtime.Workflows;

/// <summary>
/// The URL of an <c>http:</c> step. Each value is percent-encoded where it goes (one path segment, or one query value),
/// so it cannot add a path segment, a query or a fragment; a value that is exactly <c>.</c> or <c>..</c> is refused in
/// the path. <c>{{ x | raw }}</c> inserts a value as URL text, and even then the request never leaves what the
/// template writes literally before its first value: the scheme, host, port and path prefix.
/// </summary>
public sealed class UrlTemplate
{
    private enum UrlPart
    {
        Scheme,
        Authority,
        PathOrLater,
    }

    private readonly IReadOnlyList<bool> _inPath;
    private readonly string _fixedPrefix;

    private UrlTemplate(Template template, IReadOnlyList<bool> inPath, string fixedPrefix)
    {
        Template = template;
        _inPath = inPath;
        _fixedPrefix = fixedPrefix;
    }

    /// <summary>The URL's template.</summary>
    public Template Template { get; }

    /// <summary>The URL as written.</summary>
    public string Source => Template.Source;

    /// <summary>Checks where each value goes; a value in the scheme, host or port must be marked <c>| raw</c>.</summary>
    public static UrlTemplate Create(Template template)
    {
        var part = UrlPart.Scheme;
        var scheme = new StringBuilder();
        var inPath = new List<bool>();
        string? fixedPrefix = null;
        var literal = new StringBuilder();
        foreach (var item in template.Parts)
        {
            if (item is string text)
            {
                literal.Append(text);
                foreach (var c in text)
                {
                    part = part switch
                    {
                        UrlPart.Scheme when scheme.Append(c).ToString().EndsWith("://", StringComparison.Ordinal) => UrlPart.Authority,
                        UrlPart.Authority when c is '/' or '?' or '#' => UrlPart.PathOrLater,
                        _ => part,
                    };
                }
                continue;
            }
            var placeholder = (Placeholder)item;
            fixedPrefix ??= literal.ToString();
            if (!placeholder.Raw && part != UrlPart.PathOrLater)
                throw new FormatException(
                    $"'{{{{ {placeholder.Path} }}}}' is in the URL's scheme, host or port, where a value could send the request (and its headers) anywhere. " +
                    $"Write them literally (https://api.example.com/...) or, for a trusted value, write '{{{{ {placeholder.Path} | {Template.RawFilter} }}}}'.");
            inPath.Add(part == UrlPart.PathOrLater && !literal.ToString().Contains('?') && !literal.ToString().Contains('#'));
            // A raw value in the scheme brings its own "://".
            if (placeholder.Raw && part == UrlPart.Scheme) part = UrlPart.Authority;
        }
        return new UrlTemplate(template, inPath, fixedPrefix ?? template.Source);
    }

    /// <summary>The request URI; throws naming the step when a value would change what the template fixes.</summary>
    public Uri Render(TemplateScope scope, string describe)
    {
        var index = 0;
        var text = Template.RenderText(scope, describe, (placeholder, value) =>
        {
            var inPath = _inPath[index++];
            if (placeholder.Raw) return value;
            if (inPath && value is "." or "..")
                throw new InvalidOperationException(
                    $"The {describe} would put the path segment '{value}' into its URL from '{{{{ {placeholder.Path} }}}}', which would climb the path the template fixes; the request was not sent.");
            return Uri.EscapeDataString(value);
        });

        if (text.Any(c => c <= ' ' || c == '\u007f'))
            throw new InvalidOperationException(
                $"The {describe} rendered a URL with a space or control character (from a '| {Template.RawFilter}' value); the request was not sent. Percent-encode the value or drop '| {Template.RawFilter}'.");
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            throw new InvalidOperationException($"The {describe} rendered the URL '{text}', which is not an absolute http or https URL.");
        // Uri resolves "." and "..", but not percent-encoded dots and slashes, which many servers decode and then resolve.
        if (Uri.UnescapeDataString(uri.AbsolutePath).Split('/', '\\').Any(segment => segment is "." or ".."))
            throw new InvalidOperationException(
                $"The {describe} rendered a URL whose path, once decoded, holds a '.' or '..' segment, which a server could resolve to climb the path its template fixes; the request was not sent. Check the value put into the path.");
        if (!StaysWithinFixedPrefix(uri))
            throw new InvalidOperationException(
                $"The {describe} rendered a URL ({uri.GetLeftPart(UriPartial.Path)}) outside '{_fixedPrefix}', the scheme, host, port and path its template fixes; " +
                $"a '| {Template.RawFilter}' value may add to the URL but never leave that prefix. The request was not sent.");
        return uri;
    }

    private bool StaysWithinFixedPrefix(Uri uri)
    {
        if (_fixedPrefix.Length == 0) return true;
        // Both sides normalised the same way (host in lower case, default port dropped, dot segments resolved); a prefix
        // that is no URL yet (only "https://") can only fix the scheme, which is case-insensitive.
        return Uri.TryCreate(_fixedPrefix, UriKind.Absolute, out var fixedUri)
            ? uri.AbsoluteUri.StartsWith(fixedUri.AbsoluteUri, StringComparison.Ordinal)
            : uri.AbsoluteUri.StartsWith(_fixedPrefix, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>The URL as written.</summary>
    public override string ToString() => Source;
}
