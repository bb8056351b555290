using System.Diagnostics;
using System.Text;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using OpenTelemetry;
using TtaActors.Telemetry.Export.Langfuse;
using TtaActors.Tests.Llm;
using TtaActors.Tests.Support;

namespace TtaActors.Tests.Langfuse;

/// <summary>The Langfuse exporter against a local server speaking Langfuse's OTel endpoint, on a fake clock.</summary>
public sealed class LangfuseExporterSpecs : IDisposable
{
    private const string PublicKey = "pk-lf-spec-public";
    private const string SecretKey = "sk-lf-spec-secret-0123456789";
    private static readonly ActivitySource Source = new("TtaActors.Tests.Langfuse");

    // One listener for the class's own source, for the whole test run: listeners come and go in other classes.
    private static readonly ActivityListener Listener = Listen();
    private readonly FakeTimeProvider _time = new();
    private readonly ListLogger _log = new();
    private readonly Channel<LangfuseDeliveryEvent> _events = Channel.CreateUnbounded<LangfuseDeliveryEvent>();
    private readonly List<IDisposable> _disposables = [];

    private static ActivityListener Listen()
    {
        var listener = new ActivityListener
        {
            ShouldListenTo = source => source == Source,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
        };
        ActivitySource.AddActivityListener(listener);
        return listener;
    }

