using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using OpenTelemetry;
using OpenTelemetry.Resources;

namespace TtaActors.Telemetry.Export.Langfuse;

/// <summary>Where the Langfuse exporter stands.</summary>
public enum LangfuseExportState
{
    /// <summary>Spans are being sent as they come (the normal state).</summary>
    Delivering,

    /// <summary>Langfuse failed transiently (unreachable, 429, 5xx, timeout); the next attempt waits for the backoff.</summary>
    BackingOff,

    /// <summary>Langfuse refused the keys (401/403); nothing is sent again until the process restarts.</summary>
    Paused,
}

/// <summary>A snapshot of the exporter, for metrics and tests.</summary>
public sealed record LangfuseExportStatus(LangfuseExportState State, int QueuedSpans, long QueuedBytes, long DeliveredSpans,
    long DroppedSpans, long Requests);

/// <summary>One thing the delivery loop did (seen by tests and diagnostics).</summary>
internal abstract record LangfuseDeliveryEvent
{
    public sealed record Sent(HttpStatusCode Status, int Spans) : LangfuseDeliveryEvent;
    public sealed record BackingOff(TimeSpan Delay, string Reason) : LangfuseDeliveryEvent;
    public sealed record Paused(HttpStatusCode Status) : LangfuseDeliveryEvent;
    public sealed record Split(int Spans) : LangfuseDeliveryEvent;
    public sealed record Dropped(int Spans, string Reason) : LangfuseDeliveryEvent;
}

/// <summary>
/// Exports spans to Langfuse's OpenTelemetry endpoint (<c>POST {host}/api/public/otel/v1/traces</c>, OTLP/HTTP
/// protobuf, Basic auth, <c>x-langfuse-ingestion-version: 4</c>). <see cref="Export"/> only encodes and queues, so a
/// slow or dead Langfuse never holds up its caller; a delivery loop sends the queue in requests of bounded size,
/// backs off on 429/5xx/timeouts (honouring <c>Retry-After</c>), halves a batch refused as too large, and pauses
/// for good on 401/403 with one log line.
/// </summary>
public sealed class LangfuseExporter : BaseExporter<Activity>
{
    private readonly LangfuseExporterOptions _options;
    private readonly HttpClient _http;
    private readonly bool _ownsHttp;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly SpanSpool _spool;
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private byte[]? _resource;
    private volatile LangfuseExportState _state = LangfuseExportState.Delivering;
    private long _delivered;
    private long _dropped;
    private long _requests;
    private bool _outageLogged;
    private volatile bool _overflowLogged;

