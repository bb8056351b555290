using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using TtaActors.Tests.Support;

namespace TtaActors.Tests.Llm;

/// <summary>A request as the scripted server received it.</summary>
public sealed record RecordedRequest(string Method, string Path, IReadOnlyDictionary<string, string> Headers, byte[] Body)
{
    /// <summary>The request target as sent (path and query, escapes kept).</summary>
    public string Target { get; init; } = Path;

    public string Text => Encoding.UTF8.GetString(Body);
    public JsonElement Json => JsonDocument.Parse(Body).RootElement;
}

/// <summary>What the scripted server answers: a status, headers, and a JSON body or a stream of server-sent events.</summary>
public sealed record ScriptedResponse(int Status, string? Body = null, IReadOnlyDictionary<string, string>? Headers = null,
    IReadOnlyList<string>? Events = null)
{
    public static ScriptedResponse Json(string body) => new(200, body);
}

/// <summary>
/// An HTTP server on a free loopback port that speaks whatever wire format the test scripts: it records each request
/// and answers it with the handler's response. Requests are served concurrently, so a held request blocks no other.
/// </summary>
public sealed class ScriptedHttpServer : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Func<RecordedRequest, Task<ScriptedResponse>> _handler;

    public ScriptedHttpServer(Func<RecordedRequest, Task<ScriptedResponse>> handler, int? port = null)
    {
        _handler = handler;
        Port = port ?? FreePort.Next();
        _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        _listener.Start();
        _ = Task.Run(AcceptAsync);
    }

    public ScriptedHttpServer(Func<RecordedRequest, ScriptedResponse> handler, int? port = null)
        : this(request => Task.FromResult(handler(request)), port)
    {
    }

    public int Port { get; }
    public string BaseUrl => $"http://127.0.0.1:{Port}";
    public ConcurrentQueue<RecordedRequest> Requests { get; } = new();

    /// <summary>The next request not yet taken by this method, in arrival order; fails when none comes within the timeout.</summary>
    public async Task<RecordedRequest> NextRequest(TimeSpan? timeout = null)
    {
        try
        {
            return await _arrivals.Reader.ReadAsync().AsTask().WaitAsync(timeout ?? TimeSpan.FromSeconds(30));
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"No further request arrived at {BaseUrl}; {Requests.Count} arrived in all.");
        }
    }

    private readonly Channel<RecordedRequest> _arrivals = Channel.CreateUnbounded<RecordedRequest>();

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
            var request = new RecordedRequest(context.Request.HttpMethod, context.Request.Url!.AbsolutePath, headers, body.ToArray())
            {
                Target = context.Request.RawUrl ?? context.Request.Url.PathAndQuery,
            };
            Requests.Enqueue(request);
            _arrivals.Writer.TryWrite(request);

            var response = await _handler(request);
            context.Response.StatusCode = response.Status;
            foreach (var (name, value) in response.Headers ?? new Dictionary<string, string>()) context.Response.Headers[name] = value;
            if (response.Events is { } events)
            {
                context.Response.ContentType = "text/event-stream";
                context.Response.SendChunked = true;
                foreach (var e in events)
                {
                    var bytes = Encoding.UTF8.GetBytes(e + "\n\n");
                    await context.Response.OutputStream.WriteAsync(bytes);
                    await context.Response.OutputStream.FlushAsync();
                }
            }
            else if (response.Body is { } text)
            {
                context.Response.ContentType = "application/json";
                var bytes = Encoding.UTF8.GetBytes(text);
                context.Response.ContentLength64 = bytes.Length;
                await context.Response.OutputStream.WriteAsync(bytes);
            }
            context.Response.Close();
        }
        catch (Exception) when (_stop.IsCancellationRequested)
        {
        }
        catch (HttpListenerException)
        {
            // The client went away (a timeout in the code under test); nothing to answer.
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Close();
    }
}
