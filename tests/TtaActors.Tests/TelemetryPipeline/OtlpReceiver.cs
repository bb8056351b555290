using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;
using TtaActors.Tests.Support;

namespace TtaActors.Tests.TelemetryPipeline;

/// <summary>
/// A collector on loopback speaking OTLP over gRPC (HTTP/2 without TLS) or HTTP/protobuf, whose behaviour the test
/// sets: answer normally, answer 503 (gRPC: UNAVAILABLE) to the next trace requests, or hang until released.
/// Trace payloads are decoded by the test's own <see cref="OtlpDecoder"/>.
/// </summary>
public sealed class OtlpReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ManualResetEventSlim _open = new(true);
    private int _unavailableLeft;

    private OtlpReceiver(WebApplication app, int port, bool grpc)
    {
        _app = app;
        Port = port;
        Grpc = grpc;
    }

    public int Port { get; }
    public bool Grpc { get; }
    public string Endpoint => $"http://127.0.0.1:{Port}";
    public ConcurrentQueue<OtlpSpan> Spans { get; } = new();

    /// <summary>Bodies of the metrics and logs requests, by path.</summary>
    public ConcurrentQueue<(string Path, byte[] Body)> OtherRequests { get; } = new();
    public int TraceRequests;
    public int RejectedRequests;

    /// <summary>Set while a trace request is held open.</summary>
    public ManualResetEventSlim Hanging { get; } = new(false);

    public void AnswerUnavailable(int requests) => _unavailableLeft = requests;
    public void Hang() => _open.Reset();
    public void Release() => _open.Set();

    public static async Task<OtlpReceiver> StartAsync(bool grpc, int? port = null)
    {
        var chosen = port ?? FreePort.Next();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, chosen,
            listen => listen.Protocols = grpc ? HttpProtocols.Http2 : HttpProtocols.Http1));
        var app = builder.Build();
        var receiver = new OtlpReceiver(app, chosen, grpc);
        app.MapPost("/{**path}", receiver.Handle);
        await app.StartAsync();
        return receiver;
    }

    private async Task Handle(HttpContext context)
    {
        using var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body);
        var path = context.Request.Path.Value ?? "";
        var isTraces = path.EndsWith("/v1/traces") || path.EndsWith("TraceService/Export");
        if (isTraces)
        {
            Interlocked.Increment(ref TraceRequests);
            if (!_open.IsSet)
            {
                Hanging.Set();
                await Task.Run(() => _open.Wait());
                Hanging.Reset();
            }
            if (Interlocked.Decrement(ref _unavailableLeft) >= 0)
            {
                Interlocked.Increment(ref RejectedRequests);
                await Reject(context);
                return;
            }
            var spans = Grpc ? OtlpDecoder.DecodeGrpcTraces(body.ToArray()) : OtlpDecoder.DecodeTraces(body.ToArray());
            foreach (var span in spans) Spans.Enqueue(span);
        }
        else
        {
            OtherRequests.Enqueue((path, body.ToArray()));
        }
        await Accept(context);
    }

    private async Task Accept(HttpContext context)
    {
        if (Grpc)
        {
            context.Response.ContentType = "application/grpc";
            // An empty Export*ServiceResponse: uncompressed flag and a zero length.
            await context.Response.Body.WriteAsync(new byte[5]);
            context.Response.AppendTrailer("grpc-status", "0");
        }
        else
        {
            context.Response.ContentType = "application/x-protobuf";
            context.Response.StatusCode = 200;
        }
    }

    private static Task Reject(HttpContext context)
    {
        if (context.Request.Protocol == "HTTP/2" && context.Request.ContentType?.StartsWith("application/grpc") == true)
        {
            context.Response.ContentType = "application/grpc";
            context.Response.AppendTrailer("grpc-status", "14");
            context.Response.AppendTrailer("grpc-message", "collector unavailable");
            return Task.CompletedTask;
        }
        context.Response.StatusCode = 503;
        return Task.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        Release();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
