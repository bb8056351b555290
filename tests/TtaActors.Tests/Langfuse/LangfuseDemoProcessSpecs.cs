using System.Diagnostics;
using System.Text.RegularExpressions;
using TtaActors.Tests.Llm;
using TtaActors.Tests.Support;

namespace TtaActors.Tests.Langfuse;

/// <summary>The real <c>tta</c> binary with <c>LANGFUSE_HOST</c> pointing at a local Langfuse-compatible endpoint.</summary>
public class LangfuseDemoProcessSpecs
{
    private static readonly string Tta = Path.Combine(AppContext.BaseDirectory, "tta.dll");

    [Fact]
    public async Task Demo_run_should_arrive_in_langfuse_as_one_trace_with_its_generation_before_the_process_exits()
    {
        using var langfuse = new ScriptedHttpServer(_ => new ScriptedResponse(200));
        var info = new ProcessStartInfo("dotnet", $"\"{Tta}\" demo --metrics-port 0")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var key in new[] { "OPENAI_API_KEY", "ANTHROPIC_API_KEY", "TTA_LLM_PROVIDER", "TTA_SERVICE_NAME", "OTEL_SERVICE_NAME", "TTA_TELEMETRY_SPOOL_DIR" })
            info.Environment.Remove(key);
        info.Environment["LANGFUSE_PUBLIC_KEY"] = "pk-lf-demo";
        info.Environment["LANGFUSE_SECRET_KEY"] = "sk-lf-demo-secret-42";
        info.Environment["LANGFUSE_HOST"] = langfuse.BaseUrl;

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(120));

        Assert.True(process.ExitCode == 0, await stderr);
        var traceId = Regex.Match(await stdout, @"Span tree \(trace ([0-9a-f]{32})\)").Groups[1].Value;
        var spans = langfuse.Requests.SelectMany(r => OtlpDecoder.DecodeTraces(r.Body)).ToList();
        Assert.Equal([traceId], spans.Select(s => s.TraceId).Distinct());
        Assert.Equal("workflow.dev-copilot-demo", Assert.Single(spans, s => s.ParentSpanId == "").Name);
        var generation = Assert.Single(spans, s => s.Name == "chat tta-offline");
        Assert.Equal("generation", generation.Attributes["langfuse.observation.type"]);
        Assert.True((long)generation.Attributes["gen_ai.usage.output_tokens"]! > 0);
        Assert.All(spans, s =>
        {
            Assert.Equal("dev-copilot-demo", s.Attributes["langfuse.trace.name"]);
            Assert.Equal("backend-engineer", s.Attributes["langfuse.user.id"]);
            Assert.Equal("demo-session", s.Attributes["langfuse.session.id"]);
        });
        Assert.DoesNotContain("sk-lf-demo-secret-42", await stdout + await stderr);
    }
}
