using System.CommandLine;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;

namespace TtaActors.Runtime.Cli;

/// <summary><c>tta sessions [ID]</c>: lists the sessions a running node has served, or shows one session.</summary>
public static class SessionsCommand
{
    /// <summary>The node the command talks to when <c>--node</c> is not given.</summary>
    public const string DefaultNodeUrl = "http://127.0.0.1:8080";

    /// <summary>The <c>tta sessions</c> command.</summary>
    public static Command Create()
    {
        var id = new Argument<string?>("id") { Description = "A session id to show; without it, list the sessions.", Arity = ArgumentArity.ZeroOrOne };
        var node = new Option<string?>("--node") { Description = $"The node's API (TTA_NODE_URL; default {DefaultNodeUrl}). TTA_API_TOKEN is sent as bearer token." };
        var command = new Command("sessions", "List the persona sessions of a running node, or show one with its persona switches.") { id, node };
        command.SetAction((parse, cancellation) => CommandErrors.Guard(() =>
            ShowAsync(parse.GetValue(node) ?? Environment.GetEnvironmentVariable("TTA_NODE_URL") ?? DefaultNodeUrl, parse.GetValue(id), cancellation)));
        return command;
    }

    private static async Task<int> ShowAsync(string nodeUrl, string? id, CancellationToken cancellation)
    {
        if (!Uri.TryCreate(nodeUrl, UriKind.Absolute, out var baseUri))
            throw new CommandUsageException($"--node: '{nodeUrl}' is not a URL such as {DefaultNodeUrl}.");
        using var http = new HttpClient { BaseAddress = baseUri, Timeout = TimeSpan.FromSeconds(30) };
        if (Environment.GetEnvironmentVariable("TTA_API_TOKEN") is { Length: > 0 } token)
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);

        var path = id is null ? "/sessions" : $"/sessions/{Uri.EscapeDataString(id)}";
        HttpResponseMessage response;
        try
        {
            response = await http.GetAsync(path, cancellation);
        }
        catch (HttpRequestException error)
        {
            await Console.Error.WriteLineAsync($"tta: cannot reach the node at {baseUri}: {error.Message}. Is 'tta node' running there? (--node or TTA_NODE_URL)");
            return CommandErrors.Failure;
        }
        using (response)
        {
            var text = await response.Content.ReadAsStringAsync(cancellation);
            var body = ParseOrNull(text);
            if (!response.IsSuccessStatusCode)
            {
                var reason = body is JsonObject problem && problem["detail"] is { } detail
                    ? $"{problem["title"]}: {detail}"
                    : $"{response.ReasonPhrase}{(text.Length == 0 ? "" : ": " + (text.Length > 200 ? text[..200] + "..." : text))}";
                await Console.Error.WriteLineAsync($"tta: {(int)response.StatusCode} {reason}");
                return CommandErrors.Failure;
            }
            if (body is null)
            {
                await Console.Error.WriteLineAsync($"tta: the node at {baseUri} answered {path} with something that is not JSON; is it a tta node?");
                return CommandErrors.Failure;
            }
            if (id is null) PrintList(body!["sessions"]!.AsArray());
            else PrintSession(body!.AsObject());
            return CommandErrors.Success;
        }
    }

    private static JsonNode? ParseOrNull(string text)
    {
        try
        {
            return text.Length == 0 ? null : JsonNode.Parse(text);
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }

    private static void PrintList(JsonArray sessions)
    {
        if (sessions.Count == 0)
        {
            Console.WriteLine("No sessions on this node yet.");
            return;
        }
        Console.WriteLine("SESSION");
        foreach (var session in sessions) Console.WriteLine(session!.GetValue<string>());
    }

    private static void PrintSession(JsonObject session)
    {
        Console.WriteLine($"Session   {session["id"]}");
        Console.WriteLine($"Persona   {session["persona"] ?? "-"} ({session["chatmode"] ?? "no chat mode"})");
        Console.WriteLine($"Runs      {session["runs"]} started, {session["runsFinished"]} finished");
        Console.WriteLine($"Tokens    {session["tokens"]}   Cost  ${((decimal?)session["costUsd"] ?? 0m).ToString("0.0000", CultureInfo.InvariantCulture)}");
        var switches = session["switches"]!.AsArray();
        Console.WriteLine($"Switches  {switches.Count}");
        if (switches.Count == 0) return;
        Console.WriteLine($"  {"AT (UTC)",-19} {"FROM",-20} {"TO",-20} CHATMODE");
        foreach (var change in switches)
        {
            var at = change!["at"]!.GetValue<DateTimeOffset>().UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
            Console.WriteLine($"  {at,-19} {change["from"],-20} {change["to"],-20} {change["chatmode"] ?? "-"}");
        }
    }
}
