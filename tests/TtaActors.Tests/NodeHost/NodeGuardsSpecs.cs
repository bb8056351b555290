using System.Diagnostics.Metrics;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using TtaActors.Actors.Sessions;
using TtaActors.Runtime.Cli;
using TtaActors.Runtime.Hosting;
using TtaActors.Runtime.Node;
using TtaActors.Runtime.Runs;
using TtaActors.Runtime.Workflows;
using TtaActors.Telemetry;
using Xunit;

namespace TtaActors.Tests.NodeHost;

/// <summary>The fine-grained cases of issue 11 items 3, 8, 9, 12: in process, no node needed.</summary>
public sealed class NodeGuardsSpecs
{
    public static TheoryData<Exception, int, string> Refusals => new()
    {
        { new InvalidFieldException("persona", "bad"), 422, "invalid-field" },
        { new WorkflowNotFoundException("nope", ["echo"], null), 404, "workflow-not-found" },
        { new PersonaSessionRefusedException("s", RefusalCodes.InvalidName, "bad"), 422, "invalid-field" },
        { new PersonaSessionRefusedException("s", RefusalCodes.BudgetExceeded, "spent"), 409, "budget-exceeded" },
        { new PersonaSessionRefusedException("s", RefusalCodes.UnknownRun, "closed"), 409, "unknown-run" },
        { new PersonaSessionRefusedException("s", RefusalCodes.JournalUnavailable, "down"), 503, "journal-unavailable" },
        { new TimeoutException("no answer"), 503, "session-unavailable" },
        { new MalformedBodyException("bad json", "$.wait", 1, 2), 400, "malformed-body" },
        { new BadHttpRequestException("too big", StatusCodes.Status413PayloadTooLarge), 413, "body-too-large" },
        { new InvalidOperationException("secret internals"), 500, "internal-error" },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public void Domain_errors_map_to_problem_details_in_one_place(Exception error, int status, string type)
    {
        var problem = NodeProblems.Map(error, 1024);
        Assert.Equal(status, problem.Status);
        Assert.Equal(type, problem.Type);
        if (status == 500) Assert.DoesNotContain("secret internals", problem.Detail);
        else if (error is not BadHttpRequestException) Assert.Contains(error.Message, problem.Detail);
    }

    [Theory]
    [InlineData("Bearer abc", "abc")]
    [InlineData("bearer abc", "abc")]
    [InlineData("BeArEr   abc  ", "abc")]
    [InlineData("Bearer\tabc", "abc")]
    [InlineData("Basic abc", null)]
    [InlineData("Bearer", null)]
    [InlineData("Bearerabc", null)]
    [InlineData("", null)]
    public void The_bearer_scheme_is_case_insensitive_and_the_token_is_kept_as_sent(string header, string? token) =>
        Assert.Equal(token, global::TtaActors.Runtime.Node.NodeApi.BearerToken(header));

    [Fact]
    public void Json_errors_name_the_field_and_never_a_clr_type()
    {
        var options = new JsonSerializerOptions { UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow };
        var unknown = Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<Body>("""{"name": "x", "extra": 1}""", options));
        var described = NodeProblems.Describe(unknown, ["name"]);
        Assert.Equal("The request body has an unknown field 'extra'; its fields are name.", described.Message);

        var missing = Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<Body>("""{}""", options));
        Assert.Equal("The request body lacks the required field \"name\".", NodeProblems.Describe(missing, ["name"]).Message);

