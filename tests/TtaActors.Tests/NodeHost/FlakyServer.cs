using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace TtaActors.Tests.NodeHost;

/// <summary>
/// A local HTTP service for the <c>http:</c> steps: <c>/flaky?key=K</c> answers 503 twice per key and then 200;
/// it also demands the bearer token the workflow reads from an environment variable. <c>/broken</c> always fails,
/// <c>/slow</c> never answers within a step's timeout.
/// </summary>
public sealed class FlakyServer : IAsyncDisposable
{
    public const int FailuresPerKey = 2;
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, int> _calls = new();

    private FlakyServer(WebApplication app) => _app = app;

    public string Url { get; private set; } = "";

    public int CallsFor(string key) => _calls.TryGetValue(key, out var n) ? n : 0;

    public static async Task<FlakyServer> StartAsync(string expectedToken)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var server = new FlakyServer(app);
        app.MapGet("/flaky", (HttpContext http, string key) =>
        {
            if (http.Request.Headers.Authorization != $"Bearer {expectedToken}") return Results.StatusCode(401);
            var call = server._calls.AddOrUpdate(key, 1, (_, n) => n + 1);
            return call <= FailuresPerKey
                ? Results.Json(new { error = "warming up" }, statusCode: 503)
                : Results.Json(new { ok = true, attempts = call, key });
        });
        app.MapPost("/broken", () => Results.StatusCode(500));
        app.MapGet("/slow", async (CancellationToken aborted) =>
        {
            await Task.Delay(Timeout.Infinite, aborted);
            return Results.Ok();
        });
        await app.StartAsync();
        server.Url = app.Urls.First();
        return server;
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
