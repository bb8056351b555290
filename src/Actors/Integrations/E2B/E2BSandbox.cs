using System.Buffers.Binary;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace TtaActors.Actors.Integrations.E2B;

/// <summary>An error the code raised in the code interpreter: its name, value and traceback.</summary>
public sealed record E2BExecutionError(string Name, string Value, string Traceback);

/// <summary>What code run in the code interpreter produced.</summary>
public sealed record E2BCodeResult(string Stdout, string Stderr, JsonArray Results, E2BExecutionError? Error, int? ExecutionCount);

/// <summary>What a command produced; <see cref="Error"/> is envd's own error (the process could not run), not stderr.</summary>
public sealed record E2BCommandResult(string Stdout, string Stderr, int ExitCode, string? Error);

/// <summary>
/// A running E2B sandbox. Code goes to the code interpreter (<c>POST /execute</c> on port 49999, answered as one JSON
/// object per line), commands to envd's process service (Connect RPC <c>process.Process/Start</c>, server-streaming,
/// JSON codec), files to envd's <c>/files</c>. Every sandbox request carries the sandbox's access token
/// (<c>X-Access-Token</c>), never the API key. <see cref="DisposeAsync"/> kills the sandbox, once, whatever happened before.
/// </summary>
public sealed partial class E2BSandbox : IAsyncDisposable
{
    private readonly E2BClient _client;
    private readonly string? _accessToken;
    private int _killed;

    private E2BSandbox(E2BClient client, string id, string template, string? envdVersion, string domain, string? accessToken)
    {
        _client = client;
        Id = id;
        Template = template;
        EnvdVersion = envdVersion;
        Domain = domain;
        _accessToken = accessToken;
    }

    /// <summary>The sandbox's id at E2B.</summary>
    public string Id { get; }
    /// <summary>The template the sandbox was made from.</summary>
    public string Template { get; }
    /// <summary>The version of the sandbox daemon (envd), when E2B reported it.</summary>
    public string? EnvdVersion { get; }
    /// <summary>The domain the sandbox's ports are reached under.</summary>
    public string Domain { get; }

    /// <summary>True once the kill request was answered (or E2B no longer knew the sandbox).</summary>
    public bool Killed { get; private set; }

    internal IEnumerable<string?> Secrets => [_client.Options.ApiKey, _accessToken];

    /// <summary>Reads the answer of <c>POST /sandboxes</c>: <c>sandboxID</c>, <c>envdVersion</c>, <c>envdAccessToken</c>, <c>domain</c>.</summary>
    internal static E2BSandbox FromCreated(E2BClient client, string template, string body)
    {
        JsonObject created;
        try
        {
            created = JsonNode.Parse(body) as JsonObject ?? throw new InvalidDataException("E2B answered the sandbox creation with JSON that is not an object.");
        }
        catch (JsonException error)
        {
            throw new InvalidDataException($"E2B answered the sandbox creation with a body that is not JSON: {error.Message}");
        }
        var id = Text(created["sandboxID"]);
        // The id and the domain become part of a host name: anything else than their plain form is refused.
        if (id is null || !IdPattern().IsMatch(id))
            throw new InvalidDataException("E2B answered the sandbox creation without a usable sandboxID.");
        var domain = Text(created["domain"]);
        if (string.IsNullOrEmpty(domain) || Uri.CheckHostName(domain) != UriHostNameType.Dns) domain = client.Options.Domain;
        return new E2BSandbox(client, id, template, Text(created["envdVersion"]), domain.ToLowerInvariant(), Text(created["envdAccessToken"]));
    }

