using System.CommandLine;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;

namespace TtaActors.Runtime.Cli;

/// <summary><c>tta runs watch ID</c>: prints a durable run's events as they happen, from any node of the cluster.</summary>
public static class RunsCommand
{
    /// <summary>The <c>tta runs</c> command.</summary>
    public static Command Create()
    {
        var id = new Argument<string>("id") { Description = "The run id, as POST /runs answered it." };
        var node = new Option<string?>("--node") { Description = $"The node's API (TTA_NODE_URL; default {SessionsCommand.DefaultNodeUrl}). TTA_API_TOKEN is sent as bearer token." };
        var after = new Option<long?>("--after") { Description = "Print only events after this event id (as Last-Event-ID)." };
        var watch = new Command("watch", "Print a durable run's events (AG-UI types) until it finishes; a dropped stream resumes without a gap.") { id, node, after };
        watch.SetAction((parse, cancellation) => CommandErrors.Guard(() =>
            WatchAsync(parse.GetValue(node) ?? Environment.GetEnvironmentVariable("TTA_NODE_URL") ?? SessionsCommand.DefaultNodeUrl,
                parse.GetValue(id)!, parse.GetValue(after) ?? 0, cancellation)));
        return new Command("runs", "Durable runs of a running node.") { watch };
    }

    private static async Task<int> WatchAsync(string nodeUrl, string runId, long after, CancellationToken cancellation)
    {
        using var http = NodeClient(nodeUrl);
        return await FollowAsync(http, runId, after, cancellation) switch
        {
            null => CommandErrors.Failure,
            var final => final == "RUN_ERROR" ? CommandErrors.Failure : CommandErrors.Success,
        };
    }

    /// <summary>An HTTP client for a node's API, with TTA_API_TOKEN as bearer token when set.</summary>
    internal static HttpClient NodeClient(string nodeUrl)
    {
        if (!Uri.TryCreate(nodeUrl, UriKind.Absolute, out var baseUri) || baseUri.Scheme is not ("http" or "https"))
            throw new CommandUsageException($"--node: '{nodeUrl}' is not a URL such as {SessionsCommand.DefaultNodeUrl}.");
        var http = new HttpClient { BaseAddress = baseUri, Timeout = Timeout.InfiniteTimeSpan };
        if (Environment.GetEnvironmentVariable("TTA_API_TOKEN") is { Length: > 0 } token)
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return http;
    }

    /// <summary>One printed line per event: its id, its type (CUSTOM with its name) and the event's JSON.</summary>
    internal static string EventLine(long id, JsonNode json)
    {
        var type = (string?)json["type"];
        var name = type == "CUSTOM" ? $"CUSTOM {json["name"]}" : type;
        return $"{id,5} {name,-28} {json.ToJsonString()}";
    }

    /// <summary>
    /// Prints a run's event stream from the node until the run has finished, resuming a dropped stream after the last event
    /// printed; returns the final event's type (RUN_FINISHED or RUN_ERROR), or null when the stream could not be read
    /// (the reason is on stderr).
    /// </summary>
    internal static async Task<string?> FollowAsync(HttpClient http, string runId, long after, CancellationToken cancellation)
    {
        var retries = 0;
        string? finalType = null;
        while (true)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"/runs/{Uri.EscapeDataString(runId)}/events");
            if (after > 0) request.Headers.Add("Last-Event-ID", after.ToString());
            HttpResponseMessage response;
            try
            {
                response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellation);
            }
            catch (HttpRequestException error)
            {
                if (++retries > 5)
                {
                    await Console.Error.WriteLineAsync($"tta: cannot reach the node at {http.BaseAddress}: {error.Message}. Is 'tta node' running there? (--node or TTA_NODE_URL)");
                    return null;
                }
                await Task.Delay(TimeSpan.FromSeconds(1), cancellation);
                continue;
            }
            using (response)
            {
                if (!response.IsSuccessStatusCode)
                {
                    await Console.Error.WriteLineAsync($"tta: {(int)response.StatusCode} {await ProblemDetailAsync(response, cancellation)}");
                    return null;
                }
                using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancellation));
                var dropped = false;
                try
                {
                    while (await reader.ReadLineAsync(cancellation) is { } line)
                    {
                        if (line.StartsWith("id: ", StringComparison.Ordinal)) after = long.Parse(line[4..]);
                        else if (line.StartsWith("data: ", StringComparison.Ordinal))
                        {
                            var json = JsonNode.Parse(line[6..])!;
                            Console.WriteLine(EventLine(after, json));
                            if ((string?)json["type"] is { } type && type is "RUN_FINISHED" or "RUN_ERROR") finalType = type;
                        }
                    }
                }
                catch (IOException)
                {
                    // The node went away mid-stream: resume from the last event on the next attempt.
                    dropped = true;
                }
                // The node ends a stream only once the run has finished and every event is sent.
                if (!dropped) return finalType ?? "RUN_FINISHED";
                retries = 0;
            }
        }
    }

    /// <summary>The <c>detail</c> of a Problem Details answer, else its reason phrase.</summary>
    internal static async Task<string?> ProblemDetailAsync(HttpResponseMessage response, CancellationToken cancellation)
    {
        var text = await response.Content.ReadAsStringAsync(cancellation);
        try
        {
            return JsonNode.Parse(text.Length == 0 ? "{}" : text)?["detail"]?.ToString() ?? response.ReasonPhrase;
        }
        catch (System.Text.Json.JsonException)
        {
            return response.ReasonPhrase;
        }
    }
}
