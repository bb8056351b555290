using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using TtaActors.Tests.NodeHost;
using TtaActors.Tests.Support;
using TtaActors.Tests.TelemetryPipeline;

namespace TtaActors.Tests.Logs;

/// <summary>
/// Two real nodes (workspaces tta-dev-main and tta-dev-copilot) run LLM steps, one of them against a provider that
/// refuses the key; their output is what Loki would store. The three LogQL queries of the original's guide are
/// evaluated on it, as it reaches Loki with a service_name label (OTLP's service.name, or the journal relabel), and
/// on a real journald's entries read back with journalctl and relabelled with the rules of deploy/alloy/config.alloy.
/// </summary>
public sealed class LokiQuerySpecs(TwoWorkspaces nodes) : IClassFixture<TwoWorkspaces>
{
    public const string AllWorkspaces = """{job="systemd-journal", service_name=~"tta-dev-.*"}""";
    public const string CopilotErrors = """{service_name="tta-dev-copilot"} |= "ERROR" """;
    public const string MainLlmCalls = """{service_name="tta-dev-main"} |= "llm" |= "completion" """;

    private static readonly Regex Line = new(@"^(?:<(?<priority>[0-7])>)?\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (?<level>TRACE|DEBUG|INFO|WARN|ERROR|FATAL) service_name=(?<service>\S+) (?<category>\S+): (?<message>.*)$");

    [Fact]
    public void Every_line_of_a_node_should_be_one_event_with_a_level_word_and_its_service_name()
    {
        foreach (var (service, lines) in nodes.LogLines)
        {
            Assert.NotEmpty(lines);
            foreach (var line in lines)
            {
                var m = Line.Match(line);
                Assert.True(m.Success, $"{service}: '{line}' is not in the node's line format");
                Assert.Equal(service, m.Groups["service"].Value);
                // Under systemd (JOURNAL_STREAM set) the line starts with the syslog priority of its level.
                Assert.Equal(Priority(m.Groups["level"].Value), m.Groups["priority"].Value);
            }
        }
    }

    [Fact]
    public void The_loki_queries_should_find_the_right_lines_as_logs_labelled_by_service_name()
    {
        var entries = nodes.LogLines.SelectMany(node => node.Value.Select(line =>
            new LokiEntry(new Dictionary<string, string> { ["service_name"] = node.Key }, StripPriority(line)))).ToList();

        var errors = new LogQl(CopilotErrors).Select(entries);
        Assert.Contains(errors, e => e.Line.Contains("llm completion status=error") && e.Line.Contains("error_type="));
        Assert.All(errors, e => Assert.Equal(("tta-dev-copilot", "ERROR"), (e.Labels["service_name"], Level(e.Line))));
        // Every ERROR line of the workspace is found (none hides the word), and nothing else.
        Assert.Equal(entries.Count(e => e.Labels["service_name"] == "tta-dev-copilot" && Level(e.Line) == "ERROR"), errors.Count);

        var calls = new LogQl(MainLlmCalls).Select(entries);
        Assert.Equal(TwoWorkspaces.MainRuns, calls.Count);
        foreach (var call in calls)
        {
            Assert.Equal(("tta-dev-main", "INFO"), (call.Labels["service_name"], Level(call.Line)));
            Assert.True(Regex.IsMatch(call.Line, @"llm completion status=ok provider=offline model=\S+ input_tokens=[1-9]\d* output_tokens=[1-9]\d* cost_usd=[0-9.]+ duration_ms=\d+ " +
                "persona=backend-engineer chatmode=feature-implementation workflow=ask step=ask/[^ ]*draft[^ ]* run_id=[0-9a-f]{32} session_id=main-session trace_id=[0-9a-f]{32} span_id=[0-9a-f]{16}"),
                call.Line);
        }
        // The copilot's LLM lines are its own: the service selector keeps them out of the main workspace's answer.
        Assert.Contains(entries, e => e.Labels["service_name"] == "tta-dev-copilot" && e.Line.Contains("llm completion status=ok"));

        foreach (var entry in entries)
        {
            Assert.DoesNotContain(TwoWorkspaces.PromptMarker, entry.Line);
            Assert.DoesNotContain(TwoWorkspaces.ApiKey, entry.Line);
        }
    }

