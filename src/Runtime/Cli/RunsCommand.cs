using System.CommandLine;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;

namespace TtaActors.Runtime.Cli;

/// <summary><c>tta runs watch ID</c>: prints a durable run's events as they happen, from any node of the cluster.</summary>
public static class RunsCommand
{
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
        if (!Uri.TryCreate(nodeUrl, UriKind.Absolute, out var baseUri))
            throw new CommandUsageException($"--node: '{nodeUrl}' is not a URL such as {SessionsCommand.DefaultNodeUrl}.");
        using var http = new HttpClient { BaseAddress = baseUri, Timeout = Timeout.InfiniteTimeSpan };
        if (Environment.GetEnvironmentVariable("TTA_API_TOKEN") is { Length: > 0 } token)
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var retries = 0;
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
                    await Console.Error.WriteLineAsync($"tta: cannot reach the node at {baseUri}: {error.Message}. Is 'tta node' running there? (--node or TTA_NODE_URL)");
                    return CommandErrors.Failure;
                }
                await Task.Delay(TimeSpan.FromSeconds(1), cancellation);
                continue;
            }
            using (response)
            {
                if (!response.IsSuccessStatusCode)
                {
                    var text = await response.Content.ReadAsStringAsync(cancellation);
                    var detail = JsonNode.Parse(text.Length == 0 ? "{}" : text)?["detail"]?.ToString() ?? response.ReasonPhrase;
                    await Console.Error.WriteLineAsync($"tta: {(int)response.StatusCode} {detail}");
                    return CommandErrors.Failure;
                }
                using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancellation));
                string? finalType = null;
                var dropped = false;
                try
                {
                    while (await reader.ReadLineAsync(cancellation) is { } line)
                    {
                        if (line.StartsWith("id: ", StringComparison.Ordinal)) after = long.Parse(line[4..]);
                        else if (line.StartsWith("data: ", StringComparison.Ordinal))
                        {
                            var json = JsonNode.Parse(line[6..])!;
                            var type = (string?)json["type"];
                            var name = type == "CUSTOM" ? $"CUSTOM {json["name"]}" : type;
                            Console.WriteLine($"{after,5} {name,-28} {line[6..]}");
                            if (type is "RUN_FINISHED" or "RUN_ERROR") finalType = type;
                        }
                    }
                }
                catch (IOException)
                {
                    // The node went away mid-stream: resume from the last event on the next attempt.
                    dropped = true;
                }
                // The node ends a stream only once the run has finished and every event is sent.
                if (!dropped) return finalType == "RUN_ERROR" ? CommandErrors.Failure : CommandErrors.Success;
                retries = 0;
            }
        }
    }
}
