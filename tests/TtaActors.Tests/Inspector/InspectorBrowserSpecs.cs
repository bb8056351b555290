using System.Net;
using System.Text.Json.Nodes;
using OpenQA.Selenium;
using TtaActors.Tests.NodeHost;

namespace TtaActors.Tests.Inspector;

/// <summary>The run inspector in a real headless Chromium against a real <c>tta node</c> with a token.</summary>
[Collection(TtaProcessCollection.Name)]
public sealed class InspectorBrowserSpecs(InspectorBrowserFixture ui) : IClassFixture<InspectorBrowserFixture>
{
    private IWebDriver Browser => ui.Browser;

    [SkippableFact]
    public async Task Runs_page_shows_runs_started_through_the_api_appear_and_finish_without_a_reload()
    {
        Skip.If(ui.Missing is not null, $"Needs {ui.Missing}.");
        ui.SignIn();
        ui.Until(() => Browser.FindElements(By.Id("runs")).FirstOrDefault(), "the runs table");
        // Set on this document only: a reload would lose it.
        ((IJavaScriptExecutor)Browser).ExecuteScript("window.ttaSpecMarker = 'same-document';");

        var gated = await ui.PostRunAsync("""{"workflow": "gated", "wait": false, "persona": "backend-engineer", "chatmode": "review"}""");
        var gatedId = (string)gated["runId"]!;
        var row = ui.Until(() => Browser.FindElements(By.Id("run-" + gatedId)).Select(r => (Status: r.GetAttribute("data-status"), r.Text))
            .Cast<(string?, string)?>().FirstOrDefault() is { } found ? Tuple.Create(found.Item1, found.Item2) : null, "the gated run's row");
        Assert.Equal("running", row.Item1);
        Assert.Contains("backend-engineer / review", row.Item2);

        var quick = await ui.PostRunAsync("""{"workflow": "echo", "input": {"text": "hello"}, "wait": false}""");
        ui.Until(() => Browser.FindElements(By.CssSelector($"#run-{quick["runId"]}[data-status='succeeded']")).FirstOrDefault(), "the echo run finished");
        ui.Screenshot("runs-live");

        await ui.OpenGateWhenReachedAsync();
        ui.Until(() => Browser.FindElements(By.CssSelector($"#run-{gatedId}[data-status='succeeded']")).FirstOrDefault(), "the gated run finished");
        Assert.Equal("same-document", ((IJavaScriptExecutor)Browser).ExecuteScript("return window.ttaSpecMarker;"));

        Browser.Navigate().GoToUrl($"{ui.Url}/ui#/runs?status=succeeded&workflow=gated");
        ui.Until(() => Browser.FindElements(By.Id("run-" + gatedId)).FirstOrDefault(), "the filtered list");
        Assert.Empty(Browser.FindElements(By.Id($"run-{quick["runId"]}")));
        ui.Screenshot("runs");
    }