        var wrongType = Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<Body>("""{"name": 1}""", options));
        var detail = NodeProblems.Describe(wrongType, ["name"]);
        Assert.Contains("a string", detail.Message);
        Assert.Equal("$.name", detail.Path);
        Assert.DoesNotContain("System.", detail.Message);
    }

    [Fact]
    public void A_label_keeps_its_first_values_up_to_the_bound_and_folds_the_rest_counting_each()
    {
        const string label = "spec_label_bound";
        long folded = 0;
        var counter = TtaInstrumentation.LabelValuesFolded;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (ReferenceEquals(instrument, counter)) l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            foreach (var tag in tags)
                if (tag.Key == TelemetryNames.Labels.Label && (string?)tag.Value == label) Interlocked.Add(ref folded, value);
        });
        listener.Start();

        var bound = new LabelValueBound(100);
        var written = Enumerable.Range(0, 2_000).Select(i => bound.Bound(label, $"persona-{i}")).ToList();

        Assert.Equal(Enumerable.Range(0, 100).Select(i => $"persona-{i}"), written.Take(100));
        Assert.All(written.Skip(100), value => Assert.Equal(TelemetryNames.Overflow, value));
        Assert.Equal(101, written.Distinct().Count());
        Assert.Equal(1_900, Interlocked.Read(ref folded));
        Assert.Equal("persona-7", bound.Bound(label, "persona-7"));
        Assert.Equal(100, bound.Count);
    }

    [Theory]
    [InlineData("TTA_METRIC_LABEL_VALUES", "0", "TTA_METRIC_LABEL_VALUES: '0' is not a whole number from 1")]
    [InlineData("TTA_METRICS_HOST", "metrics.example.com", "TTA_METRICS_HOST: 'metrics.example.com' is not an IP address")]
    [InlineData("TTA_RUN_STORE_MAX_BYTES", "0", "TTA_RUN_STORE_MAX_BYTES")]
    [InlineData("TTA_RUN_STORE_MAX_RUNS", "-1", "TTA_RUN_STORE_MAX_RUNS")]
    [InlineData("TTA_RUN_OUTPUT_MAX_BYTES", "x", "TTA_RUN_OUTPUT_MAX_BYTES")]
    public void Bad_limits_name_the_variable(string variable, string value, string says)
    {
        var error = Assert.Throws<TtaConfigurationException>(() => NodeCommand.Resolve(key => key == variable ? value : null));
        Assert.Contains(says, error.Message);
    }

    [Fact]
    public void Limits_are_read_from_their_variables_and_an_output_bound_above_the_store_bound_is_refused()
    {
        var env = new Dictionary<string, string>
        {
            ["TTA_METRIC_LABEL_VALUES"] = "7", ["TTA_METRICS_HOST"] = "0.0.0.0", ["TTA_RUN_STORE_MAX_BYTES"] = "5000",
            ["TTA_RUN_STORE_MAX_RUNS"] = "3", ["TTA_RUN_OUTPUT_MAX_BYTES"] = "5000",
        };
        var options = NodeCommand.Resolve(key => env.GetValueOrDefault(key));
        Assert.Equal(7, options.Runtime.MetricLabelValues);
        Assert.Equal("0.0.0.0", options.Runtime.MetricsHost);
        Assert.Equal(new RunStoreLimits { MaxBytes = 5000, MaxRuns = 3, MaxOutputBytes = 5000 }, options.RunStore);
        Assert.Equal("127.0.0.1", NodeCommand.Resolve(key => env.GetValueOrDefault(key), metricsHost: "127.0.0.1").Runtime.MetricsHost);

        env["TTA_RUN_OUTPUT_MAX_BYTES"] = "5001";
        var error = Assert.Throws<TtaConfigurationException>(() => NodeCommand.Resolve(key => env.GetValueOrDefault(key)));
        Assert.Contains("TTA_RUN_OUTPUT_MAX_BYTES (5001) is larger than TTA_RUN_STORE_MAX_BYTES (5000)", error.Message);
    }

    [Fact]
    public void Six_hundred_runs_of_900_kb_stay_within_the_store_byte_bound()
    {
        var limits = new RunStoreLimits { MaxBytes = 64L * 1024 * 1024, MaxOutputBytes = 1024 * 1024 };
        var store = new RunStore(limits);
        var payload = new string('x', 900 * 1024);
        var input = System.Text.Json.Nodes.JsonValue.Create(payload);
        for (var i = 0; i < 600; i++)
        {
            var record = Record($"run-{i}");
            store.Started(record, RunStore.JsonBytes(input));
            Assert.InRange(store.Bytes, 0, limits.MaxBytes);
            store.Finished(record with { Status = RunStatus.Succeeded, Output = payload });
            Assert.InRange(store.Bytes, 0, limits.MaxBytes);
        }
        var perRun = 900 * 1024 + 2 + RunStore.RecordOverheadBytes;
        Assert.Equal(limits.MaxBytes / perRun, store.Count);
        Assert.Null(store.Get("run-0"));
        Assert.Equal(payload, (string?)store.Get("run-599")!.Output);
    }

    [Fact]
    public void An_output_at_the_bound_is_kept_and_one_byte_more_is_replaced_by_a_marker()
    {
        var store = new RunStore(new RunStoreLimits { MaxBytes = 1_000_000, MaxOutputBytes = 1_000 });
        var atBound = new string('a', 998);   // 1,000 bytes with its quotes
        store.Finished(Record("at") with { Output = atBound });
        Assert.Equal(atBound, (string?)store.Get("at")!.Output);

        store.Finished(Record("over") with { Output = atBound + "a" });
        var marker = store.Get("over")!.Output!;
        Assert.True((bool)marker["truncated"]!);
        Assert.Equal(1_001, (long)marker["bytes"]!);
        Assert.Contains("TTA_RUN_OUTPUT_MAX_BYTES", (string?)marker["message"]);
    }

    [Fact]
    public void The_store_keeps_at_most_its_run_count_and_charges_a_running_run_its_input()
    {
        var store = new RunStore(new RunStoreLimits { MaxBytes = 1_000_000, MaxRuns = 3 });
        for (var i = 0; i < 4; i++) store.Started(Record($"r{i}"), 10);
        Assert.Equal(3, store.Count);
        Assert.Null(store.Get("r0"));
        Assert.Equal(3 * (RunStore.RecordOverheadBytes + 10), store.Bytes);
        Assert.Equal(5, RunStore.JsonBytes(System.Text.Json.Nodes.JsonNode.Parse("[1,2]")));
    }

    [Theory]
    [InlineData("bad = [1, 2", "line 1, column 7: the '[' opened here is never closed")]
    [InlineData("akka.loglevel = {", "line 1, column 17: the '{' opened here is never closed")]
    [InlineData("a {\n  b = 1\n]\n", "line 3, column 1: ']' does not match the '{' opened at line 1, column 3")]
    [InlineData("a = 1\n}", "line 2, column 1: '}' closes nothing")]
    [InlineData("a = \"open\nb = 2", "line 1, column 5: the quoted string opened here is not closed on its line")]
    [InlineData("a = \"\"\"never", "line 1, column 5: the \"\"\" string opened here is never closed")]
    public void Malformed_hocon_names_the_layer_the_line_and_the_problem(string text, string problem)
    {
        var error = Assert.Throws<TtaConfigurationException>(() => HoconLayers.Parse("TTA_HOCON", text));
        Assert.StartsWith($"HOCON from TTA_HOCON is malformed at {problem}", error.Message);
        Assert.EndsWith("Fix it; nothing was started.", error.Message);
    }

    [Theory]
    [InlineData("a = \"}\" # {\nb = [1, 2] // [\nc { d = \"\"\"{[\n\"\"\" }\ne = ${a}")]
    [InlineData("a = \"x\\\"]\"")]
    public void Well_formed_hocon_with_brackets_in_strings_and_comments_passes(string text) =>
        Assert.Null(HoconSyntax.Problem(text));

    [Fact]
    public void Every_shipped_hocon_file_passes_the_structure_check()
    {
        foreach (var file in new[] { "base.conf", "serialization.conf", "cluster.conf", "persistence-sqlite.conf", "persistence-postgres.conf" })
            Assert.True(HoconSyntax.Problem(HoconFiles.Text(file)) is null, $"{file}: {HoconSyntax.Problem(HoconFiles.Text(file))}");
    }

    private static RunRecord Record(string id) =>
        new(id, "echo", RunStatus.Running, null, null, null, null, null, null, DateTimeOffset.UnixEpoch, null);

    private sealed class Body
    {
        [System.Text.Json.Serialization.JsonRequired]
        [System.Text.Json.Serialization.JsonPropertyName("name")]
        public string Name { get; set; } = "";
    }
}