    /// <summary>Runs code in the code interpreter's default context of <paramref name="language"/> (python when null).</summary>
    public async Task<E2BCodeResult> RunCodeAsync(string code, string? language = null, IReadOnlyDictionary<string, string>? envs = null,
        TimeSpan? timeout = null, CancellationToken cancellation = default)
    {
        var body = new JsonObject
        {
            ["code"] = code,
            ["context_id"] = null,
            ["language"] = language,
            ["env_vars"] = envs is null ? null : new JsonObject(envs.Select(e => KeyValuePair.Create(e.Key, (JsonNode?)JsonValue.Create(e.Value)))),
        };
        using var request = SandboxRequest(HttpMethod.Post, E2BOptions.CodeInterpreterPort, "execute");
        request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        var limit = timeout ?? TimeSpan.FromSeconds(300);
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        bounded.CancelAfter(limit);
        try
        {
            using var response = await _client.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, bounded.Token).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                var text = await HttpBodies.ReadBoundedTextAsync(response.Content, 64 * 1024, "The code interpreter", bounded.Token).ConfigureAwait(false);
                throw _client.ApiFailure($"Running code in E2B sandbox '{Id}'", response.StatusCode, text, Secrets);
            }
            var stdout = new BoundedText(_client.Options.MaxOutputBytes);
            var stderr = new BoundedText(_client.Options.MaxOutputBytes);
            var results = new JsonArray();
            long resultBytes = 0;
            E2BExecutionError? error = null;
            int? count = null;
            await using var stream = await response.Content.ReadAsStreamAsync(bounded.Token).ConfigureAwait(false);
            using var reader = new StreamReader(stream, Encoding.UTF8);
            while (await ReadLineBoundedAsync(reader, _client.Options.MaxFileBytes, bounded.Token).ConfigureAwait(false) is { } line)
            {
                if (line.Length == 0) continue;
                if (JsonNode.Parse(line) is not JsonObject item) continue;
                switch (Text(item["type"]))
                {
                    case "stdout":
                        stdout.Append(Text(item["text"]));
                        break;
                    case "stderr":
                        stderr.Append(Text(item["text"]));
                        break;
                    case "result":
                        item.Remove("type");
                        resultBytes += line.Length;
                        if (resultBytes > _client.Options.MaxFileBytes)
                            throw new ResponseTooLargeException($"The code's results in E2B sandbox '{Id}' are larger than {_client.Options.MaxFileBytes} bytes (MaxFileBytes).");
                        results.Add(item);
                        break;
                    case "error":
                        error = new E2BExecutionError(Text(item["name"]) ?? "Error", Text(item["value"]) ?? "", Text(item["traceback"]) ?? "");
                        break;
                    case "number_of_executions":
                        count = item["execution_count"] is JsonValue n && n.TryGetValue<int>(out var c) ? c : null;
                        break;
                    case "unexpected_end_of_execution":
                        error ??= new E2BExecutionError("UnexpectedEndOfExecution", "The code interpreter ended the execution unexpectedly.", "");
                        break;
                }
            }
            return new E2BCodeResult(stdout.ToString(), stderr.ToString(), results, error, count);
        }
        catch (OperationCanceledException error) when (!cancellation.IsCancellationRequested)
        {
            throw new TimeoutException($"The code in E2B sandbox '{Id}' did not finish within {limit.TotalSeconds} s.", error);
        }
    }

    /// <summary>Runs <paramref name="command"/> with <c>/bin/bash -l -c</c> as the sandbox user, and waits for it to end.</summary>
    public async Task<E2BCommandResult> RunCommandAsync(string command, string? cwd = null, IReadOnlyDictionary<string, string>? envs = null,
        TimeSpan? timeout = null, CancellationToken cancellation = default)
    {
        var limit = timeout ?? TimeSpan.FromSeconds(60);
        var process = new JsonObject
        {
            ["cmd"] = "/bin/bash",
            ["args"] = new JsonArray("-l", "-c", command),
            ["envs"] = new JsonObject((envs ?? new Dictionary<string, string>()).Select(e => KeyValuePair.Create(e.Key, (JsonNode?)JsonValue.Create(e.Value)))),
        };
        if (cwd is not null) process["cwd"] = cwd;
        var message = Encoding.UTF8.GetBytes(new JsonObject { ["process"] = process, ["stdin"] = false }.ToJsonString());
        var envelope = new byte[5 + message.Length];
        BinaryPrimitives.WriteInt32BigEndian(envelope.AsSpan(1), message.Length);
        message.CopyTo(envelope, 5);

        using var request = SandboxRequest(HttpMethod.Post, E2BOptions.EnvdPort, "process.Process/Start");
        request.Content = new ByteArrayContent(envelope);
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/connect+json");
        request.Headers.TryAddWithoutValidation("Connect-Protocol-Version", "1");
        request.Headers.TryAddWithoutValidation("Connect-Timeout-Ms", ((long)limit.TotalMilliseconds).ToString(System.Globalization.CultureInfo.InvariantCulture));
        request.Headers.TryAddWithoutValidation("Keepalive-Ping-Interval", "50");
        request.Headers.Authorization = UserAuthorization;

        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        bounded.CancelAfter(limit);
        try
        {
            using var response = await _client.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, bounded.Token).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                var text = await HttpBodies.ReadBoundedTextAsync(response.Content, 64 * 1024, "envd", bounded.Token).ConfigureAwait(false);
                throw _client.ApiFailure($"Starting a command in E2B sandbox '{Id}'", response.StatusCode, text, Secrets);
            }
            var stdout = new BoundedText(_client.Options.MaxOutputBytes);
            var stderr = new BoundedText(_client.Options.MaxOutputBytes);
            int? exitCode = null;
            string? processError = null;
            await using var stream = await response.Content.ReadAsStreamAsync(bounded.Token).ConfigureAwait(false);
            var header = new byte[5];
            while (await ReadExactlyOrEndAsync(stream, header, bounded.Token).ConfigureAwait(false))
            {
                var flags = header[0];
                var length = BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(1));
                if (length < 0 || length > _client.Options.MaxFileBytes)
                    throw new InvalidDataException($"envd of E2B sandbox '{Id}' sent a message of {length} bytes, more than {_client.Options.MaxFileBytes} (MaxFileBytes).");
                if ((flags & 0x01) != 0) throw new InvalidDataException($"envd of E2B sandbox '{Id}' sent a compressed message, which was not asked for.");
                var payload = new byte[length];
                await stream.ReadExactlyAsync(payload, bounded.Token).ConfigureAwait(false);
                var json = JsonNode.Parse(payload);
                if ((flags & 0x02) != 0)
                {
                    // The end of the stream: {} or {"error": {"code": ..., "message": ...}}.
                    if (json?["error"] is JsonObject end)
                        throw new E2BException(_client.Redact($"The command in E2B sandbox '{Id}' failed: {Text(end["code"]) ?? "unknown"}: {Text(end["message"]) ?? ""}", Secrets));
                    break;
                }
                if (json?["event"] is not JsonObject processEvent) continue;
                if (processEvent["data"] is JsonObject data)
                {
                    if (Text(data["stdout"]) is { } output) stdout.Append(Convert.FromBase64String(output));
                    if (Text(data["stderr"]) is { } errorOutput) stderr.Append(Convert.FromBase64String(errorOutput));
                }
                else if (processEvent["end"] is JsonObject ended)
                {
                    // Proto3 JSON leaves out default values: an absent exitCode is 0.
                    exitCode = ended["exitCode"] is JsonValue code && code.TryGetValue<int>(out var value) ? value : 0;
                    processError = Text(ended["error"]);
                }
            }
            if (exitCode is null)
                throw new E2BException($"The command stream of E2B sandbox '{Id}' ended before the command did.");
            return new E2BCommandResult(stdout.ToString(), stderr.ToString(), exitCode.Value, processError is null ? null : _client.Redact(processError, Secrets));
        }
        catch (OperationCanceledException error) when (!cancellation.IsCancellationRequested)
        {
            throw new TimeoutException($"The command in E2B sandbox '{Id}' did not finish within {limit.TotalSeconds} s.", error);
        }
    }

    /// <summary>Writes a file in the sandbox (envd <c>POST /files</c>, multipart, as the sandbox user).</summary>
    public async Task WriteFileAsync(string path, byte[] content, CancellationToken cancellation = default)
    {
        if (content.Length > _client.Options.MaxFileBytes)
            throw new ArgumentException($"The file '{path}' has {content.Length} bytes, more than {_client.Options.MaxFileBytes} (MaxFileBytes).");
        using var request = SandboxRequest(HttpMethod.Post, E2BOptions.EnvdPort, FilesTarget(path));
        var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(content);
        file.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        form.Add(file, "file", path);
        request.Content = form;
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        bounded.CancelAfter(_client.Options.RequestTimeout);
        using var response = await _client.Http.SendAsync(request, bounded.Token).ConfigureAwait(false);
        var text = await HttpBodies.ReadBoundedTextAsync(response.Content, 64 * 1024, "envd", bounded.Token).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode) throw _client.ApiFailure($"Writing '{path}' in E2B sandbox '{Id}'", response.StatusCode, text, Secrets);
    }

    /// <summary>Reads a file of the sandbox (envd <c>GET /files</c>), at most <see cref="E2BOptions.MaxFileBytes"/>.</summary>
    public async Task<byte[]> ReadFileAsync(string path, CancellationToken cancellation = default)
    {
        using var request = SandboxRequest(HttpMethod.Get, E2BOptions.EnvdPort, FilesTarget(path));
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        bounded.CancelAfter(_client.Options.RequestTimeout);
        using var response = await _client.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, bounded.Token).ConfigureAwait(false);
        var what = $"Reading '{path}' in E2B sandbox '{Id}'";
        if (!response.IsSuccessStatusCode)
        {
            var text = await HttpBodies.ReadBoundedTextAsync(response.Content, 64 * 1024, what, bounded.Token).ConfigureAwait(false);
            throw _client.ApiFailure(what, response.StatusCode, text, Secrets);
        }
        return await HttpBodies.ReadBoundedAsync(response.Content, _client.Options.MaxFileBytes, what, bounded.Token).ConfigureAwait(false);
    }

    /// <summary>Kills the sandbox once; later calls do nothing. Never cancelled by the caller: it has its own bound (KillTimeout).</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _killed, 1) == 1) return;
        await _client.KillSandboxAsync(Id, CancellationToken.None).ConfigureAwait(false);
        Killed = true;
    }

    private static AuthenticationHeaderValue UserAuthorization { get; } =
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(E2BOptions.DefaultUser + ":")));

    private static string FilesTarget(string path) =>
        "files?path=" + Uri.EscapeDataString(path) + "&username=" + E2BOptions.DefaultUser;

    /// <summary>A request to one port of the sandbox, with its id, port and access token as the SDKs send them.</summary>
    private HttpRequestMessage SandboxRequest(HttpMethod method, int port, string target)
    {
        var baseUrl = _client.Options.SandboxUrl is { } shared
            ? shared.AbsoluteUri.TrimEnd('/') + "/"
            : $"https://{port}-{Id}.{Domain}/";
        var request = new HttpRequestMessage(method, new Uri(new Uri(baseUrl), target));
        request.Headers.TryAddWithoutValidation("E2b-Sandbox-Id", Id);
        request.Headers.TryAddWithoutValidation("E2b-Sandbox-Port", port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (_accessToken is not null) request.Headers.TryAddWithoutValidation("X-Access-Token", _accessToken);
        return request;
    }

    private static async Task<bool> ReadExactlyOrEndAsync(Stream stream, byte[] buffer, CancellationToken cancellation)
    {
        var read = 0;
        while (read < buffer.Length)
        {
            var n = await stream.ReadAsync(buffer.AsMemory(read), cancellation).ConfigureAwait(false);
            if (n == 0)
            {
                if (read == 0) return false;
                throw new EndOfStreamException("The envd stream ended inside a message.");
            }
            read += n;
        }
        return true;
    }

    private static async Task<string?> ReadLineBoundedAsync(StreamReader reader, int maxChars, CancellationToken cancellation)
    {
        var line = new StringBuilder();
        var one = new char[1];
        while (true)
        {
            var n = await reader.ReadAsync(one.AsMemory(), cancellation).ConfigureAwait(false);
            if (n == 0) return line.Length == 0 ? null : line.ToString();
            if (one[0] == '\n') return line.ToString();
            if (line.Length >= maxChars) throw new ResponseTooLargeException($"The code interpreter sent a line longer than {maxChars} characters (MaxFileBytes).");
            line.Append(one[0]);
        }
    }

    internal static string? Text(JsonNode? node) => node switch
    {
        null => null,
        JsonValue value when value.TryGetValue<string>(out var s) => s,
        _ => node.ToJsonString(),
    };

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9-]{0,63}$")]
    internal static partial Regex IdPattern();

    /// <summary>Output kept up to a number of bytes; what comes after is counted and cut with a marker.</summary>
    private sealed class BoundedText(int maxBytes)
    {
        private readonly MemoryStream _bytes = new();
        private long _dropped;

        public void Append(string? text)
        {
            if (text is not null) Append(Encoding.UTF8.GetBytes(text));
        }

        public void Append(byte[] bytes)
        {
            var room = (int)Math.Max(0, maxBytes - _bytes.Length);
            _bytes.Write(bytes, 0, Math.Min(room, bytes.Length));
            _dropped += Math.Max(0, bytes.Length - room);
        }

        public override string ToString()
        {
            var text = Encoding.UTF8.GetString(_bytes.GetBuffer(), 0, (int)_bytes.Length);
            return _dropped == 0 ? text : text + $"\n[truncated: {_dropped} more bytes (MaxOutputBytes)]";
        }
    }
}
