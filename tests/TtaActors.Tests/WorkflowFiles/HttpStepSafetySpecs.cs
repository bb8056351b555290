using System.Text.Json.Nodes;
using Akka.TestKit.Xunit2;
using TtaActors.Actors.Execution;
using TtaActors.Runtime.Workflows;
using TtaActors.Tests.Support;

namespace TtaActors.Tests.WorkflowFiles;

/// <summary>
/// What an http: step sends when its values are hostile: a loopback server records every request, and a value never
/// adds a header, a request, a path segment or a query, nor sends the request anywhere the template does not fix.
/// </summary>
public sealed class HttpStepSafetySpecs() : TestKit("akka.loglevel = WARNING")
{
    private readonly CapturingHttpServer _upstream = new();
    private readonly HttpClient _http = new();

    private async Task<WorkflowRunResult> RunAsync(string yaml, JsonNode? input, Func<string, string?>? environment = null)
    {
        var (document, problems) = WorkflowFileParser.Parse(yaml.Replace("%UPSTREAM%", _upstream.BaseUrl), "http.yaml", "http");
        Assert.Empty(problems);
        var services = new WorkflowStepServices(_http, environment ?? (_ => null), (definition, name) => WorkflowGraph.Materialize(Sys, definition, name));
        var graph = WorkflowGraph.Materialize(Sys, WorkflowFileBuilder.Build(document!, services), document!.Name);
        return await graph.RunAsync(input, options: new RunOptions { Timeout = TimeSpan.FromSeconds(30) });
    }

    private static JsonNode Text(string value) => JsonValue.Create(value);

    [Theory]
    [InlineData("x\r\nX-Injected: 1", "CR at position 2")]
    [InlineData("x\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: evil", "CR at position 2")]
    [InlineData("x\nX-Injected: 1", "LF at position 2")]
    [InlineData("x\0y", "NUL at position 2")]
    [InlineData("x\u007fy", "U+007F at position 2")]
    [InlineData("x\u0085X-Injected: 1", "U+0085 at position 2")]
    [InlineData("\u001b[31m", "U+001B at position 1")]
    public async Task A_header_value_with_a_control_character_fails_the_step_and_nothing_is_sent(string value, string what)
    {
        var result = await RunAsync("""
            - name: call-tickets
              http:
                url: "%UPSTREAM%/tickets"
                headers:
                  X-Ticket: "{{ input }}"
            """, Text(value));

        Assert.False(result.Succeeded);
        Assert.Contains("Header 'X-Ticket' of the http step 'call-tickets' (http.yaml:1:3)", result.Failure!.Message);
        Assert.Contains(what, result.Failure.Message);
        Assert.Contains("the request was not sent", result.Failure.Message);
        Assert.Empty(_upstream.Requests);
    }

    [Fact]
    public async Task A_control_character_from_an_environment_variable_is_refused_without_repeating_the_secret()
    {
        var result = await RunAsync("""
            - http:
                url: "%UPSTREAM%/tickets"
                headers: {Authorization: "Bearer {{ env.TOKEN }}"}
            """, null, name => name == "TOKEN" ? "s3cret\r\nX-Injected: 1" : null);
        Assert.False(result.Succeeded);
        Assert.Contains("Header 'Authorization'", result.Failure!.Message);
        Assert.DoesNotContain("s3cret", result.Failure.Message);
        Assert.Empty(_upstream.Requests);
    }

    [Fact]
    public async Task A_header_value_with_a_tab_and_text_is_sent_as_it_is()
    {
        var result = await RunAsync("""
            - http:
                url: "%UPSTREAM%/tickets"
                headers: {X-Ticket: "{{ input }}"}
            """, Text("a\tb c"));
        Assert.True(result.Succeeded, result.Failure?.ToString());
        var request = Assert.Single(_upstream.Requests);
        Assert.Equal("a\tb c", request.Headers["X-Ticket"]);
    }

    [Fact]
    public void A_header_name_that_is_no_token_is_a_located_problem()
    {
        var (_, problems) = WorkflowFileParser.Parse("- http: {url: \"http://x.test\", headers: {\"X-A\\r\\nX-B\": v, \"a b\": v, \"ok-Name\": v}}\n", "h.yaml", "h");
        Assert.Equal(2, problems.Count);
        Assert.All(problems, p => Assert.Contains("is not a valid HTTP header name", p.Message));
    }

    [Theory]
    [InlineData("a/b", "/api/tickets/a%2Fb")]
    [InlineData("%2e%2e", "/api/tickets/%252e%252e")]
    [InlineData("x y&z=1", "/api/tickets/x%20y%26z%3D1")]
    [InlineData("...", "/api/tickets/...")]
    public async Task A_value_in_the_path_is_one_percent_encoded_segment(string value, string target)
    {
        var result = await RunAsync("""
            - http: {url: "%UPSTREAM%/api/tickets/{{ input }}"}
            """, Text(value));
        Assert.True(result.Succeeded, result.Failure?.ToString());
        Assert.Equal(target, Assert.Single(_upstream.Requests).Target);
    }

