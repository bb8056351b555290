using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Text.Json;
using TtaActors.Actors.Context;
using TtaActors.Telemetry;
using TtaActors.Actors.Llm;
using TtaActors.Telemetry.Export.Langfuse;
using TtaActors.Telemetry.Llm;
using TtaActors.Llm.Providers;
using TtaActors.Tests.Support;

namespace TtaActors.Tests.Llm;

public class CostAndCaptureSpecs
{
    [Theory]
    [InlineData("gpt-4o-mini", 0.15, 0.60)]
    [InlineData("gpt-4o-mini-2024-07-18", 0.15, 0.60)]
    [InlineData("gpt-4o-2024-08-06", 2.50, 10.00)]
    [InlineData("claude-sonnet-4-20250514", 3.00, 15.00)]
    [InlineData("claude-3-5-haiku-latest", 0.80, 4.00)]
    public void Shipped_catalog_should_price_models_and_their_dated_versions(string model, double input, double output)
    {
        var price = CostCatalog.Default.Find(model);

        Assert.NotNull(price);
        Assert.Equal((decimal)input, price.InputPerMillion);
        Assert.Equal((decimal)output, price.OutputPerMillion);
    }

    [Theory]
    [InlineData("gpt-4o-audio-preview")]
    [InlineData("llama3.1:8b")]
    [InlineData("")]
    public void Unknown_models_should_have_no_price_rather_than_a_neighbour_s(string model) =>
        Assert.Null(CostCatalog.Default.Cost(model, 1000, 1000));

    [Fact]
    public void Cached_input_should_be_priced_at_the_cached_rate()
    {
        var cost = CostCatalog.Default.Cost("gpt-4.1", inputTokens: 1_000_000, outputTokens: 1_000_000, cachedInputTokens: 400_000)!;

        Assert.Equal(600_000 * 2.00m / 1_000_000 + 400_000 * 0.50m / 1_000_000, cost.Input);
        Assert.Equal(8.00m, cost.Output);
        Assert.Equal(cost.Input + cost.Output, cost.Total);
    }

    [Fact]
    public void Prices_file_from_configuration_should_override_and_extend_the_shipped_catalog()
    {
        var file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, """{"models":{"gpt-4o":{"input":1.0,"output":2.0},"llama3.1:8b":{"input":0.01,"output":0.02,"provider":"openai"}}}""");
            var settings = LlmProviders.FromEnvironment(key => key == "TTA_LLM_PRICES_FILE" ? file : null);

            Assert.Equal(1.0m, settings.Costs.Find("gpt-4o")!.InputPerMillion);
            Assert.Equal(0.02m, settings.Costs.Find("llama3.1:8b")!.OutputPerMillion);
            Assert.Equal(0.15m, settings.Costs.Find("gpt-4o-mini")!.InputPerMillion);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void Bad_prices_file_should_fail_naming_the_variable_the_model_and_the_field()
    {
        var file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, """{"models":{"my-model":{"input":-1,"output":2}}}""");
            var error = Assert.Throws<LlmConfigurationException>(() => LlmProviders.FromEnvironment(key => key == "TTA_LLM_PRICES_FILE" ? file : null));

            Assert.StartsWith("TTA_LLM_PRICES_FILE:", error.Message);
            Assert.Contains("my-model", error.Message);
            Assert.Contains("\"input\"", error.Message);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void Capture_should_redact_secrets_by_pattern_and_by_value_then_truncate()
    {
        var policy = (CapturePolicy.Default with { MaxChars = 120 }).WithSecrets(["hunter2-internal"]).WithPatterns(["acct-[0-9]{6}"]);
        var text = "use sk-proj-ABCDEFGHIJKLMNOPQRSTUV and Bearer abcdefghijklmnop0123 for acct-123456, password: hunter2-internal " + new string('z', 200);

        var captured = policy.Apply(text)!;

        Assert.DoesNotContain("sk-proj-ABCDEFGHIJKLMNOPQRSTUV", captured);
        Assert.DoesNotContain("abcdefghijklmnop0123", captured);
        Assert.DoesNotContain("acct-123456", captured);
        Assert.DoesNotContain("hunter2-internal", captured);
        Assert.StartsWith("use [REDACTED] and [REDACTED] for [REDACTED], password: [REDACTED]", captured);
        Assert.Equal(120, captured.IndexOf("...[truncated ", StringComparison.Ordinal));
        Assert.EndsWith(" chars]", captured);
    }

