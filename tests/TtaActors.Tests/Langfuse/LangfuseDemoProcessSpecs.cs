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
    public async Task Demo_runs_should_arrive_in_langfuse_as_one_trace_per_run_with_its_generation_before_the_process_exits()
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
        // The demo runs twice in one persona session, switching persona in between: two runs, two Langfuse traces.
        var traceIds = Regex.Matches(await stdout, @"Span tree \(trace ([0-9a-f]{32})\)").Select(m => m.Groups[1].Value).ToList();
        var sessionId = Regex.Match(await stdout, @"Persona session (\S+)").Groups[1].Value;
        var spans = langfuse.Requests.SelectMany(r => OtlpDecoder.DecodeTraces(r.Body)).ToList();
        Assert.Equal(2, traceIds.Count);
        Assert.Equal(traceIds.Order(), spans.Select(s => s.TraceId).Distinct().Order());
        foreach (var (traceId, persona) in traceIds.Zip(["backend-engineer", "frontend-dev"]))
        {
            var trace = spans.Where(s => s.TraceId == traceId).ToList();
            Assert.Equal("workflow.dev-copilot-demo", Assert.Single(trace, s => s.ParentSpanId == "").Name);
            var generation = Assert.Single(trace, s => s.Name == "chat tta-offline");
            Assert.Equal("generation", generation.Attributes["langfuse.observation.type"]);
            Assert.True((long)generation.Attributes["gen_ai.usage.output_tokens"]! > 0);
            Assert.Equal("dev-copilot-demo", Assert.Single(trace, s => s.ParentSpanId == "").Attributes["langfuse.trace.name"]);
            Assert.All(trace, s =>
            {
                Assert.Equal("dev-copilot-demo", s.Attributes.GetValueOrDefault("langfuse.trace.name", "dev-copilot-demo"));
                Assert.Equal(persona, s.Attributes["langfuse.user.id"]);
                Assert.Equal(sessionId, s.Attributes["langfuse.session.id"]);
            });
        }
        Assert.DoesNotContain("sk-lf-demo-secret-42", await stdout + await stderr);
    }
}