    /// <summary>Starts the delivery loop; spans left in the spool directory by an earlier process are sent first.</summary>
    /// <param name="options">Where to send and the queue's bounds.</param>
    /// <param name="http">The client to send with; when null the exporter makes and disposes its own.</param>
    /// <param name="time">Clock for timeouts and backoff; the system clock when null.</param>
    /// <param name="logger">Receives one line per outage and recovery, never per span; nothing is logged when null.</param>
    public LangfuseExporter(LangfuseExporterOptions options, HttpClient? http = null, TimeProvider? time = null, ILogger? logger = null)
    {
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _ownsHttp = http is null;
        _http = http ?? new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) });
        // Timeouts are the exporter's own (on its TimeProvider), so the client's must not cut in first.
        if (_ownsHttp) _http.Timeout = Timeout.InfiniteTimeSpan;
        _time = time ?? TimeProvider.System;
        _logger = logger ?? NullLogger.Instance;
        _spool = new SpanSpool(options.SpoolDirectory, options.MaxQueuedSpans, options.MaxQueuedBytes, _logger);
        NamedExporter.Describe(this, options.TracesEndpoint);
        _loop = Task.Run(() => DeliverAsync(_stop.Token));
        if (_spool.SpanCount > 0) Wake();
    }

    /// <summary>Sees every step of the delivery loop; set by tests before the first export.</summary>
    internal Action<LangfuseDeliveryEvent>? Observer { get; set; }

    /// <summary>The exporter's state and queue now.</summary>
    public LangfuseExportStatus Status =>
        new(_state, _spool.SpanCount, _spool.ByteCount, Interlocked.Read(ref _delivered), Interlocked.Read(ref _dropped), Interlocked.Read(ref _requests));

    /// <summary>Encodes the batch and queues it for delivery without waiting on the network; fails only when the whole batch was dropped because the queue is full.</summary>
    public override ExportResult Export(in Batch<Activity> batch)
    {
        var records = new List<byte[]>((int)Math.Min(batch.Count, 4096));
        foreach (var activity in batch) records.Add(OtlpSpanEncoder.EncodeScopeSpans(activity));
        var dropped = _spool.Add(records, _options.MaxRequestBytes);
        if (dropped > 0)
        {
            Interlocked.Add(ref _dropped, dropped);
            if (!_overflowLogged)
            {
                _overflowLogged = true;
                _logger.LogWarning(
                    "Langfuse export queue is full ({Spans} spans, {Bytes} bytes waiting for {Host}); new spans are dropped and counted until it drains.",
                    _spool.SpanCount, _spool.ByteCount, _options.Host);
            }
            Observer?.Invoke(new LangfuseDeliveryEvent.Dropped(dropped, "queue full"));
        }
        Wake();
        return dropped == records.Count && records.Count > 0 ? ExportResult.Failure : ExportResult.Success;
    }

    /// <summary>Waits until every queued span is delivered, or the timeout passes, or export is paused.</summary>
    protected override bool OnForceFlush(int timeoutMilliseconds)
    {
        Wake();
        var deadline = timeoutMilliseconds == Timeout.Infinite ? long.MaxValue : Environment.TickCount64 + timeoutMilliseconds;
        lock (_spool.Gate)
        {
            while (_spool.SpanCount > 0 && _state != LangfuseExportState.Paused)
            {
                var remaining = deadline - Environment.TickCount64;
                if (remaining <= 0) return false;
                Monitor.Wait(_spool.Gate, (int)Math.Min(remaining, 1000));
            }
            return _spool.SpanCount == 0;
        }
    }

    /// <summary>Flushes within the timeout, then stops the delivery loop; logs how many spans were left undelivered.</summary>
    protected override bool OnShutdown(int timeoutMilliseconds)
    {
        var flushed = OnForceFlush(timeoutMilliseconds);
        _stop.Cancel();
        try
        {
            _loop.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
        }
        if (!flushed && _spool.SpanCount > 0)
        {
            _logger.LogWarning(_options.SpoolDirectory is null
                    ? "Langfuse export stopped with {Spans} spans undelivered; they are lost (set TTA_TELEMETRY_SPOOL_DIR to keep them across restarts)."
                    : "Langfuse export stopped with {Spans} spans undelivered; they stay in the spool directory and are sent after the next start.",
                _spool.SpanCount);
        }
        return flushed;
    }

    /// <summary>Stops the delivery loop and disposes the HTTP client if the exporter made it.</summary>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _stop.Cancel();
            if (_ownsHttp) _http.Dispose();
        }
        base.Dispose(disposing);
    }

    private void Wake() => _wake.Writer.TryWrite(true);

    private async Task DeliverAsync(CancellationToken stop)
    {
        var failures = 0;
        try
        {
            while (!stop.IsCancellationRequested)
            {
                if (_spool.SpanCount == 0 || _state == LangfuseExportState.Paused)
                {
                    await _wake.Reader.ReadAsync(stop).ConfigureAwait(false);
                    continue;
                }
                var batch = _spool.Peek(_options.MaxRequestBytes);
                var outcome = await SendAsync(batch, stop).ConfigureAwait(false);
                switch (outcome.Kind)
                {
                    case OutcomeKind.Delivered:
                        failures = 0;
                        _state = LangfuseExportState.Delivering;
                        Interlocked.Add(ref _delivered, outcome.Spans);
                        _spool.Remove(batch);
                        // A later overflow is a new episode worth one more warning.
                        if (_spool.SpanCount == 0) _overflowLogged = false;
                        if (_outageLogged)
                        {
                            _outageLogged = false;
                            _logger.LogInformation("Langfuse at {Host} takes spans again.", _options.Host);
                        }
                        break;
                    case OutcomeKind.TooLarge when batch.Count > 1:
                        await SendEachAsync(batch, stop).ConfigureAwait(false);
                        break;
                    case OutcomeKind.TooLarge when batch[0].Records.Count > 1:
                        _spool.Halve(batch[0]);
                        Observer?.Invoke(new LangfuseDeliveryEvent.Split(outcome.Spans));
                        break;
                    case OutcomeKind.TooLarge:
                    case OutcomeKind.Rejected:
                        Drop(batch, outcome);
                        break;
                    case OutcomeKind.Unauthorized:
                        _state = LangfuseExportState.Paused;
                        _logger.LogError(
                            "Langfuse at {Host} refused the API keys (HTTP {Status}): check LANGFUSE_PUBLIC_KEY and LANGFUSE_SECRET_KEY. " +
                            "Export to Langfuse is paused until restart; workflows are not affected.",
                            _options.Host, (int)outcome.Status);
                        lock (_spool.Gate) Monitor.PulseAll(_spool.Gate);
                        Observer?.Invoke(new LangfuseDeliveryEvent.Paused(outcome.Status));
                        break;
                    case OutcomeKind.Transient:
                        failures++;
                        _state = LangfuseExportState.BackingOff;
                        var delay = outcome.RetryAfter ?? Backoff(failures);
                        if (!_outageLogged)
                        {
                            _outageLogged = true;
                            _logger.LogWarning(
                                "Langfuse at {Host} is not taking spans ({Reason}); {Spans} spans are kept and retried with backoff.",
                                _options.Host, outcome.Reason, _spool.SpanCount);
                        }
                        // The timer exists before observers hear of it, so a test that advances time right away is seen.
                        var wait = Task.Delay(delay, _time, stop);
                        Observer?.Invoke(new LangfuseDeliveryEvent.BackingOff(delay, outcome.Reason));
                        await wait.ConfigureAwait(false);
                        break;
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        catch (Exception error)
        {
            _logger.LogError(error, "Langfuse export loop stopped unexpectedly; spans are no longer sent to {Host}.", _options.Host);
        }
    }

    /// <summary>After a multi-chunk request was too large, sends its chunks one by one, halving or dropping any that still is.</summary>
    private async Task SendEachAsync(IReadOnlyList<SpanSpool.Chunk> batch, CancellationToken stop)
    {
        foreach (var chunk in batch)
        {
            var outcome = await SendAsync([chunk], stop).ConfigureAwait(false);
            switch (outcome.Kind)
            {
                case OutcomeKind.Delivered:
                    Interlocked.Add(ref _delivered, outcome.Spans);
                    _spool.Remove([chunk]);
                    break;
                case OutcomeKind.TooLarge when chunk.Records.Count > 1:
                    _spool.Halve(chunk);
                    Observer?.Invoke(new LangfuseDeliveryEvent.Split(outcome.Spans));
                    break;
                case OutcomeKind.TooLarge:
                    Drop([chunk], outcome);
                    break;
                default:
                    // Failures that need a backoff or a pause are handled by the main loop, which sees this chunk first.
                    return;
            }
        }
    }

    private void Drop(IReadOnlyList<SpanSpool.Chunk> batch, Outcome outcome)
    {
        Interlocked.Add(ref _dropped, outcome.Spans);
        _spool.Remove(batch);
        _logger.LogError("Langfuse at {Host} refused {Spans} spans for good ({Reason}); they were dropped.",
            _options.Host, outcome.Spans, outcome.Reason);
        Observer?.Invoke(new LangfuseDeliveryEvent.Dropped(outcome.Spans, outcome.Reason));
    }

    private async Task<Outcome> SendAsync(IReadOnlyList<SpanSpool.Chunk> batch, CancellationToken stop)
    {
        var spans = batch.Sum(c => c.Records.Count);
        _resource ??= OtlpSpanEncoder.EncodeResource(ParentProvider is { } provider ? provider.GetResource() : Resource.Empty);
        var body = OtlpSpanEncoder.EncodeRequest(_resource, batch.SelectMany(c => c.Records));
        using var request = new HttpRequestMessage(HttpMethod.Post, _options.TracesEndpoint) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/x-protobuf");
        request.Headers.TryAddWithoutValidation("Authorization", _options.AuthorizationHeader);
        request.Headers.TryAddWithoutValidation(LangfuseExporterOptions.IngestionVersionHeader, LangfuseExporterOptions.IngestionVersion);

        using var timeout = new CancellationTokenSource(_options.RequestTimeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(stop, timeout.Token);
        Interlocked.Increment(ref _requests);
        try
        {
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, linked.Token).ConfigureAwait(false);
            var status = response.StatusCode;
            Observer?.Invoke(new LangfuseDeliveryEvent.Sent(status, spans));
            var code = (int)status;
            if (code is >= 200 and < 300) return new Outcome(OutcomeKind.Delivered, spans, status);
            if (status is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden) return new Outcome(OutcomeKind.Unauthorized, spans, status);
            if (status is HttpStatusCode.RequestEntityTooLarge) return new Outcome(OutcomeKind.TooLarge, spans, status, $"HTTP {code}, {body.Length} bytes");
            if (status is HttpStatusCode.TooManyRequests or HttpStatusCode.RequestTimeout || code >= 500)
                return new Outcome(OutcomeKind.Transient, spans, status, $"HTTP {code}", RetryAfter(response));
            var detail = await ReadDetailAsync(response, linked.Token).ConfigureAwait(false);
            return new Outcome(OutcomeKind.Rejected, spans, status, $"HTTP {code}: {detail}");
        }
        catch (OperationCanceledException) when (!stop.IsCancellationRequested)
        {
            return new Outcome(OutcomeKind.Transient, spans, 0, $"no answer within {_options.RequestTimeout.TotalSeconds:0.#} s");
        }
        catch (HttpRequestException error)
        {
            return new Outcome(OutcomeKind.Transient, spans, 0, $"unreachable: {error.Message}");
        }
    }

    private TimeSpan? RetryAfter(HttpResponseMessage response)
    {
        var header = response.Headers.RetryAfter;
        TimeSpan? delay = header?.Delta ?? (header?.Date is { } date ? date - _time.GetUtcNow() : null);
        if (delay is not { } d) return null;
        if (d < TimeSpan.Zero) return TimeSpan.Zero;
        return d > _options.MaxRetryAfter ? _options.MaxRetryAfter : d;
    }

    /// <summary>Exponential backoff with jitter, so many nodes coming back from one outage do not retry in step.</summary>
    private TimeSpan Backoff(int failures)
    {
        var exponent = Math.Min(failures - 1, 20);
        var ceiling = Math.Min(_options.InitialBackoff.TotalMilliseconds * Math.Pow(2, exponent), _options.MaxBackoff.TotalMilliseconds);
        return TimeSpan.FromMilliseconds(ceiling * (0.5 + 0.5 * Random.Shared.NextDouble()));
    }

    private static async Task<string> ReadDetailAsync(HttpResponseMessage response, CancellationToken cancellation)
    {
        var text = await response.Content.ReadAsStringAsync(cancellation).ConfigureAwait(false);
        return text.Length > 300 ? text[..300] : text;
    }

    private enum OutcomeKind
    {
        Delivered,
        Transient,
        Unauthorized,
        TooLarge,
        Rejected,
    }

    private readonly record struct Outcome(OutcomeKind Kind, int Spans, HttpStatusCode Status, string Reason = "", TimeSpan? RetryAfter = null);
}