    private static LlmCallOutcome Outcome(string model) => new()
    {
        Provider = "openai",
        RequestModel = model,
        InputTokens = 1000,
        OutputTokens = 100,
        Cost = new LlmCost(Input: 0.0025m, Output: 0.001m, Total: 0.0035m),
        DurationSeconds = 1.5,
        TimeToFirstTokenSeconds = 0.25,
        FirstTokenAt = new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero),
    };

    [Fact]
    public void Cost_details_should_carry_input_output_and_total_each_under_its_own_name()
    {
        var span = new Activity("chat gpt-4o").Start();

        LlmCallTelemetry.EndChatSpan(span, Outcome("gpt-4o"), CapturePolicy.Default);

        Assert.Equal(0.0035, (double)span.GetTagItem(TelemetryNames.GenAi.UsageCost)!, 12);
        Assert.Equal(0.0025, (double)span.GetTagItem(TelemetryNames.GenAi.UsageInputCost)!, 12);
        Assert.Equal(0.001, (double)span.GetTagItem(TelemetryNames.GenAi.UsageOutputCost)!, 12);
        Assert.Equal(0.25, (double)span.GetTagItem(TelemetryNames.GenAi.TimeToFirstToken)!);
        Assert.Equal(new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero), Assert.Single(span.Events, e => e.Name == "llm.first_token").Timestamp);

        // As Langfuse receives them, made by its exporter.
        var received = LangfuseView.Attributes(span);
        var details = JsonDocument.Parse((string)received[TelemetryNames.Langfuse.ObservationCostDetails]!).RootElement;
        Assert.Equal(0.0025m, details.GetProperty("input").GetDecimal());
        Assert.Equal(0.001m, details.GetProperty("output").GetDecimal());
        Assert.Equal(0.0035m, details.GetProperty("total").GetDecimal());
        Assert.Equal("2026-01-02T03:04:05.0000000Z", received[TelemetryNames.Langfuse.ObservationCompletionStartTime]);
    }

    [Fact]
    public void Time_to_first_token_should_be_recorded_in_its_histogram_with_the_call_labels()
    {
        // A model name of this test's own: other specs record LLM metrics at the same time.
        var model = $"ttft-spec-{Guid.NewGuid():N}";
        var recorded = new List<(double Value, Dictionary<string, object?> Tags)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter == TtaInstrumentation.Meter && instrument.Name == TelemetryNames.LlmMetrics.TimeToFirstToken) l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<double>((_, value, tags, _) =>
        {
            var labels = tags.ToArray().ToDictionary(t => t.Key, t => t.Value);
            if (Equals(labels.GetValueOrDefault(TelemetryNames.LlmLabels.Model), model))
                lock (recorded) recorded.Add((value, labels));
        });
        listener.Start();

        LlmCallTelemetry.RecordMetrics(Outcome(model), persona: "backend-engineer", serviceName: "ttft-spec");
        LlmCallTelemetry.RecordMetrics(Outcome(model) with { TimeToFirstTokenSeconds = null }, persona: "backend-engineer", serviceName: "ttft-spec");

        var (value, labels) = Assert.Single(recorded);
        Assert.Equal(0.25, value);
        Assert.Equal("openai", labels[TelemetryNames.LlmLabels.Provider]);
        Assert.Equal("backend-engineer", labels[TelemetryNames.Labels.Persona]);
        Assert.Equal("ttft-spec", labels[TelemetryNames.Labels.ServiceName]);
    }

    [Fact]
    public void Capture_off_should_record_nothing()
    {
        Assert.Null((CapturePolicy.Default with { Enabled = false }).Apply("anything"));
        var settings = LlmProviders.FromEnvironment(key => key == "TTA_LLM_CAPTURE" ? "off" : null);
        Assert.False(settings.Capture.Enabled);
    }

    [Fact]
    public void Configured_api_keys_should_be_redacted_wherever_they_appear()
    {
        var settings = LlmProviders.FromEnvironment(key => key switch
        {
            "OPENAI_API_KEY" => "plainkeywithoutprefix42",
            "LANGFUSE_SECRET_KEY" => "lf-secret-no-prefix-7",
            _ => null,
        });

        Assert.Equal("a [REDACTED] b [REDACTED]", settings.Capture.Apply("a plainkeywithoutprefix42 b lf-secret-no-prefix-7"));
    }

    [Fact]
    public void Unknown_provider_and_missing_keys_should_fail_with_what_to_do()
    {
        var settings = new LlmSettings(LlmProviders.Create());

        var unknown = Assert.Throws<LlmConfigurationException>(() => settings.CreateClient("mistral", "large"));
        Assert.Contains("Unknown LLM provider 'mistral'", unknown.Message);
        Assert.Contains("openai, anthropic, offline", unknown.Message);
        Assert.Contains("OPENAI_API_KEY", Assert.Throws<LlmConfigurationException>(() => settings.CreateClient("openai", "gpt-4o")).Message);
        Assert.Contains("ANTHROPIC_API_KEY", Assert.Throws<LlmConfigurationException>(() => settings.CreateClient("anthropic", "claude-haiku-4-5")).Message);
        Assert.Contains("TTA_LLM_PROVIDER", Assert.Throws<LlmConfigurationException>(() =>
            LlmProviders.FromEnvironment(key => key == "TTA_LLM_PROVIDER" ? "cohere" : null)).Message);
    }

    [Fact]
    public void A_provider_that_is_not_registered_should_fail_naming_it_and_the_package_to_add()
    {
        using var core = new LlmSettings();

        var openAi = Assert.Throws<LlmConfigurationException>(() => core.CreateClient("openai", "gpt-4o"));
        Assert.Contains("LLM provider 'openai' in the step's provider is not registered", openAi.Message);
        Assert.Contains(LlmProviderNames.Package, openAi.Message);
        var none = Assert.Throws<LlmConfigurationException>(() => core.Chat());
        Assert.Contains("No LLM provider is registered", none.Message);
        Assert.Contains(LlmProviderNames.Package, none.Message);
        var environment = Assert.Throws<LlmConfigurationException>(() => LlmSettings.FromEnvironment(key => key == "TTA_LLM_PROVIDER" ? "anthropic" : null));
        Assert.Contains("'anthropic' in TTA_LLM_PROVIDER is not registered", environment.Message);

        using var withPackage = LlmProviders.FromEnvironment(key => key == "TTA_LLM_PROVIDER" ? "offline" : null);
        Assert.Equal(("offline", OfflineChatClient.ModelName), withPackage.DefaultModel());
    }

    [Fact]
    public void Default_model_should_follow_the_keys_that_are_set()
    {
        Assert.Equal(("offline", OfflineChatClient.ModelName), new LlmSettings(LlmProviders.Create()).DefaultModel());
        Assert.Equal(("openai", "gpt-4o-mini"), new LlmSettings(LlmProviders.Create(new LlmProviderOptions { OpenAiApiKey = "sk-x" })).DefaultModel());
        Assert.Equal(("anthropic", "claude-haiku-4-5"), new LlmSettings(LlmProviders.Create(new LlmProviderOptions { AnthropicApiKey = "sk-ant-x" })).DefaultModel());
    }

    [Fact]
    public void Prompt_template_should_fill_placeholders_and_reject_unknown_ones()
    {
        var context = WorkflowContext.Create(persona: "frontend-dev", chatMode: "review", workspace: "ws").WithMetadata("ticket", "T-1")
            .WithState("lang", "C#");

        Assert.Equal("frontend-dev/review/ws: T-1 in C# -> fix {it}", new PromptTemplate("{persona}/{chatmode}/{workspace}: {metadata.ticket} in {state.lang} -> {input} {{it}}")
            .Render("fix", context));
        Assert.Contains("{mood} at position 6 is unknown", Assert.Throws<FormatException>(() => new PromptTemplate("Hello {mood}")).Message);
        Assert.Contains("no key 'missing'", Assert.Throws<KeyNotFoundException>(() => new PromptTemplate("{state.missing}").Render(null, context)).Message);
    }

    [Fact]
    public void Langfuse_settings_should_be_off_without_both_keys_and_never_print_the_secret()
    {
        Assert.Null(LangfuseExporterOptions.FromEnvironment(_ => null, out var off));
        Assert.Contains("LANGFUSE_PUBLIC_KEY and LANGFUSE_SECRET_KEY are not set", off);
        Assert.Null(LangfuseExporterOptions.FromEnvironment(k => k == "LANGFUSE_PUBLIC_KEY" ? "pk-lf-1" : null, out var half));
        Assert.Contains("LANGFUSE_SECRET_KEY is not", half);

        var options = LangfuseExporterOptions.FromEnvironment(k => k switch
        {
            "LANGFUSE_PUBLIC_KEY" => "pk-lf-1",
            "LANGFUSE_SECRET_KEY" => "sk-lf-very-secret",
            "LANGFUSE_HOST" => "http://127.0.0.1:3000/",
            "TTA_TELEMETRY_SPOOL_DIR" => "/tmp/spool",
            _ => null,
        }, out _)!;
        Assert.Equal("http://127.0.0.1:3000/api/public/otel/v1/traces", options.TracesEndpoint.ToString());
        Assert.Equal("http://127.0.0.1:3000/api/public/ingestion", options.IngestionEndpoint.ToString());
        Assert.Equal("/tmp/spool", options.SpoolDirectory);
        Assert.DoesNotContain("sk-lf-very-secret", options.ToString());
        Assert.Contains("LANGFUSE_HOST", Assert.Throws<ArgumentException>(() => LangfuseExporterOptions.FromEnvironment(k => k switch
        {
            "LANGFUSE_PUBLIC_KEY" => "pk", "LANGFUSE_SECRET_KEY" => "sk", "LANGFUSE_HOST" => "cloud.langfuse.com", _ => null,
        }, out _)).Message);
    }
}
