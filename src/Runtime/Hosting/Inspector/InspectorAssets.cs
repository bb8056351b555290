using System.Reflection;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using TtaActors.Runtime.Node;

namespace TtaActors.Runtime.Inspector;

/// <summary>
/// The inspector's page, script and style sheet, embedded in the assembly (a node may have no internet: no CDN, no
/// build step). Every answer forbids inline scripts and any other origin (<see cref="ContentSecurityPolicy"/>).
/// </summary>
public static class InspectorAssets
{
    /// <summary>The Content-Security-Policy every inspector answer carries.</summary>
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    private static readonly Dictionary<string, (string ContentType, byte[] Bytes)> Files = Load();

    /// <summary>Maps the page and its embedded assets; <paramref name="apiToken"/> is the token the app's API enforces, or null.</summary>
    public static void Map(WebApplication app, string? apiToken)
    {
        app.MapGet("/ui", (HttpContext http) => Page(http, apiToken));
        app.MapGet("/ui/assets/{file}", (string file, HttpContext http) =>
        {
            if (file == "index.html" || !Files.TryGetValue(file, out var asset))
                return NodeApi.Problem(404, "asset-not-found", "Asset not found", "The inspector has app.js and app.css under /ui/assets/.");
            Secure(http);
            return Results.Bytes(asset.Bytes, asset.ContentType);
        });
    }

    /// <summary>
    /// The page. Where the API enforces a token, <c>/ui?token=TOKEN</c> (checked by the access rule before this runs) sets
    /// the session cookie and sends the browser on to <c>/ui</c>, so the token leaves the address bar and its history.
    /// That is a <c>tta node</c> beyond loopback, and any app of yours whose <c>NodeOptions.ApiToken</c> is set.
    /// </summary>
    private static IResult Page(HttpContext http, string? apiToken)
    {
        Secure(http);
        if (apiToken is not null && http.Request.Query.ContainsKey(InspectorAccess.TokenQuery))
        {
            InspectorAccess.SetCookie(http, apiToken);
            return Results.Redirect("/ui", permanent: false);
        }
        var page = Files["index.html"];
        return Results.Bytes(page.Bytes, page.ContentType);
    }

    private static void Secure(HttpContext http)
    {
        http.Response.Headers.ContentSecurityPolicy = ContentSecurityPolicy;
        http.Response.Headers.XContentTypeOptions = "nosniff";
        http.Response.Headers["Referrer-Policy"] = "no-referrer";
        http.Response.Headers.CacheControl = "no-store";
    }

    private static Dictionary<string, (string, byte[])> Load()
    {
        var assembly = typeof(InspectorAssets).Assembly;
        var files = new Dictionary<string, (string, byte[])>(StringComparer.Ordinal);
        foreach (var name in new[] { "index.html", "app.js", "app.css" })
        {
            using var stream = assembly.GetManifestResourceStream("TtaActors.Inspector." + name)
                               ?? throw new InvalidOperationException($"The inspector asset {name} is not embedded in {assembly.GetName().Name}.");
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            var type = Path.GetExtension(name) switch
            {
                ".html" => "text/html; charset=utf-8",
                ".js" => "text/javascript; charset=utf-8",
                _ => "text/css; charset=utf-8",
            };
            files[name] = (type, buffer.ToArray());
        }
        return files;
    }
}