    [SkippableFact]
    public async Task The_loki_queries_should_find_the_right_lines_in_a_real_journal_relabelled_as_alloy_does()
    {
        Skip.IfNot(File.Exists(Journal.Daemon), $"systemd-journald is not installed at {Journal.Daemon} (Debian package 'systemd').");
        Skip.IfNot(File.Exists(Journal.Python), $"{Journal.Python} is not installed (Debian package 'python3'); it streams each unit's lines to journald.");
        Skip.IfNot(Environment.UserName == "root", "journald's stdout stream takes a unit name only from root (run the tests as root, as CI does).");
        await using var journal = await Journal.StartAsync();
        foreach (var (service, lines) in nodes.LogLines)
        {
            var workspace = service["tta-dev-".Length..];
            await journal.StreamAsync(identifier: service, unit: $"tta-dev@{workspace}.service", lines);
        }
        var expected = nodes.LogLines.Values.Sum(lines => lines.Count);
        var records = await journal.ReadAsync(expected);

        var alloy = AlloyConfig.Load(Path.Combine(DashboardSpecs.Deploy(), "alloy", "config.alloy"));
        var source = alloy.Component("loki.source.journal", "journal");
        var rules = alloy.Component("loki.relabel", "journal").BlocksNamed("rule").ToList();
        Assert.Equal("loki.relabel.journal.rules", (source.Attribute("relabel_rules") as AlloyConfig.Reference)?.Path);
        var staticLabels = ((AlloyConfig.ObjectValue)source.Attribute("labels")!).Fields
            .ToDictionary(f => f.Key, f => ((AlloyConfig.Text)f.Value).Content);
        var entries = records.Select(r => new LokiEntry(Relabel.Apply(rules, JournalLabels(r), staticLabels), r.GetProperty("MESSAGE").GetString()!)).ToList();

        var all = new LogQl(AllWorkspaces).Select(entries);
        Assert.Equal(expected, all.Count);
        Assert.True(new[] { "tta-dev-copilot", "tta-dev-main" }.SequenceEqual(all.Select(e => e.Labels["service_name"]).Distinct().Order()),
            string.Join("\n", records.Take(3).Concat(records.TakeLast(3)).Select(r => r.ToString())));
        Assert.All(all, e => Assert.DoesNotMatch(@"^<\d>", e.Line));

        var errors = new LogQl(CopilotErrors).Select(entries);
        Assert.Contains(errors, e => e.Line.Contains("llm completion status=error"));
        Assert.All(errors, e => Assert.Equal(("ERROR", "err"), (Level(e.Line), e.Labels["level"])));
        Assert.Equal(nodes.LogLines["tta-dev-copilot"].Count(l => Level(StripPriority(l)) == "ERROR"), errors.Count);

        var calls = new LogQl(MainLlmCalls).Select(entries);
        Assert.Equal(TwoWorkspaces.MainRuns, calls.Count);
        Assert.All(calls, e => Assert.Equal(("tta-dev@main.service", "info"), (e.Labels["unit"], e.Labels["level"])));

        // Units outside the template keep their name; the job selector still finds only TtaActors workspaces.
        Assert.Equal("tta-node", Relabel.Apply(rules, new Dictionary<string, string> { ["__journal__systemd_unit"] = "tta-node.service" }, staticLabels)["service_name"]);
    }

    [Fact]
    public void The_dashboard_log_panels_should_run_the_three_queries()
    {
        Assert.Equal(new[] { AllWorkspaces, CopilotErrors.Trim(), MainLlmCalls.Trim() }, DashboardSpecs.LogPanelQueries());
    }

    private static string Priority(string level) => level switch
    {
        "FATAL" => "2",
        "ERROR" => "3",
        "WARN" => "4",
        "INFO" => "6",
        _ => "7",
    };

    private static string StripPriority(string line) => Regex.Replace(line, @"^<[0-7]>", "");

    private static string Level(string line) => line.Split(' ', 3)[1];

    /// <summary>The labels loki.source.journal gives an entry: every journal field as <c>__journal_</c> + its name in lower case.</summary>
    private static Dictionary<string, string> JournalLabels(JsonElement record)
    {
        var labels = new Dictionary<string, string>();
        foreach (var field in record.EnumerateObject())
            if (field.Value.ValueKind == JsonValueKind.String) labels["__journal_" + field.Name.ToLowerInvariant()] = field.Value.GetString()!;
        if (labels.TryGetValue("__journal_priority", out var priority))
            labels["__journal_priority_keyword"] = priority switch
            {
                "0" => "emerg", "1" => "alert", "2" => "crit", "3" => "err", "4" => "warning", "5" => "notice", "6" => "info", _ => "debug",
            };
        return labels;
    }
}