    [SkippableFact]
    public async Task Run_page_shows_every_primitive_span_of_the_run_in_the_waterfall_and_its_attributes_on_selection()
    {
        Skip.If(ui.Missing is not null, $"Needs {ui.Missing}.");
        ui.SignIn();
        var run = await ui.PostRunAsync("""{"workflow": "triage", "input": {"text": "checkout fails"}, "session": "ui-s1", "persona": "frontend-dev", "chatmode": "review"}""");
        var runId = (string)run["runId"]!;
        Browser.Navigate().GoToUrl($"{ui.Url}/ui#/run/{runId}");

        // The names the workflow file gives its primitives; each executed one has a span in the waterfall.
        string[] named = ["primitive.normalize", "primitive.fan-out", "primitive.left", "primitive.careful", "primitive.right", "primitive.summarise"];
        var rows = ui.Until(() =>
        {
            var shown = Browser.FindElements(By.CssSelector("#waterfall .span-row")).Select(r => r.GetAttribute("data-span-name")).ToList();
            return named.All(shown.Contains) && shown.Any(s => s?.StartsWith("workflow.triage") == true) && shown.Any(s => s?.StartsWith("chat ") == true) ? shown : null;
        }, "every primitive span of the run");
        var trace = await ui.GetAsync($"/ui/api/trace/{runId}");
        var primitives = trace["spans"]!.AsArray().Select(s => (string)s!["name"]!).Where(n => n.StartsWith("primitive.") || n.StartsWith("retry.")).ToList();
        Assert.NotEmpty(primitives);
        Assert.All(primitives, name => Assert.Contains(name, rows));
        Assert.Contains("retry.attempt_0", rows);

        ui.Until(() =>
        {
            Browser.FindElement(By.CssSelector("#waterfall .span-row[data-span-name='primitive.right']")).Click();
            return "";
        }, "the span to click");
        var detail = ui.Until(() => Browser.FindElement(By.Id("span-detail")).Text is var t && t.Contains("primitive.type") ? t : null, "the span's attributes");
        Assert.Contains("LambdaPrimitive", detail);
        Assert.Contains("frontend-dev", detail);
        var generation = ui.Until(() => Browser.FindElements(By.CssSelector("#generations .generation")).FirstOrDefault(), "the LLM generation");
        // The prompt as the chat span recorded it under the capture policy (llm.input), not "(not captured)".
        Assert.Contains("Summarise:", generation.Text);
        Assert.DoesNotContain("(not captured)", generation.Text);
        ui.Until(() => Browser.FindElements(By.CssSelector("#events li")).FirstOrDefault(e => e.Text.StartsWith("RUN_FINISHED")), "the step events");
        ui.Screenshot("run");

        Browser.Navigate().GoToUrl($"{ui.Url}/ui#/session/ui-s1");
        var byPersona = ui.Until(() => Browser.FindElements(By.CssSelector("#by-persona tbody tr")).FirstOrDefault()?.Text, "tokens by persona");
        Assert.StartsWith("frontend-dev", byPersona);
        Assert.Contains("tta-offline", Browser.FindElement(By.Id("by-model")).Text);
        Assert.Contains("frontend-dev in review", Browser.FindElement(By.Id("switches")).Text);
        ui.Screenshot("session");

        Browser.Navigate().GoToUrl($"{ui.Url}/ui#/workflows");
        var triage = ui.Until(() => Browser.FindElements(By.CssSelector("[data-workflow='triage']")).FirstOrDefault(), "the workflows");
        foreach (var name in new[] { "normalize", "fan-out", "left", "careful", "right", "summarise" })
            Assert.NotEmpty(triage.FindElements(By.CssSelector($"[data-primitive='{name}']")));
        Assert.Matches(@"broken\.yaml:3:5: Unknown step kind 'nosuchkind'", Browser.FindElement(By.CssSelector("[data-workflow='broken'] .problem")).Text);
        ui.Screenshot("workflows");
    }

    [SkippableFact]
    public async Task Approve_button_resumes_a_waiting_durable_run_which_then_finishes()
    {
        Skip.If(ui.Missing is not null, $"Needs {ui.Missing}.");
        ui.SignIn();
        var run = await ui.PostRunAsync("""{"workflow": "ship", "wait": false}""");
        var runId = (string)run["runId"]!;
        Browser.Navigate().GoToUrl($"{ui.Url}/ui#/run/{runId}");
        var payload = ui.Until(() => Browser.FindElements(By.Id("approval-payload")).FirstOrDefault(), "the approval form");
        payload.Clear();
        payload.SendKeys("""{"by": "ui-spec"}""");
        ui.Screenshot("run-waiting");
        Browser.FindElement(By.Id("approve")).Click();

        ui.Until(() => Browser.FindElements(By.CssSelector("[data-status='succeeded']")).FirstOrDefault(), "the run finished");
        ui.Until(() => Browser.FindElement(By.Id("output")).Text == "shipped" ? "" : null, "the run's output");
        var events = await ReadEventsAsync(runId);
        var received = events.Single(e => (string?)e["name"] == "signal_received");
        var signalled = received["value"]?["payload"];
        Assert.True(signalled is JsonObject, string.Join("\n", events.Select(e => e.ToJsonString())));
        Assert.Equal("ui-spec", (string?)signalled["by"]);
        Assert.True((bool?)signalled["approved"]);
    }