    [Theory]
    [InlineData("..", "the path segment '..'")]
    [InlineData(".", "the path segment '.'")]
    [InlineData("../../admin/delete-all?confirm=yes#", "once decoded, holds a '.' or '..' segment")]
    [InlineData("..\\admin", "once decoded, holds a '.' or '..' segment")]
    public async Task A_value_that_could_climb_the_path_is_refused_and_nothing_is_sent(string value, string message)
    {
        var result = await RunAsync("""
            - http: {url: "%UPSTREAM%/api/tickets/{{ input }}"}
            """, Text(value));
        Assert.False(result.Succeeded);
        Assert.Contains(message, result.Failure!.Message);
        Assert.Empty(_upstream.Requests);
    }

    [Fact]
    public async Task A_value_in_the_query_is_one_percent_encoded_value()
    {
        var result = await RunAsync("""
            - http: {url: "%UPSTREAM%/search?q={{ input }}&page=1"}
            """, Text("a&admin=true#frag"));
        Assert.True(result.Succeeded, result.Failure?.ToString());
        Assert.Equal("/search?q=a%26admin%3Dtrue%23frag&page=1", Assert.Single(_upstream.Requests).Target);
    }

    [Fact]
    public async Task A_raw_value_inserts_url_text_but_never_leaves_the_prefix_the_template_fixes()
    {
        const string yaml = """
            - http: {url: "%UPSTREAM%/api/{{ input | raw }}"}
            """;
        var inside = await RunAsync(yaml, Text("tickets/7?expand=all"));
        Assert.True(inside.Succeeded, inside.Failure?.ToString());
        Assert.Equal("/api/tickets/7?expand=all", Assert.Single(_upstream.Requests).Target);

        foreach (var escape in new[] { "../admin", "..%2F..%2Fadmin", "%2e%2e/admin", "./../admin" })
        {
            var outside = await RunAsync(yaml, Text(escape));
            Assert.False(outside.Succeeded, escape);
            Assert.Matches("outside '" + _upstream.BaseUrl + "/api/'|holds a '.' or '..' segment", outside.Failure!.Message);
        }
        var control = await RunAsync(yaml, Text("x\r\nHost: evil"));
        Assert.Contains("space or control character", control.Failure!.Message);
        Assert.Single(_upstream.Requests);
    }

    [Fact]
    public async Task A_raw_value_after_the_host_cannot_change_host_or_port()
    {
        foreach (var escape in new[] { ".evil.test/", ":1/x", "@evil.test/", "0/x" })
        {
            var result = await RunAsync("""
                - http: {url: "%UPSTREAM%{{ input | raw }}"}
                """, Text(escape));
            Assert.False(result.Succeeded, escape);
            Assert.Matches("outside '|not an absolute http", result.Failure!.Message);
        }
        Assert.Empty(_upstream.Requests);
    }

    [Fact]
    public void A_value_in_the_scheme_or_host_must_be_marked_raw_and_raw_is_only_for_urls()
    {
        var (_, problems) = WorkflowFileParser.Parse("""
            - http: {url: "https://{{ input.host }}/x"}
            - http: {url: "{{ input.base }}/x"}
            - http: {url: "{{ input.base | raw }}/x/{{ input.id }}"}
            - template: "{{ input | raw }}"
            - http: {url: "http://x.test/{{ input | upper }}"}
            """, "u.yaml", "u");
        Assert.Equal(4, problems.Count);
        Assert.Contains("'{{ input.host }}' is in the URL's scheme, host or port", problems[0].Message);
        Assert.Contains("'{{ input.host | raw }}'", problems[0].Message);
        Assert.Equal(2, problems[1].At.Line);
        Assert.Equal((4, "'| raw' only applies in an http step's url"), (problems[2].At.Line, problems[2].Message[..42]));
        Assert.Contains("unknown filter 'upper'", problems[3].Message);
    }

    [Fact]
    public void Environment_variables_stay_in_headers_even_with_raw()
    {
        var (_, problems) = WorkflowFileParser.Parse("""
            - http: {url: "http://x.test/{{ env.TOKEN | raw }}"}
            - http: {url: "http://x.test/?t={{ env.TOKEN }}"}
            - http: {url: "http://x.test/", body: {t: "{{ env.TOKEN }}"}}
            """, "e.yaml", "e");
        Assert.Equal([1, 2, 3], problems.Select(p => p.At.Line));
        Assert.All(problems, p => Assert.Contains("environment variables can only be read in http headers", p.Message));
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _upstream.Dispose();
            _http.Dispose();
        }
        base.Dispose(disposing);
    }
}
