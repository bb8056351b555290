using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace TtaActors.Runtime.Inspector;

/// <summary>
/// The API's access rule for a browser, which cannot put a bearer token on a page load or an EventSource: on a node
/// with <c>TTA_API_TOKEN</c>, <c>/ui?token=TOKEN</c> once sets an HttpOnly, SameSite=Strict cookie holding a value
/// derived from the token (HMAC-SHA256, so the token itself is not stored in the browser), and every later request
/// of that browser carries it. A node whose API enforces no token (<c>tta node</c> on loopback) needs neither.
/// </summary>
public static class InspectorAccess
{
    /// <summary>The cookie that admits a browser to <c>/ui</c>.</summary>
    public const string CookieName = "tta_ui";
    /// <summary>The query parameter that carries the token on the first page load.</summary>
    public const string TokenQuery = "token";

    /// <summary>The cookie value a token gives.</summary>
    public static string CookieValue(string token) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(token), "tta-ui-session"u8));

    /// <summary>
    /// True when the request carries this node's UI cookie, or is the page load <c>/ui?token=TOKEN</c> with the token;
    /// both compared in constant time.
    /// </summary>
    public static bool Admits(HttpContext http, string token)
    {
        if (http.Request.Cookies.TryGetValue(CookieName, out var cookie) && Same(cookie, CookieValue(token))) return true;
        var path = http.Request.Path;
        return HttpMethods.IsGet(http.Request.Method) && path == "/ui"
               && http.Request.Query.TryGetValue(TokenQuery, out var given) && given.Count == 1 && Same(given[0] ?? "", token);
    }

    /// <summary>Sets the UI cookie for <paramref name="token"/> (HttpOnly, SameSite=Strict).</summary>
    public static void SetCookie(HttpContext http, string token) =>
        http.Response.Cookies.Append(CookieName, CookieValue(token), new CookieOptions
        {
            HttpOnly = true, SameSite = SameSiteMode.Strict, Path = "/", Secure = http.Request.IsHttps, IsEssential = true,
        });

    private static bool Same(string given, string expected) =>
        CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(given)), SHA256.HashData(Encoding.UTF8.GetBytes(expected)));
}