    [SkippableFact]
    public async Task A_run_whose_output_is_markup_is_shown_as_text()
    {
        Skip.If(ui.Missing is not null, $"Needs {ui.Missing}.");
        ui.SignIn();
        const string script = "<script>alert(1)</script><img src=x onerror=\"window.ttaOwned=1\">";
        var run = await ui.PostRunAsync(new JsonObject { ["workflow"] = "echo", ["input"] = new JsonObject { ["text"] = script } }.ToJsonString());
        Browser.Navigate().GoToUrl($"{ui.Url}/ui#/run/{run["runId"]}");

        var output = ui.Until(() => Browser.FindElements(By.Id("output")).Select(o => o.Text).FirstOrDefault(t => t.Contains("alert")), "the output");
        Assert.Equal(script, output);
        Assert.Empty(Browser.FindElements(By.CssSelector("main script, main img")));
        Assert.Null(((IJavaScriptExecutor)Browser).ExecuteScript("return window.ttaOwned;"));
        Assert.Throws<NoAlertPresentException>(() => Browser.SwitchTo().Alert());
        Browser.Navigate().GoToUrl($"{ui.Url}/ui#/runs");
        ui.Until(() => Browser.FindElements(By.Id($"run-{run["runId"]}")).FirstOrDefault(), "the run in the list");
        Assert.Empty(Browser.FindElements(By.CssSelector("main script, main img")));
    }

    [SkippableFact]
    public async Task Without_the_token_the_page_and_its_data_are_refused_and_the_page_sends_no_inline_script()
    {
        Skip.If(ui.Missing is not null, $"Needs {ui.Missing}.");
        Browser.Manage().Cookies.DeleteAllCookies();
        Browser.Navigate().GoToUrl($"{ui.Url}/ui");
        Assert.Contains("401", Browser.FindElement(By.TagName("body")).Text);
        Assert.Empty(Browser.Manage().Cookies.AllCookies);
        Browser.Navigate().GoToUrl($"{ui.Url}/ui?token=not-the-token");
        Assert.Contains("401", Browser.FindElement(By.TagName("body")).Text);
        Assert.Empty(Browser.Manage().Cookies.AllCookies);
        ui.Screenshot("refused");

        using var anonymous = new HttpClient { BaseAddress = new Uri(ui.Url) };
        foreach (var path in new[] { "/ui", "/ui?token=wrong", "/ui/assets/app.js", "/runs", "/runs/feed", "/ui/api/workflows" })
            Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync(path)).StatusCode);
        var forged = new HttpRequestMessage(HttpMethod.Get, "/runs");
        forged.Headers.Add("Cookie", "tta_ui=" + new string('0', 64));
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.SendAsync(forged)).StatusCode);

        ui.SignIn();
        Assert.EndsWith("/ui", Browser.Url.Split('#')[0]);
        var cookie = Assert.Single(Browser.Manage().Cookies.AllCookies);
        Assert.True(cookie.IsHttpOnly);
        Assert.DoesNotContain(InspectorBrowserFixture.ApiToken, cookie.Value);
        ui.Until(() => Browser.FindElements(By.Id("runs")).FirstOrDefault(), "the runs page after signing in");

        using var page = await ui.Api.GetAsync("/ui");
        var policy = string.Join(";", page.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("script-src 'self'", policy);
        Assert.DoesNotContain("unsafe-inline", policy);
        var html = await page.Content.ReadAsStringAsync();
        Assert.DoesNotMatch("<script(?![^>]*\\bsrc=)", html);
    }

    private async Task<List<JsonNode>> ReadEventsAsync(string runId)
    {
        using var response = await ui.Api.GetAsync($"/runs/{runId}/events", HttpCompletionOption.ResponseHeadersRead);
        var text = await response.Content.ReadAsStringAsync();
        return text.Split('\n').Where(l => l.StartsWith("data: ")).Select(l => JsonNode.Parse(l[6..])!).ToList();
    }
}
