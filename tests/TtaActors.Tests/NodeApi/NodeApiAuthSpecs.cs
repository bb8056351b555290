using System.Net;
using System.Text;
using System.Text.RegularExpressions;

namespace TtaActors.Tests.NodeApi;

/// <summary>
/// The bearer token guards every route but the health probes. The routes are read from the application itself, so a
/// route added later is walked too.
/// </summary>
public sealed partial class NodeApiAuthSpecs(NodeApiServer server) : IClassFixture<NodeApiServer>
{
    private static readonly string[] OpenRoutes = ["/healthz", "/readyz"];

    /// <summary>Tokens that are not the node's: each differs from it only in case, or entirely.</summary>
    public static TheoryData<string, string?> RefusedCredentials => new()
    {
        { "no Authorization header", null },
        { "a wrong token", "not-the-node-token-at-all-000000" },
        { "the token in upper case", NodeApiServer.ApiToken.ToUpperInvariant() },
        { "the token in lower case", NodeApiServer.ApiToken.ToLowerInvariant() },
        { "the token with its case swapped", SwapCase(NodeApiServer.ApiToken) },
        { "the token with one letter's case changed", "n" + NodeApiServer.ApiToken[1..] },
        { "a prefix of the token", NodeApiServer.ApiToken[..^1] },
        { "the token with a character more", NodeApiServer.ApiToken + "x" },
    };

    [Fact]
    public void The_walked_routes_are_the_apps_own_and_include_every_documented_one()
    {
        var routes = GuardedRoutes();

        Assert.True(routes.Count >= 6, $"only {routes.Count} guarded routes were found: {string.Join(", ", routes)}");
        foreach (var documented in new[] { ("POST", "/runs"), ("GET", "/runs/{id}"), ("GET", "/sessions"), ("GET", "/sessions/{id}"),
                     ("POST", "/sessions/{id}/persona"), ("GET", "/workflows") })
            Assert.Contains(documented, routes);
    }

    [Theory]
    [MemberData(nameof(RefusedCredentials))]
    public async Task Every_route_but_the_health_probes_refuses_a_request_without_the_exact_token(string what, string? token)
    {
        using var client = server.Client(token);
        foreach (var (method, pattern) in GuardedRoutes())
        {
            var (status, body, response) = await server.SendAsync(Request(method, pattern), client);
            var text = body?.ToJsonString() ?? "";

            Assert.True(status == 401, $"{method} {pattern} with {what} answered {status}, not 401");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            Assert.Equal(401, (int?)body?["status"]);
            Assert.Equal("https://tta.dev/problems/unauthorized", (string?)body?["type"]);
            Assert.StartsWith("Bearer", response.Headers.WwwAuthenticate.ToString(), StringComparison.OrdinalIgnoreCase);
            Assert.False(text.Contains(NodeApiServer.ApiToken, StringComparison.OrdinalIgnoreCase), $"{method} {pattern}: the refusal shows the node's token");
        }
    }

    [Fact]
    public async Task Every_route_lets_the_exact_token_through()
    {
        foreach (var (method, pattern) in GuardedRoutes())
        {
            // Headers only: the event streams (/runs/feed, /runs/{id}/events) answer 200 and then keep the body open.
            using var request = Request(method, pattern);
            using var response = await server.Api.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            Assert.True(response.StatusCode != HttpStatusCode.Unauthorized, $"{method} {pattern} refused the node's own token");
        }
    }

    [Fact]
    public async Task A_token_under_another_scheme_is_refused()
    {
        using var basic = server.Client(Convert.ToBase64String(Encoding.UTF8.GetBytes("tta:" + NodeApiServer.ApiToken)), "Basic");
        using var raw = server.Client(null);
        raw.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", NodeApiServer.ApiToken);

        using var lookalike = server.Client(NodeApiServer.ApiToken, "Beaver");

        Assert.Equal(401, (await server.GetAsync("/workflows", basic)).Status);
        Assert.Equal(401, (await server.GetAsync("/workflows", raw)).Status);
        Assert.Equal(401, (await server.GetAsync("/workflows", lookalike)).Status);
    }

    [Fact]
    public async Task The_token_may_follow_the_scheme_after_more_than_one_space()
    {
        // RFC 9110 section 11.4: credentials = auth-scheme [ 1*SP ( token68 / #auth-param ) ].
        using var spaced = server.Client(null);
        spaced.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", "Bearer   " + NodeApiServer.ApiToken);

        Assert.Equal(200, (await server.GetAsync("/workflows", spaced)).Status);
    }