/// <summary>Prometheus relabelling as loki.relabel applies it (action replace, the default): what the journal rules need.</summary>
public static class Relabel
{
    public static Dictionary<string, string> Apply(IEnumerable<AlloyConfig.Block> rules, IReadOnlyDictionary<string, string> discovered,
        IReadOnlyDictionary<string, string> staticLabels)
    {
        var labels = new Dictionary<string, string>(discovered);
        foreach (var (key, value) in staticLabels) labels[key] = value;
        foreach (var rule in rules)
        {
            var action = rule.TextOf("action") ?? "replace";
            Assert.Equal("replace", action);
            var sources = ((AlloyConfig.ListValue?)rule.Attribute("source_labels"))?.Items.Select(i => ((AlloyConfig.Text)i).Content) ?? [];
            var value = string.Join(rule.TextOf("separator") ?? ";", sources.Select(s => labels.TryGetValue(s, out var v) ? v : ""));
            var match = new Regex($"^(?:{rule.TextOf("regex") ?? "(.*)"})$").Match(value);
            if (!match.Success) continue;
            var target = rule.TextOf("target_label") ?? throw new InvalidOperationException("a replace rule needs target_label");
            var result = match.Result(rule.TextOf("replacement") ?? "$1");
            if (result.Length == 0) labels.Remove(target);
            else labels[target] = result;
        }
        // Labels starting with __ are dropped after relabelling.
        return labels.Where(l => !l.Key.StartsWith("__", StringComparison.Ordinal)).ToDictionary();
    }
}

/// <summary>
/// Two workspaces as separate node processes, each given the environment systemd gives a unit whose output goes to the
/// journal (JOURNAL_STREAM). Each runs LLM steps on the offline model; the copilot also one against an OpenAI-compatible
/// server on loopback that refuses the key (HTTP 401).
/// </summary>
public sealed class TwoWorkspaces : IAsyncLifetime
{
    public const int MainRuns = 2;
    public const string PromptMarker = "PROMPT-TEXT-5c1e";
    public const string ApiKey = "sk-test-loki-0123456789abcdef";

    private readonly List<TtaProcess> _nodes = [];
    private readonly List<string> _directories = [];
    private CapturingHttpServer? _provider;

    public Dictionary<string, List<string>> LogLines { get; } = new();

    public async Task InitializeAsync()
    {
        _provider = new CapturingHttpServer(_ => 401);
        var workflows = Directory.CreateTempSubdirectory("tta-loki-workflows-").FullName;
        _directories.Add(workflows);
        File.WriteAllText(Path.Combine(workflows, "ask.yaml"), $$$"""
            name: ask
            steps:
              - name: draft
                llm:
                  provider: offline
                  model: tta-offline
                  prompt: "{{{PromptMarker}}} {{ input }}"
                  max_tokens: 16
            """);
        File.WriteAllText(Path.Combine(workflows, "ask-openai.yaml"), $$$"""
            name: ask-openai
            steps:
              - name: draft
                llm:
                  provider: openai
                  model: gpt-4o-mini
                  prompt: "{{{PromptMarker}}} {{ input }}"
            """);

        var (main, mainApi) = await StartAsync("tta-dev-main", workflows);
        for (var i = 0; i < MainRuns; i++) await RunAsync(mainApi, "ask", "main-session");
        var (copilot, copilotApi) = await StartAsync("tta-dev-copilot", workflows);
        await RunAsync(copilotApi, "ask", "copilot-session");
        await RunAsync(copilotApi, "ask-openai", "copilot-session", expect: "failed");

        foreach (var (service, node) in new[] { ("tta-dev-main", main), ("tta-dev-copilot", copilot) })
        {
            node.Terminate();
            await node.WaitForExitAsync();
            // Lines of the node's log format; the start-up report the command prints for a person is not a log event.
            LogLines[service] = node.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Where(l => !l.StartsWith("tta node", StringComparison.Ordinal)).ToList();
        }
        Assert.Contains(_provider.Requests, r => r.Path.EndsWith("/chat/completions", StringComparison.Ordinal));
    }

    private async Task<(TtaProcess Node, HttpClient Api)> StartAsync(string service, string workflows)
    {
        var data = Directory.CreateTempSubdirectory("tta-loki-data-").FullName;
        _directories.Add(data);
        var http = FreePort.Next();
        var node = await TtaProcess.StartAsync(
            ["node", "--http", $"127.0.0.1:{http}", "--metrics-port", "0", "--port", FreePort.Next().ToString(), "--data", data, "--workflows", workflows],
            new Dictionary<string, string?>
            {
                ["TTA_SERVICE_NAME"] = service,
                ["JOURNAL_STREAM"] = "8:4711",
                ["OPENAI_API_KEY"] = ApiKey,
                ["OPENAI_BASE_URL"] = _provider!.BaseUrl + "/v1",
                ["OTEL_EXPORTER_OTLP_ENDPOINT"] = null,
                ["LANGFUSE_PUBLIC_KEY"] = null,
                ["LANGFUSE_SECRET_KEY"] = null,
            },
            "tta node ready");
        _nodes.Add(node);
        return (node, new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{http}"), Timeout = TimeSpan.FromSeconds(60) });
    }

    private static async Task RunAsync(HttpClient api, string workflow, string session, string expect = "succeeded")
    {
        var request = JsonSerializer.Serialize(new
        {
            workflow, input = "summarise the change", session, persona = "backend-engineer", chatmode = "feature-implementation", wait = true,
        });
        using var response = await api.PostAsync("/runs", new StringContent(request, Encoding.UTF8, "application/json"));
        var body = await response.Content.ReadAsStringAsync();
        var status = JsonDocument.Parse(body).RootElement.GetProperty("status");
        Assert.True(status.ValueKind == JsonValueKind.String && status.GetString() == expect, $"{workflow}: {(int)response.StatusCode} {body}");
    }

    public async Task DisposeAsync()
    {
        foreach (var node in _nodes) await node.DisposeAsync();
        _provider?.Dispose();
        foreach (var directory in _directories)
        {
            try { Directory.Delete(directory, recursive: true); }
            catch (IOException) { }
        }
    }
}

/// <summary>
/// A real systemd-journald in its own journal namespace (sockets under /run/systemd/journal.NAME, files under
/// /var/log/journal/MACHINE-ID.NAME), so the host's journal is not touched; both are removed at the end.
/// </summary>
public sealed class Journal : IAsyncDisposable
{
    public const string Daemon = "/lib/systemd/systemd-journald";
    private readonly Process _daemon;
    private readonly string _namespace;

