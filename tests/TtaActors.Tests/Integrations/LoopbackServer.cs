using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Threading.Channels;
using TtaActors.Tests.Support;

namespace TtaActors.Tests.Integrations;

/// <summary>A request as a <see cref="LoopbackServer"/> received it; <see cref="Target"/> is the path and query as sent (still percent-encoded).</summary>
public sealed record LoopbackRequest(string Method, string Path, string Target, IReadOnlyDictionary<string, string> Headers, byte[] Body)
{
    public string Text => Encoding.UTF8.GetString(Body);

    /// <summary>The query's parameter names and raw (encoded) values, in order.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Query =>
        Target.Contains('?')
            ? Target[(Target.IndexOf('?') + 1)..].Split('&').Select(p => p.Split('=', 2)).Select(p => KeyValuePair.Create(p[0], p.Length > 1 ? p[1] : "")).ToList()
            : [];
}

/// <summary>
/// An HTTP server on a free loopback port whose handler writes the answer itself (status, headers, a body written in
/// flushed pieces for streaming formats, or nothing until the client gives up). Every request is recorded in arrival
/// order; requests are served concurrently.
/// </summary>
public sealed class LoopbackServer : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Func<LoopbackRequest, HttpListenerResponse, CancellationToken, Task> _handler;
    private readonly Channel<LoopbackRequest> _arrivals = Channel.CreateUnbounded<LoopbackRequest>();

    public LoopbackServer(Func<LoopbackRequest, HttpListenerResponse, CancellationToken, Task> handler)
    {
        _handler = handler;
        Port = FreePort.Next();
        _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        _listener.Start();
        _ = Task.Run(AcceptAsync);
    }

    public int Port { get; }
    public string BaseUrl => $"http://127.0.0.1:{Port}";
    public ConcurrentQueue<LoopbackRequest> Requests { get; } = new();

    /// <summary>The next request with this method and path prefix, waiting for it; fails naming what did arrive.</summary>
    public async Task<LoopbackRequest> WaitFor(string method, string pathPrefix, TimeSpan? timeout = null)
    {
        using var limit = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(30));
        try
        {
            while (true)
            {
                var request = await _arrivals.Reader.ReadAsync(limit.Token);
                if (request.Method == method && request.Path.StartsWith(pathPrefix, StringComparison.Ordinal)) return request;
            }
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"No {method} {pathPrefix}... arrived at {BaseUrl}; arrived: {string.Join(", ", Requests.Select(r => r.Method + " " + r.Path))}.");
        }
    }

    public static async Task Write(HttpListenerResponse response, int status, string body, string contentType = "application/json",
        IReadOnlyDictionary<string, string>? headers = null)
    {
        response.StatusCode = status;
        foreach (var (name, value) in headers ?? new Dictionary<string, string>()) response.AddHeader(name, value);
        var bytes = Encoding.UTF8.GetBytes(body);
        response.ContentType = contentType;
        response.ContentLength64 = bytes.Length;
        await response.OutputStream.WriteAsync(bytes);
        response.Close();
    }

    private async Task AcceptAsync()
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
            catch (HttpListenerException)
            {
                return;
            }
            _ = Task.Run(() => ServeAsync(context));
        }
    }

    private async Task ServeAsync(HttpListenerContext context)
    {
        try
        {
            using var body = new MemoryStream();
            await context.Request.InputStream.CopyToAsync(body);
            var headers = context.Request.Headers.AllKeys.Where(k => k is not null)
                .ToDictionary(k => k!, k => context.Request.Headers[k]!, StringComparer.OrdinalIgnoreCase);
            var request = new LoopbackRequest(context.Request.HttpMethod, context.Request.Url!.AbsolutePath, context.Request.RawUrl ?? "", headers, body.ToArray());
            Requests.Enqueue(request);
            _arrivals.Writer.TryWrite(request);
            await _handler(request, context.Response, _stop.Token);
        }
        catch (Exception) when (_stop.IsCancellationRequested)
        {
        }
        catch (HttpListenerException)
        {
            // The client gave up (a cancelled or timed-out request): nothing to answer.
        }
        catch (ObjectDisposedException)
        {
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Close();
    }
}
