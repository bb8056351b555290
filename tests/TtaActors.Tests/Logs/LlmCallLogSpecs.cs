using TtaActors.Actors.Llm;

namespace TtaActors.Tests.Logs;

public class LlmCallLogSpecs
{
    [Fact]
    public void A_callers_value_should_never_forge_a_field_or_a_line()
    {
        var line = LlmCallLog.Format(
        [
            new("status", "ok"),
            new("model", "gpt-4o-mini"),
            new("input_tokens", 12L),
            new("cost_usd", 0.000054m),
            new("persona", "x status=error\nERROR fake \"line\" \\"),
            new("session_id", ""),
        ]);

        Assert.Equal("llm completion status=ok model=gpt-4o-mini input_tokens=12 cost_usd=0.000054 " +
            "persona=\"x status=error\\nERROR fake \\\"line\\\" \\\\\" session_id=\"\"", line);
        Assert.DoesNotContain('\n', line);
    }
}
