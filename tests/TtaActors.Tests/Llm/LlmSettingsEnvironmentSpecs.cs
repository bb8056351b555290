using TtaActors.Actors.Llm;
using TtaActors.Llm.Providers;

namespace TtaActors.Tests.Llm;

/// <summary>What <c>LlmSettings.FromEnvironment</c> reads must reach the policy that redacts prompts and completions.</summary>
public class LlmSettingsEnvironmentSpecs
{
    private static LlmSettings FromEnvironment(string variable, string value) =>
        LlmProviders.FromEnvironment(key => key == variable ? value : null);

    [Fact]
    public void Redact_patterns_from_the_environment_redact_captured_text()
    {
        var settings = FromEnvironment("TTA_LLM_REDACT_PATTERNS", """["acct-[0-9]{6}", "ticket#\\d+"]""");

        Assert.Equal("pay [REDACTED] for [REDACTED], not acct-12",
            settings.Capture.Apply("pay acct-123456 for ticket#42, not acct-12"));
    }

    [Fact]
    public void Redact_patterns_from_the_environment_keep_the_shipped_patterns()
    {
        var settings = FromEnvironment("TTA_LLM_REDACT_PATTERNS", """["acct-[0-9]{6}"]""");

        Assert.Equal("[REDACTED] [REDACTED]", settings.Capture.Apply("sk-proj-ABCDEFGHIJKLMNOPQRSTUV acct-654321"));
    }

    [Fact]
    public void Without_redact_patterns_text_outside_the_shipped_patterns_is_kept()
    {
        var settings = LlmProviders.FromEnvironment(_ => null);

        Assert.Equal("pay acct-123456", settings.Capture.Apply("pay acct-123456"));
    }

    [Theory]
    [InlineData("acct-[0-9]+", "expected a JSON array")]
    [InlineData("""["acct-[0-9"]""", "'acct-[0-9' is not a valid regular expression")]
    public void Bad_redact_patterns_fail_naming_the_variable_and_the_problem(string value, string expected)
    {
        var error = Assert.Throws<LlmConfigurationException>(() => FromEnvironment("TTA_LLM_REDACT_PATTERNS", value));

        Assert.StartsWith("TTA_LLM_REDACT_PATTERNS:", error.Message);
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void Capture_max_chars_from_the_environment_truncates_captured_text()
    {
        var settings = FromEnvironment("TTA_LLM_CAPTURE_MAX_CHARS", "5");

        Assert.Equal("abcde...[truncated 2 chars]", settings.Capture.Apply("abcdefg"));
    }
}
