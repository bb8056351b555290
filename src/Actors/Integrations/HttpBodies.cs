using System.Text;

namespace TtaActors.Actors.Integrations;

/// <summary>A response body larger than the limit its client allows.</summary>
public sealed class ResponseTooLargeException(string message) : IOException(message);

/// <summary>Reads response bodies without ever holding more than a bound in memory.</summary>
internal static class HttpBodies
{
    public static async Task<byte[]> ReadBoundedAsync(HttpContent content, long maxBytes, string what, CancellationToken cancellation)
    {
        if (content.Headers.ContentLength is { } length && length > maxBytes)
            throw new ResponseTooLargeException($"{what} answered {length} bytes, more than the limit of {maxBytes} bytes.");
        await using var stream = await content.ReadAsStreamAsync(cancellation).ConfigureAwait(false);
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await stream.ReadAsync(chunk, cancellation).ConfigureAwait(false)) > 0)
        {
            if (buffer.Length + read > maxBytes)
                throw new ResponseTooLargeException($"{what} answered more than the limit of {maxBytes} bytes; the rest was not read.");
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }

    public static async Task<string> ReadBoundedTextAsync(HttpContent content, long maxBytes, string what, CancellationToken cancellation) =>
        Encoding.UTF8.GetString(await ReadBoundedAsync(content, maxBytes, what, cancellation).ConfigureAwait(false));

    /// <summary>The first characters of a body, for an error message.</summary>
    public static string Snippet(string text, int max = 300) => text.Length > max ? text[..max] + "..." : text;

    /// <summary>The text with each secret replaced, so an echoed key never reaches an error, a span or a log.</summary>
    public static string Redact(string text, IEnumerable<string?> secrets)
    {
        foreach (var secret in secrets)
        {
            if (!string.IsNullOrEmpty(secret) && text.Contains(secret, StringComparison.Ordinal))
                text = text.Replace(secret, "[REDACTED]", StringComparison.Ordinal);
        }
        return text;
    }
}