    private Journal(Process daemon, string @namespace)
    {
        _daemon = daemon;
        _namespace = @namespace;
    }

    private string Sockets => $"/run/systemd/journal.{_namespace}";

    public static async Task<Journal> StartAsync()
    {
        var name = "ttatest" + Guid.NewGuid().ToString("N")[..10];
        var daemon = Process.Start(new ProcessStartInfo(Daemon, name) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true })!;
        var journal = new Journal(daemon, name);
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!File.Exists(Path.Combine(journal.Sockets, "stdout")))
        {
            if (daemon.HasExited || DateTime.UtcNow > deadline)
            {
                await journal.DisposeAsync();
                Skip.If(true, $"systemd-journald did not start a journal namespace on this machine ({await daemon.StandardError.ReadToEndAsync()}).");
            }
            await Task.Delay(50);
        }
        return journal;
    }

    /// <summary>
    /// Writes <paramref name="lines"/> to journald's stdout stream with the header systemd sends for a unit's
    /// <c>StandardOutput=journal</c>: identifier, unit, default priority, level prefix on (<c>&lt;3&gt;</c> is read).
    /// Each unit's stream comes from its own process, as each unit's service is: journald keeps a client's unit per
    /// process id, so two units streamed from one process would both be filed under the first.
    /// </summary>
    public async Task StreamAsync(string identifier, string unit, IEnumerable<string> lines)
    {
        const string client = """
            import socket, sys
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(sys.argv[1])
            s.sendall(sys.stdin.buffer.read())
            s.shutdown(socket.SHUT_WR)
            s.recv(1)
            """;
        var start = new ProcessStartInfo(Python) { UseShellExecute = false, RedirectStandardInput = true, RedirectStandardError = true };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(client);
        start.ArgumentList.Add(Path.Combine(Sockets, "stdout"));
        using var stream = Process.Start(start)!;
        await stream.StandardInput.WriteAsync($"{identifier}\n{unit}\n6\n1\n0\n0\n0\n" + string.Concat(lines.Select(l => l + "\n")));
        stream.StandardInput.Close();
        var errors = await stream.StandardError.ReadToEndAsync();
        await stream.WaitForExitAsync();
        Assert.True(stream.ExitCode == 0, $"streaming to journald failed: {errors}");
    }

    /// <summary>The stream client's interpreter (Debian's python3; the tests' other scripts use it too).</summary>
    public const string Python = "/usr/bin/python3";

    /// <summary>The entries written through the stdout stream, read back with journalctl as JSON.</summary>
    public async Task<List<JsonElement>> ReadAsync(int expected)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            var read = Process.Start(new ProcessStartInfo("journalctl", $"--namespace={_namespace} -o json --no-pager _TRANSPORT=stdout")
            {
                UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true,
            })!;
            var output = await read.StandardOutput.ReadToEndAsync();
            var errors = await read.StandardError.ReadToEndAsync();
            await read.WaitForExitAsync();
            var records = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
            if (records.Count >= expected) return records;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"journalctl returned {records.Count} of {expected} entries (exit {read.ExitCode}): {errors}");
            await Task.Delay(100);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_daemon.HasExited)
        {
            _daemon.Kill();
            await _daemon.WaitForExitAsync();
        }
        _daemon.Dispose();
        try { Directory.Delete(Sockets, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        var machine = File.Exists("/etc/machine-id") ? (await File.ReadAllTextAsync("/etc/machine-id")).Trim() : null;
        if (machine is not null)
        {
            try { Directory.Delete($"/var/log/journal/{machine}.{_namespace}", recursive: true); }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
    }
}