    [Fact]
    public async Task A_refusal_says_whether_the_header_was_missing_or_the_token_wrong()
    {
        using var anonymous = server.Client(null);
        using var wrong = server.Client("not-the-node-token-at-all-000000");

        var (_, missing, _) = await server.GetAsync("/workflows", anonymous);
        var (_, mismatched, _) = await server.GetAsync("/workflows", wrong);

        Assert.Contains("Authorization: Bearer", (string?)missing!["detail"]);
        Assert.Contains("TTA_API_TOKEN", (string?)mismatched!["detail"]);
        Assert.NotEqual((string?)missing["detail"], (string?)mismatched["detail"]);
        Assert.Equal("Unauthorized", (string?)mismatched["title"]);
    }

    [Theory]
    [InlineData("/healthz")]
    [InlineData("/readyz")]
    public async Task The_health_probes_answer_without_a_token(string path)
    {
        using var anonymous = server.Client(null);

        var (status, _, _) = await server.GetAsync(path, anonymous);

        Assert.Equal(200, status);
    }

    [Fact]
    public async Task A_path_that_only_starts_like_a_health_probe_is_guarded()
    {
        using var anonymous = server.Client(null);

        Assert.Equal(401, (await server.GetAsync("/healthz-and-more", anonymous)).Status);
        Assert.Equal(401, (await server.GetAsync("/readyzz", anonymous)).Status);
    }

    /// <summary>
    /// The API here is hosted the way an app of your own hosts it: listening on loopback, with <c>NodeOptions.ApiToken</c> set.
    /// The browser's one page load with the token must still admit its later requests, which carry no bearer header.
    /// </summary>
    [Fact]
    public async Task A_browser_that_opened_the_ui_with_the_token_is_admitted_by_its_cookie_where_the_app_enforces_a_token()
    {
        using var handler = new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false };
        using var browser = new HttpClient(handler) { BaseAddress = server.BaseAddress };

        using var load = await browser.GetAsync($"/ui?token={Uri.EscapeDataString(NodeApiServer.ApiToken)}");
        Assert.Equal(HttpStatusCode.Redirect, load.StatusCode);
        Assert.Equal("/ui", load.Headers.Location?.OriginalString);
        var cookie = Assert.Single(load.Headers.GetValues("Set-Cookie"), value => value.StartsWith("tta_ui=", StringComparison.Ordinal));
        Assert.DoesNotContain(NodeApiServer.ApiToken, cookie, StringComparison.OrdinalIgnoreCase);

        using var withCookie = new HttpRequestMessage(HttpMethod.Get, "/runs");
        withCookie.Headers.Add("Cookie", cookie.Split(';')[0]);
        Assert.Equal(HttpStatusCode.OK, (await browser.SendAsync(withCookie)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await browser.GetAsync("/runs")).StatusCode);
    }

    /// <summary>An app that maps the API without a token is warned when its server listens on any of the open addresses.</summary>
    [Theory]
    [InlineData("http://127.0.0.1:5000", true)]
    [InlineData("http://127.0.0.1", true)]
    [InlineData("https://LOCALHOST:7001/", true)]
    [InlineData("http://[::1]:5000", true)]
    [InlineData("http://0.0.0.0:5000", false)]
    [InlineData("http://[::]:80", false)]
    [InlineData("http://*:80", false)]
    [InlineData("http://+:80", false)]
    [InlineData("http://192.168.1.20:8080", false)]
    [InlineData("http://localhost.example.org:80", false)]
    public void A_server_address_counts_as_loopback_only_for_localhost_and_loopback_ips(string address, bool loopback) =>
        Assert.Equal(loopback, TtaActors.Runtime.Node.NodeApi.IsLoopbackAddress(address));

    private List<(string Method, string Pattern)> GuardedRoutes() =>
        server.Routes().Where(route => !OpenRoutes.Contains(route.Pattern)).ToList();

    /// <summary>A request for the route with each parameter filled in; a body where the method takes one.</summary>
    private static HttpRequestMessage Request(string method, string pattern)
    {
        var request = new HttpRequestMessage(new HttpMethod(method), RouteParameter().Replace(pattern, "probe-1"));
        if (method is "POST" or "PUT" or "PATCH") request.Content = new StringContent("{}", Encoding.UTF8, "application/json");
        return request;
    }

    private static string SwapCase(string text) =>
        new(text.Select(c => char.IsUpper(c) ? char.ToLowerInvariant(c) : char.ToUpperInvariant(c)).ToArray());

    [GeneratedRegex(@"\{[^}]+\}")]
    private static partial Regex RouteParameter();
}