    [Fact]
    public async Task Exporter_should_post_protobuf_with_exact_auth_and_ingestion_headers()
    {
        using var server = new ScriptedHttpServer(_ => new ScriptedResponse(200));
        var exporter = Exporter(server.BaseUrl);
        var spans = MakeSpans(3);

        Export(exporter, spans);
        var request = await server.NextRequest();

        Assert.Equal("POST", request.Method);
        Assert.Equal("/api/public/otel/v1/traces", request.Path);
        Assert.Equal("Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{PublicKey}:{SecretKey}")), request.Headers["Authorization"]);
        Assert.Equal("4", request.Headers["x-langfuse-ingestion-version"]);
        Assert.Equal("application/x-protobuf", request.Headers["Content-Type"]);
        var decoded = OtlpDecoder.DecodeTraces(request.Body);
        Assert.Equal(spans.Select(s => s.SpanId.ToHexString()).Order(), decoded.Select(s => s.SpanId).Order());
        var first = decoded.Single(s => s.SpanId == spans[0].SpanId.ToHexString());
        Assert.Equal(spans[0].TraceId.ToHexString(), first.TraceId);
        Assert.Equal("span-0", first.Name);
        Assert.Equal(3, first.Kind); // SPAN_KIND_CLIENT
        Assert.Equal("TtaActors.Tests.Langfuse", first.ScopeName);
        Assert.Equal("value-0", first.Attributes["spec.text"]);
        Assert.Equal(42L, first.Attributes["spec.number"]);
        Assert.Equal(new List<object?> { "a", "b" }, first.Attributes["spec.list"]);
        Assert.Equal(2, first.StatusCode);
        Assert.Equal("broken", first.StatusMessage);
        Assert.True(first.EndUnixNano >= first.StartUnixNano);
        Assert.DoesNotContain(SecretKey, Encoding.UTF8.GetString(request.Body));
    }

    [Fact]
    public async Task Unauthorized_should_log_one_clear_line_and_pause_that_backend()
    {
        using var server = new ScriptedHttpServer(_ => new ScriptedResponse(401));
        var exporter = Exporter(server.BaseUrl);

        Export(exporter, MakeSpans(2));
        var paused = await Next<LangfuseDeliveryEvent.Paused>();
        Export(exporter, MakeSpans(2));

        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, paused.Status);
        Assert.False(exporter.ForceFlush(5_000));
        Assert.Equal(LangfuseExportState.Paused, exporter.Status.State);
        Assert.Single(server.Requests);
        var error = Assert.Single(_log.Lines, l => l.Level == LogLevel.Error);
        Assert.Contains("LANGFUSE_PUBLIC_KEY", error.Message);
        Assert.Contains("paused", error.Message);
        Assert.DoesNotContain(_log.Lines, l => l.Message.Contains(SecretKey));
    }

    [Fact]
    public async Task Too_many_requests_should_wait_exactly_the_retry_after_then_deliver()
    {
        var calls = 0;
        using var server = new ScriptedHttpServer(_ => Interlocked.Increment(ref calls) == 1
            ? new ScriptedResponse(429, Headers: new Dictionary<string, string> { ["Retry-After"] = "7" })
            : new ScriptedResponse(200));
        var exporter = Exporter(server.BaseUrl);
        var spans = MakeSpans(4);

        Export(exporter, spans);
        var backoff = await Next<LangfuseDeliveryEvent.BackingOff>();
        Assert.Equal(TimeSpan.FromSeconds(7), backoff.Delay);
        Assert.Equal(LangfuseExportState.BackingOff, exporter.Status.State);
        _time.Advance(TimeSpan.FromSeconds(7));
        var sent = await NextSent(System.Net.HttpStatusCode.OK);

        Assert.Equal(4, sent.Spans);
        Assert.True(exporter.ForceFlush(10_000));
        Assert.Equal(4, exporter.Status.DeliveredSpans);
        Assert.Equal(2, server.Requests.Count);
        Assert.Equal(server.Requests.First().Body, server.Requests.Last().Body);
    }

    [Fact]
    public async Task A_retry_after_longer_than_the_cap_should_be_shortened_to_the_cap()
    {
        var calls = 0;
        using var server = new ScriptedHttpServer(_ => Interlocked.Increment(ref calls) == 1
            ? new ScriptedResponse(503, Headers: new Dictionary<string, string> { ["Retry-After"] = "86400" })
            : new ScriptedResponse(200));
        var exporter = Exporter(server.BaseUrl, maxRetryAfter: TimeSpan.FromSeconds(30));

        Export(exporter, MakeSpans(2));
        var backoff = await Next<LangfuseDeliveryEvent.BackingOff>();
        Assert.Equal(TimeSpan.FromSeconds(30), backoff.Delay);
        _time.Advance(TimeSpan.FromSeconds(30));
        await NextSent(System.Net.HttpStatusCode.OK);

        Assert.True(exporter.ForceFlush(10_000));
        Assert.Equal(2, exporter.Status.DeliveredSpans);
    }

    [Fact]
    public async Task Server_error_should_back_off_and_retry_until_delivered()
    {
        var calls = 0;
        using var server = new ScriptedHttpServer(_ => Interlocked.Increment(ref calls) <= 2 ? new ScriptedResponse(503) : new ScriptedResponse(200));
        var exporter = Exporter(server.BaseUrl);

        Export(exporter, MakeSpans(2));
        var first = await Next<LangfuseDeliveryEvent.BackingOff>();
        Assert.InRange(first.Delay, TimeSpan.FromSeconds(0.5), TimeSpan.FromSeconds(1));
        _time.Advance(TimeSpan.FromSeconds(1));
        var second = await Next<LangfuseDeliveryEvent.BackingOff>();
        Assert.InRange(second.Delay, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2));
        _time.Advance(TimeSpan.FromSeconds(2));
        await NextSent(System.Net.HttpStatusCode.OK);

        Assert.True(exporter.ForceFlush(10_000));
        Assert.Equal(2, exporter.Status.DeliveredSpans);
        Assert.Single(_log.Lines, l => l.Level == LogLevel.Warning && l.Message.Contains("HTTP 503"));
    }

    [Fact]
    public async Task Request_without_an_answer_should_time_out_on_the_exporter_clock_and_be_retried()
    {
        var hold = new TaskCompletionSource<ScriptedResponse>(TaskCreationOptions.RunContinuationsAsynchronously);
        var calls = 0;
        using var server = new ScriptedHttpServer(_ => Interlocked.Increment(ref calls) == 1 ? hold.Task : Task.FromResult(new ScriptedResponse(200)));
        var exporter = Exporter(server.BaseUrl, requestTimeout: TimeSpan.FromSeconds(10));

        Export(exporter, MakeSpans(1));
        await server.NextRequest();
        _time.Advance(TimeSpan.FromSeconds(10));
        var backoff = await Next<LangfuseDeliveryEvent.BackingOff>();
        Assert.Contains("no answer within 10 s", backoff.Reason);
        _time.Advance(backoff.Delay);
        await NextSent(System.Net.HttpStatusCode.OK);
        hold.SetResult(new ScriptedResponse(200));

        Assert.True(exporter.ForceFlush(10_000));
        Assert.Equal(1, exporter.Status.DeliveredSpans);
    }

    [Fact]
    public async Task Unreachable_langfuse_should_keep_spans_and_deliver_them_when_it_returns()
    {
        var port = FreePort.Next();
        var exporter = Exporter($"http://127.0.0.1:{port}");
        var spans = MakeSpans(5);

        Export(exporter, spans);
        var backoff = await Next<LangfuseDeliveryEvent.BackingOff>();
        Assert.Contains("unreachable", backoff.Reason);
        Assert.Equal(5, exporter.Status.QueuedSpans);
        using var server = new ScriptedHttpServer(_ => new ScriptedResponse(200), port);
        _time.Advance(backoff.Delay);
        var request = await server.NextRequest();

        Assert.Equal(spans.Select(s => s.SpanId.ToHexString()).Order(), OtlpDecoder.DecodeTraces(request.Body).Select(s => s.SpanId).Order());
        Assert.True(exporter.ForceFlush(10_000));
        Assert.Equal(0, exporter.Status.QueuedSpans);
    }

    [Fact]
    public async Task Payload_refused_as_too_large_should_be_split_until_accepted_and_deliver_every_span_once()
    {
        using var server = new ScriptedHttpServer(request => new ScriptedResponse(OtlpDecoder.DecodeTraces(request.Body).Count > 2 ? 413 : 200));
        var exporter = Exporter(server.BaseUrl);
        var spans = MakeSpans(8);

        Export(exporter, spans);
        Assert.True(exporter.ForceFlush(30_000));

        var accepted = server.Requests.Select(r => OtlpDecoder.DecodeTraces(r.Body)).Where(d => d.Count <= 2).SelectMany(d => d).ToList();
        Assert.Equal(spans.Select(s => s.SpanId.ToHexString()).Order(), accepted.Select(s => s.SpanId).Order());
        Assert.Contains(server.Requests, r => OtlpDecoder.DecodeTraces(r.Body).Count == 8);
        Assert.Equal(8, exporter.Status.DeliveredSpans);
        Assert.Equal(0, exporter.Status.DroppedSpans);
        await Task.CompletedTask;
    }

    [Fact]
    public void Batches_larger_than_the_request_limit_should_go_in_several_requests()
    {
        using var server = new ScriptedHttpServer(_ => new ScriptedResponse(200));
        var spans = MakeSpans(20, payload: new string('x', 400));
        var exporter = Exporter(server.BaseUrl, maxRequestBytes: 2_000);

        Export(exporter, spans);
        Assert.True(exporter.ForceFlush(30_000));

        var decoded = server.Requests.Select(r => OtlpDecoder.DecodeTraces(r.Body)).ToList();
        Assert.True(decoded.Count >= 5, $"{decoded.Count} requests");
        Assert.All(server.Requests, r => Assert.True(r.Body.Length <= 2_000 + 200, $"{r.Body.Length} bytes"));
        Assert.Equal(spans.Select(s => s.SpanId.ToHexString()).Order(), decoded.SelectMany(d => d).Select(s => s.SpanId).Order());
    }

    [Fact]
    public async Task Full_queue_should_drop_and_count_new_spans_instead_of_growing()
    {
        var exporter = Exporter($"http://127.0.0.1:{FreePort.Next()}", maxQueuedSpans: 3);

        var result = Export(exporter, MakeSpans(5));
        await Next<LangfuseDeliveryEvent.Dropped>();

        Assert.Equal(ExportResult.Success, result);
        Assert.Equal(3, exporter.Status.QueuedSpans);
        Assert.Equal(2, exporter.Status.DroppedSpans);
        Assert.Single(_log.Lines, l => l.Message.Contains("queue is full"));
    }

    [Fact]
    public async Task Spooled_spans_should_survive_a_restart_and_be_delivered_by_the_next_process()
    {
        var directory = Directory.CreateTempSubdirectory("tta-spool-").FullName;
        try
        {
            var port = FreePort.Next();
            var spans = MakeSpans(4);
            var first = Exporter($"http://127.0.0.1:{port}", spoolDirectory: directory);
            Export(first, spans);
            await Next<LangfuseDeliveryEvent.BackingOff>();
            Assert.False(first.Shutdown(0));
            Assert.NotEmpty(Directory.GetFiles(directory, "*.spans"));

            using var server = new ScriptedHttpServer(_ => new ScriptedResponse(200), port);
            var second = Exporter(server.BaseUrl, spoolDirectory: directory);
            var request = await server.NextRequest();

            Assert.Equal(spans.Select(s => s.SpanId.ToHexString()).Order(), OtlpDecoder.DecodeTraces(request.Body).Select(s => s.SpanId).Order());
            Assert.True(second.ForceFlush(10_000));
            Assert.Empty(Directory.GetFiles(directory, "*.spans"));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task Spool_larger_than_the_queue_bound_should_be_loaded_as_the_queue_drains()
    {
        var directory = Directory.CreateTempSubdirectory("tta-spool-").FullName;
        try
        {
            var port = FreePort.Next();
            var spans = MakeSpans(6);
            var first = Exporter($"http://127.0.0.1:{port}", spoolDirectory: directory);
            for (var i = 0; i < 6; i += 2) Export(first, spans[i..(i + 2)]);
            await Next<LangfuseDeliveryEvent.BackingOff>();
            first.Shutdown(0);
            Assert.Equal(3, Directory.GetFiles(directory, "*.spans").Length);

            using var server = new ScriptedHttpServer(_ => new ScriptedResponse(200), port);
            var second = Exporter(server.BaseUrl, maxQueuedSpans: 2, spoolDirectory: directory);
            Assert.True(second.ForceFlush(30_000));

            var delivered = server.Requests.Select(r => OtlpDecoder.DecodeTraces(r.Body)).ToList();
            // A request takes every queued chunk that fits, so no request above 2 spans means the queue never held more.
            Assert.All(delivered, d => Assert.True(d.Count <= 2));
            Assert.Equal(spans.Select(s => s.SpanId.ToHexString()).Order(), delivered.SelectMany(d => d).Select(s => s.SpanId).Order());
            Assert.Empty(Directory.GetFiles(directory, "*.spans"));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private LangfuseExporter Exporter(string host, TimeSpan? requestTimeout = null, int maxRequestBytes = 3_000_000, int maxQueuedSpans = 50_000,
        string? spoolDirectory = null, TimeSpan? maxRetryAfter = null)
    {
        var http = new HttpClient();
        var exporter = new LangfuseExporter(new LangfuseExporterOptions
        {
            Host = new Uri(host),
            PublicKey = PublicKey,
            SecretKey = SecretKey,
            RequestTimeout = requestTimeout ?? TimeSpan.FromSeconds(15),
            MaxRequestBytes = maxRequestBytes,
            MaxQueuedSpans = maxQueuedSpans,
            SpoolDirectory = spoolDirectory,
            MaxRetryAfter = maxRetryAfter ?? TimeSpan.FromMinutes(5),
        }, http, _time, _log)
        {
            Observer = e => _events.Writer.TryWrite(e),
        };
        _disposables.Add(http);
        _disposables.Add(exporter);
        return exporter;
    }

    private static ExportResult Export(LangfuseExporter exporter, Activity[] spans) => exporter.Export(new Batch<Activity>(spans, spans.Length));

    private static Activity[] MakeSpans(int count, string? payload = null)
    {
        var spans = new Activity[count];
        for (var i = 0; i < count; i++)
        {
            var span = Source.StartActivity($"span-{i}", ActivityKind.Client, parentContext: default)
                ?? throw new InvalidOperationException($"No span from {Source.Name}: listener {Listener.GetHashCode()} does not sample it.");
            span.SetTag("spec.text", payload ?? $"value-{i}");
            span.SetTag("spec.number", 42);
            span.SetTag("spec.list", new[] { "a", "b" });
            span.SetStatus(ActivityStatusCode.Error, "broken");
            span.Stop();
            spans[i] = span;
        }
        return spans;
    }

    private async Task<T> Next<T>() where T : LangfuseDeliveryEvent
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (true)
        {
            if (await _events.Reader.ReadAsync(timeout.Token) is T match) return match;
        }
    }

    private async Task<LangfuseDeliveryEvent.Sent> NextSent(System.Net.HttpStatusCode status)
    {
        while (true)
        {
            var sent = await Next<LangfuseDeliveryEvent.Sent>();
            if (sent.Status == status) return sent;
        }
    }

    public void Dispose()
    {
        foreach (var disposable in Enumerable.Reverse(_disposables)) disposable.Dispose();
    }
}
