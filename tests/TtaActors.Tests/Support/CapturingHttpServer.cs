using System.Collections.Concurrent;
using System.Net;

namespace TtaActors.Tests.Support;

/// <summary>A request a <see cref="CapturingHttpServer"/> received.</summary>
/// <remarks><see cref="Target"/> is the request target as sent (path and query, still percent-encoded).</remarks>
public sealed record CapturedRequest(string Method, string Path, IReadOnlyDictionary<string, string> Headers, byte[] Body, string Target = "");

/// <summary>An HTTP server on a free loopback port that records every request and answers with a status of the test's choosing.</summary>
public sealed class CapturingHttpServer : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly CancellationTokenSource _stop = new();

    public CapturingHttpServer(Func<CapturedRequest, int>? respond = null)
    {
        Port = FreePort.Next();
        _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        _listener.Start();
        _ = Task.Run(() => Serve(respond ?? (_ => 200)));
    }

    public int Port { get; }
    public string BaseUrl => $"http://127.0.0.1:{Port}";
    public ConcurrentQueue<CapturedRequest> Requests { get; } = new();

    private async Task Serve(Func<CapturedRequest, int> respond)
    {
        while (!_stop.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }
            using var body = new MemoryStream();
            await context.Request.InputStream.CopyToAsync(body);
            var headers = context.Request.Headers.AllKeys.Where(k => k is not null)
                .ToDictionary(k => k!, k => context.Request.Headers[k]!, StringComparer.OrdinalIgnoreCase);
            var request = new CapturedRequest(context.Request.HttpMethod, context.Request.Url!.AbsolutePath, headers, body.ToArray(), context.Request.RawUrl ?? "");
            Requests.Enqueue(request);
            context.Response.StatusCode = respond(request);
            context.Response.Close();
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Close();
    }
}
