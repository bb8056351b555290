using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using Akka.Event;
using Akka.TestKit.Xunit2;
using TtaActors.Actors.Execution;
using TtaActors.Actors.Integrations.Supabase;
using TtaActors.Runtime.Workflows;
using TtaActors.Telemetry;
using TtaActors.Tests.Support;

namespace TtaActors.Tests.Integrations;

/// <summary>
/// supabase: steps against a loopback server that answers as PostgREST does (rows as JSON arrays, Content-Range
/// totals, error bodies with code, message, details and hint): the exact requests, the outputs, the errors, the spans,
/// and that neither the key nor a hostile value ever goes where it must not.
/// </summary>
public sealed class SupabaseStepSpecs : TestKit, IDisposable
{
    private const string Key = "sb-secret-key-7f3a9c2e51d84b60";
    private readonly LoopbackServer _postgrest;
    private readonly HttpClient _http = new();
    private readonly SpanRecorder _spans = new();
    private Func<LoopbackRequest, (int Status, string Body, Dictionary<string, string>? Headers)> _answer =
        _ => (200, "[]", null);

    public SupabaseStepSpecs() : base("akka.loglevel = INFO")
    {
        _postgrest = new LoopbackServer(async (request, response, _) =>
        {
            var (status, body, headers) = _answer(request);
            await LoopbackServer.Write(response, status, body, "application/json; charset=utf-8", headers);
        });
    }

    private Func<string, string?> Environment => name => name switch
    {
        "SUPABASE_URL" => _postgrest.BaseUrl,
        "SUPABASE_KEY" => Key,
        _ => null,
    };

    private async Task<WorkflowRunResult> RunAsync(string yaml, JsonNode? input)
    {
        var (document, problems) = WorkflowFileParser.Parse(yaml, "data.yaml", "data");
        Assert.Empty(problems);
        var services = new WorkflowStepServices(_http, Environment, (definition, name) => WorkflowGraph.Materialize(Sys, definition, name));
        var graph = WorkflowGraph.Materialize(Sys, WorkflowFileBuilder.Build(document!, services), document!.Name);
        return await graph.RunAsync(input, options: new RunOptions { Timeout = TimeSpan.FromSeconds(30) });
    }

    private static IReadOnlyList<WorkflowProblem> Problems(string yaml) => WorkflowFileParser.Parse(yaml, "data.yaml", "data").Problems;

    [Fact]
    public async Task A_select_sends_columns_filters_order_and_limits_as_PostgREST_reads_them_with_the_key_in_both_headers()
    {
        _answer = _ => (200, """[{"id":1,"status":"open"},{"id":2,"status":"open"}]""", null);
        var result = await RunAsync("""
            - name: open-orders
              supabase:
                select: orders
                columns: [id, status]
                filter:
                  - {column: status, op: eq, value: "{{ input.status }}"}
                  - {column: total, op: gte, value: 10}
                  - {column: id, op: in, value: "{{ input.ids }}"}
                  - {column: deleted_at, op: is, value: null}
                  - {column: region, op: eq, value: eu, not: true}
                order: [{column: created_at, desc: true, nulls: last}, id]
                limit: 5
                offset: 10
            """, JsonNode.Parse("""{"status": "open", "ids": [1, "2"]}"""));

        Assert.True(result.Succeeded, result.Failure?.ToString());
        var request = Assert.Single(_postgrest.Requests);
        Assert.Equal("GET", request.Method);
        Assert.Equal("/rest/v1/orders?select=id,status&status=eq.open&total=gte.10&id=in.%28%221%22%2C%222%22%29&deleted_at=is.null"
            + "&region=not.eq.eu&order=created_at.desc.nullslast,id.asc&limit=5&offset=10", request.Target);
        Assert.Equal(Key, request.Headers["apikey"]);
        Assert.Equal("Bearer " + Key, request.Headers["Authorization"]);
        Assert.Equal("application/json", request.Headers["Accept"]);
        Assert.False(request.Headers.ContainsKey("Prefer"));
        Assert.Equal("""[{"id":1,"status":"open"},{"id":2,"status":"open"}]""", JsonData.ToNode(result.Output)!.ToJsonString());
    }

    [Fact]
    public async Task The_call_is_a_client_span_per_the_database_conventions_under_the_primitive_span_and_no_span_holds_the_key_or_a_value()
    {
        _answer = _ => (200, """[{"id":1}]""", null);
        var result = await RunAsync("""
            - name: open-orders
              supabase:
                select: orders
                schema: sales
                filter: [{column: customer, op: eq, value: "{{ input }}"}]
            """, JsonValue.Create("alice@example.com"));
        Assert.True(result.Succeeded, result.Failure?.ToString());
        Assert.Equal("sales", Assert.Single(_postgrest.Requests).Headers["Accept-Profile"]);

        var trace = _spans.ForTrace(result.TraceId);
        var step = SpanTree.Single(trace, "primitive.open-orders");
        Assert.Equal("SupabasePrimitive", step.GetTagItem(TelemetryNames.Attributes.PrimitiveType));
        var client = SpanTree.Single(trace, "select orders");
        Assert.Equal(step.SpanId, client.ParentSpanId);
        Assert.Equal(ActivityKind.Client, client.Kind);
        Assert.Equal("postgresql", client.GetTagItem("db.system.name"));
        Assert.Equal("orders", client.GetTagItem("db.collection.name"));
        Assert.Equal("select", client.GetTagItem("db.operation.name"));
        Assert.Equal("sales", client.GetTagItem("db.namespace"));
        Assert.Equal("127.0.0.1", client.GetTagItem("server.address"));
        Assert.Equal(_postgrest.Port, client.GetTagItem("server.port"));
        Assert.Equal(1, client.GetTagItem("db.response.returned_rows"));
        Assert.Equal(200, client.GetTagItem("http.response.status_code"));
        AssertNowhere(trace, Key);
        AssertNowhere(trace, "alice@example.com");
    }

    [Fact]
    public async Task An_insert_posts_the_rows_and_asks_for_them_back()
    {
        _answer = _ => (201, """[{"id":7,"title":"hello"}]""", null);
        var result = await RunAsync("""
            - supabase:
                insert: notes
                body: {title: "{{ input.title }}", tags: ["a"]}
            """, JsonNode.Parse("""{"title": "hello"}"""));
        Assert.True(result.Succeeded, result.Failure?.ToString());
        var request = Assert.Single(_postgrest.Requests);
        Assert.Equal("POST", request.Method);
        Assert.Equal("/rest/v1/notes", request.Target);
        Assert.Equal("return=representation", request.Headers["Prefer"]);
        Assert.StartsWith("application/json", request.Headers["Content-Type"]);
        Assert.Equal("""{"title":"hello","tags":["a"]}""", request.Text);
        Assert.Equal(7, (int)JsonData.ToNode(result.Output)![0]!["id"]!);
    }

    [Fact]
    public async Task An_insert_without_a_body_sends_the_input_and_return_rows_false_asks_for_nothing()
    {
        _answer = _ => (201, "", null);
        var result = await RunAsync("""
            - supabase: {insert: notes, return_rows: false}
            """, JsonNode.Parse("""[{"title": "a"}, {"title": "b"}]"""));
        Assert.True(result.Succeeded, result.Failure?.ToString());
        var request = Assert.Single(_postgrest.Requests);
        Assert.Equal("return=minimal", request.Headers["Prefer"]);
        Assert.Equal("""[{"title":"a"},{"title":"b"}]""", request.Text);
        Assert.Null(result.Output);
    }

    [Fact]
    public async Task An_upsert_merges_duplicates_on_the_named_columns()
    {
        _answer = _ => (201, """[{"sku":"A1","qty":3}]""", null);
        var result = await RunAsync("""
            - supabase: {upsert: stock, on_conflict: [sku, warehouse]}
            """, JsonNode.Parse("""{"sku": "A1", "warehouse": "w1", "qty": 3}"""));
        Assert.True(result.Succeeded, result.Failure?.ToString());
        var request = Assert.Single(_postgrest.Requests);
        Assert.Equal("POST", request.Method);
        Assert.Equal("/rest/v1/stock?on_conflict=sku,warehouse", request.Target);
        Assert.Equal("resolution=merge-duplicates,return=representation", request.Headers["Prefer"]);

        _answer = _ => (201, "[]", null);
        Assert.True((await RunAsync("- supabase: {upsert: stock, ignore_duplicates: true}", JsonNode.Parse("{}"))).Succeeded);
        Assert.Equal("resolution=ignore-duplicates,return=representation", _postgrest.Requests.Last().Headers["Prefer"]);
    }

    [Fact]
    public async Task An_update_patches_the_filtered_rows_and_a_delete_deletes_them()
    {
        _answer = _ => (200, """[{"id":3,"status":"done"}]""", null);
        var update = await RunAsync("""
            - supabase:
                update: tasks
                body: {status: done}
                filter: [{column: id, op: eq, value: "{{ input.id }}"}]
            """, JsonNode.Parse("""{"id": 3}"""));
        Assert.True(update.Succeeded, update.Failure?.ToString());
        var patch = Assert.Single(_postgrest.Requests);
        Assert.Equal("PATCH", patch.Method);
        Assert.Equal("/rest/v1/tasks?id=eq.3", patch.Target);
        Assert.Equal("""{"status":"done"}""", patch.Text);

        var delete = await RunAsync("""
            - supabase:
                delete: tasks
                filter: [{column: id, op: lt, value: "{{ input.id }}"}]
                return_rows: false
            """, JsonNode.Parse("""{"id": 3}"""));
        Assert.True(delete.Succeeded, delete.Failure?.ToString());
        var deleted = _postgrest.Requests.Last();
        Assert.Equal("DELETE", deleted.Method);
        Assert.Equal("/rest/v1/tasks?id=lt.3", deleted.Target);
        Assert.Equal("return=minimal", deleted.Headers["Prefer"]);
        Assert.Empty(deleted.Body);
    }

    [Theory]
    [InlineData("update: tasks\n    body: {status: done}")]
    [InlineData("delete: tasks")]
    public void An_update_or_delete_without_a_filter_is_refused_unless_allowed(string operation)
    {
        var refused = Problems($"- supabase:\n    {operation}\n");
        Assert.Contains(refused, p => p.Message.Contains("without a filter changes every row of 'tasks'") && p.Message.Contains("allow_unfiltered"));
        Assert.Empty(Problems($"- supabase:\n    {operation}\n    allow_unfiltered: true\n"));
    }

    [Fact]
    public async Task An_rpc_posts_the_arguments_to_the_function()
    {
        _answer = _ => (200, "42", null);
        var result = await RunAsync("""
            - supabase:
                rpc: next_ticket
                body: {queue: "{{ input.queue }}"}
            """, JsonNode.Parse("""{"queue": "support"}"""));
        Assert.True(result.Succeeded, result.Failure?.ToString());
        var request = Assert.Single(_postgrest.Requests);
        Assert.Equal("POST", request.Method);
        Assert.Equal("/rest/v1/rpc/next_ticket", request.Target);
        Assert.Equal("""{"queue":"support"}""", request.Text);
        Assert.Equal(42, (int)JsonData.ToNode(result.Output)!);
        var span = SpanTree.Single(_spans.ForTrace(result.TraceId), "rpc next_ticket");
        Assert.Equal("next_ticket", span.GetTagItem("db.stored_procedure.name"));
        Assert.Equal("rpc", span.GetTagItem("db.operation.name"));
    }

    [Fact]
    public async Task A_count_reads_the_total_from_Content_Range()
    {
        _answer = _ => (200, """[{"id":1},{"id":2}]""", new Dictionary<string, string> { ["Content-Range"] = "0-1/42" });
        var result = await RunAsync("- supabase: {select: orders, count: exact, limit: 2}", null);
        Assert.True(result.Succeeded, result.Failure?.ToString());
        Assert.Equal("count=exact", Assert.Single(_postgrest.Requests).Headers["Prefer"]);
        var output = JsonData.ToNode(result.Output)!;
        Assert.Equal(42, (long)output["count"]!);
        Assert.Equal(2, output["rows"]!.AsArray().Count);
        Assert.Null(SupabaseClient.TotalFrom("*/*"));
        Assert.Equal(0, SupabaseClient.TotalFrom("*/0"));
    }

    [Fact]
    public async Task A_PostgREST_error_becomes_the_steps_error_with_code_message_details_and_hint_and_never_the_key()
    {
        _answer = _ => (400, """{"code":"23502","details":"Failing row contains (null, foo).","hint":"Give every row an id.","message":"null value in column \"id\" of relation \"notes\" violates not-null constraint"}""", null);
        var logs = CreateTestProbe();
        Sys.EventStream.Subscribe(logs.Ref, typeof(LogEvent));
        var result = await RunAsync("""
            - name: save-note
              supabase: {insert: notes}
            """, JsonNode.Parse("""{"title": "foo"}"""));

        Assert.False(result.Succeeded);
        var message = result.Failure!.Message;
        Assert.Equal(typeof(SupabaseException).FullName, result.Failure.ErrorType);
        Assert.Contains("Supabase insert on 'notes' failed with 400 (23502): null value in column \"id\" of relation \"notes\" violates not-null constraint", message);
        Assert.Contains("Details: Failing row contains (null, foo).", message);
        Assert.Contains("Hint: Give every row an id.", message);
        Assert.Contains("supabase step 'save-note' (data.yaml:1:3)", message);
        Assert.DoesNotContain(Key, result.Failure.ToString());

        var trace = _spans.ForTrace(result.TraceId);
        var client = SpanTree.Single(trace, "insert notes");
        Assert.Equal(ActivityStatusCode.Error, client.Status);
        Assert.Equal("23502", client.GetTagItem("db.response.status_code"));
        Assert.Equal("23502", client.GetTagItem("error.type"));
        AssertNowhere(trace, Key);
        foreach (var log in logs.ReceiveWhile(TimeSpan.FromMilliseconds(200), _ => true)) Assert.DoesNotContain(Key, log.ToString());
    }

    [Fact]
    public async Task A_missing_relation_and_a_body_that_is_not_PostgRESTs_still_say_what_happened()
    {
        _answer = _ => (404, """{"code":"42P01","details":null,"hint":null,"message":"relation \"public.nope\" does not exist"}""", null);
        var missing = await RunAsync("- supabase: {select: nope}", null);
        Assert.Contains("Supabase select on 'nope' failed with 404 (42P01): relation \"public.nope\" does not exist", missing.Failure!.Message);
        Assert.DoesNotContain("Details", missing.Failure.Message);

        _answer = _ => (502, "<html>Bad gateway</html>", null);
        var proxy = await RunAsync("- supabase: {select: orders}", null);
        Assert.Contains("failed with 502: <html>Bad gateway</html>", proxy.Failure!.Message);
    }

    [Theory]
    [InlineData("open&select=password")]
    [InlineData("x#fragment")]
    [InlineData("../../auth/v1/admin/users?")]
    [InlineData("a b%2F..%2F")]
    [InlineData("eq.1&or=(id.gt.0)")]
    public async Task A_hostile_filter_value_stays_one_percent_encoded_value_of_its_filter(string hostile)
    {
        _answer = _ => (200, "[]", null);
        var result = await RunAsync("""
            - supabase:
                select: orders
                filter: [{column: status, op: eq, value: "{{ input }}"}]
            """, JsonValue.Create(hostile));
        Assert.True(result.Succeeded, result.Failure?.ToString());
        var request = Assert.Single(_postgrest.Requests);
        Assert.Equal("/rest/v1/orders", request.Path);
        Assert.Equal(["select", "status"], request.Query.Select(q => q.Key));
        Assert.Equal("eq." + Uri.EscapeDataString(hostile), request.Query[1].Value);
        Assert.Equal("eq." + hostile, Uri.UnescapeDataString(request.Query[1].Value));
    }

    [Fact]
    public async Task Values_of_in_are_quoted_so_commas_parentheses_and_quotes_stay_inside_one_value()
    {
        _answer = _ => (200, "[]", null);
        var result = await RunAsync("""
            - supabase:
                select: orders
                filter: [{column: tag, op: in, value: "{{ input }}"}]
            """, JsonNode.Parse("""["a,b", "c)\"d", "e\\f"]"""));
        Assert.True(result.Succeeded, result.Failure?.ToString());
        var value = Uri.UnescapeDataString(Assert.Single(_postgrest.Requests).Query[1].Value);
        Assert.Equal("in.(\"a,b\",\"c)\\\"d\",\"e\\\\f\")", value);
    }

    [Theory]
    [InlineData("is", "\"maybe\"", "must be one of null, true, false, unknown")]
    [InlineData("eq", "null", "is missing (null)")]
    [InlineData("eq", "{\"a\": 1}", "is an object")]
    [InlineData("in", "null", "is missing; give a list")]
    public async Task A_value_an_operator_cannot_take_fails_the_step_and_nothing_is_sent(string op, string value, string expected)
    {
        var result = await RunAsync("""
            - name: pick
              supabase:
                select: orders
                filter: [{column: status, op: OP, value: "{{ input.v }}"}]
            """.Replace("OP", op), JsonNode.Parse("{\"v\": " + value + "}"));
        Assert.False(result.Succeeded);
        Assert.Contains(expected, result.Failure!.Message);
        Assert.Contains("supabase step 'pick'", result.Failure.Message);
        Assert.Empty(_postgrest.Requests);
    }

    [Theory]
    [InlineData("select: \"orders?select=*\"", "table 'orders?select=*' is not a plain identifier")]
    [InlineData("select: \"../auth\"", "table '../auth' is not a plain identifier")]
    [InlineData("rpc: \"fn/../x\"", "function 'fn/../x' is not a plain identifier")]
    [InlineData("select: orders\n    columns: \"id,secret&x=1\"", "column 'secret&x=1' is not a plain identifier")]
    [InlineData("select: orders\n    filter: [{column: id, op: cs, value: 1}]", "Filter operator 'cs' on 'id' is not one of eq, neq")]
    [InlineData("select: orders\n    filter: [{column: \"id=eq.1&x\", op: eq, value: 1}]", "filter column 'id=eq.1&x' is not a plain identifier")]
    [InlineData("select: orders\n    body: {a: 1}", "A select sends no body")]
    [InlineData("select: orders\n    count: all", "count must be one of exact, planned, estimated")]
    [InlineData("select: orders\n    insert: orders", "give it exactly one operation")]
    [InlineData("from: orders", "Unknown key 'from' in supabase")]
    public void Identifiers_operators_and_options_are_checked_where_the_file_writes_them(string body, string expected)
    {
        var problems = Problems($"- supabase:\n    {body}\n");
        Assert.Contains(problems, p => p.Message.Contains(expected));
        Assert.All(problems, p => Assert.Equal("data.yaml", p.At.File));
    }

    [Fact]
    public void Without_SUPABASE_URL_the_file_is_valid_but_cannot_be_built_and_the_problem_names_the_variables()
    {
        var (document, _) = WorkflowFileParser.Parse("- supabase: {select: orders}", "data.yaml", "data");
        var services = new WorkflowStepServices(_http, _ => null, (_, _) => throw new InvalidOperationException());
        var error = Assert.Throws<WorkflowFileException>(() => WorkflowFileBuilder.Build(document!, services));
        Assert.Contains("SUPABASE_URL is not set", Assert.Single(error.Problems).Message);
        Assert.Contains("SUPABASE_KEY", error.Problems[0].Message);

        var noKey = new WorkflowStepServices(_http, n => n == "SUPABASE_URL" ? "https://x.supabase.co" : null, (_, _) => throw new InvalidOperationException());
        Assert.Contains("no key is", Assert.Throws<WorkflowFileException>(() => WorkflowFileBuilder.Build(document!, noKey)).Problems[0].Message);
    }

    [Fact]
    public void The_key_is_the_first_of_SUPABASE_KEY_SUPABASE_SERVICE_ROLE_KEY_and_SUPABASE_ANON_KEY_and_is_never_printed()
    {
        var variables = new Dictionary<string, string> { ["SUPABASE_URL"] = "https://x.supabase.co", ["SUPABASE_ANON_KEY"] = "anon-key-1234", ["SUPABASE_SERVICE_ROLE_KEY"] = "service-key-1234" };
        var options = SupabaseOptions.FromEnvironment(n => variables.GetValueOrDefault(n))!;
        Assert.Equal("service-key-1234", options.Key);
        Assert.DoesNotContain("service-key", options.ToString());
        variables["SUPABASE_KEY"] = "main-key-1234";
        Assert.Equal("main-key-1234", SupabaseOptions.FromEnvironment(n => variables.GetValueOrDefault(n))!.Key);
        variables.Remove("SUPABASE_KEY");
        variables.Remove("SUPABASE_SERVICE_ROLE_KEY");
        Assert.Equal("anon-key-1234", SupabaseOptions.FromEnvironment(n => variables.GetValueOrDefault(n))!.Key);
        variables["SUPABASE_URL"] = "https://x.supabase.co/?a=1";
        Assert.Throws<SupabaseConfigurationException>(() => SupabaseOptions.FromEnvironment(n => variables.GetValueOrDefault(n)));
    }

    [Fact]
    public async Task A_response_above_MaxResponseBytes_fails_and_one_at_the_limit_is_read()
    {
        var body = "[" + new string(' ', 98) + "]";
        _answer = _ => (200, body, null);
        var options = new SupabaseOptions { Url = new Uri(_postgrest.BaseUrl), Key = Key, MaxResponseBytes = 100 };
        var client = new SupabaseClient(_http, options);
        var query = new SupabaseQuery { Operation = SupabaseOperation.Select, Target = "orders" };
        Assert.Empty((await client.ExecuteAsync(query, [], null)).Data!.AsArray());

        body = "[" + new string(' ', 99) + "]";
        var error = await Assert.ThrowsAsync<Actors.Integrations.ResponseTooLargeException>(() => client.ExecuteAsync(query, [], null));
        Assert.Contains("more than the limit of 100 bytes", error.Message);
    }

    [Fact]
    public async Task The_CSharp_primitive_takes_filter_values_from_the_input_and_names_its_type()
    {
        _answer = _ => (200, """[{"id":5}]""", null);
        var client = new SupabaseClient(_http, new SupabaseOptions { Url = new Uri(_postgrest.BaseUrl + "/"), Key = Key });
        var primitive = new SupabasePrimitive(client, new SupabaseQuery
        {
            Operation = SupabaseOperation.Select,
            Target = "orders",
            Filters = [new SupabaseFilter("id", "eq", (input, _) => JsonValue.Create((int)input!))],
        }, "by-id");
        var graph = WorkflowGraph.Materialize(Sys, primitive, "orders-by-id");
        var result = await graph.RunAsync(5);
        Assert.True(result.Succeeded, result.Failure?.ToString());
        Assert.Equal("/rest/v1/orders?select=*&id=eq.5", Assert.Single(_postgrest.Requests).Target);
        Assert.Equal("SupabasePrimitive", primitive.TypeName);
        Assert.Throws<ArgumentException>(() => new SupabasePrimitive(client, new SupabaseQuery { Operation = SupabaseOperation.Delete, Target = "orders" }));
    }

    [Fact]
    public async Task A_slow_answer_fails_at_the_steps_timeout()
    {
        var release = new TaskCompletionSource();
        using var slow = new LoopbackServer(async (_, response, stop) =>
        {
            await release.Task.WaitAsync(stop);
            await LoopbackServer.Write(response, 200, "[]");
        });
        var (document, _) = WorkflowFileParser.Parse("- supabase: {select: orders, timeout_seconds: 0.2}", "data.yaml", "data");
        var services = new WorkflowStepServices(_http, n => n == "SUPABASE_URL" ? slow.BaseUrl : n == "SUPABASE_KEY" ? Key : null,
            (definition, name) => WorkflowGraph.Materialize(Sys, definition, name));
        var result = await WorkflowGraph.Materialize(Sys, WorkflowFileBuilder.Build(document!, services), "slow").RunAsync(null);
        release.SetResult();
        Assert.False(result.Succeeded);
        Assert.Equal(typeof(TimeoutException).FullName, result.Failure!.ErrorType);
        Assert.Contains("did not answer within 0.2 s", result.Failure.Message);
    }

    /// <summary>The text appears in no span's name, tag, status or event of the trace.</summary>
    internal static void AssertNowhere(IReadOnlyList<Activity> trace, string text)
    {
        Assert.NotEmpty(trace);
        foreach (var span in trace)
        {
            Assert.DoesNotContain(text, span.DisplayName);
            Assert.DoesNotContain(text, span.StatusDescription ?? "");
            foreach (var tag in span.TagObjects) Assert.DoesNotContain(text, tag.Value?.ToString() ?? "");
            foreach (var e in span.Events)
            {
                foreach (var tag in e.Tags) Assert.DoesNotContain(text, tag.Value?.ToString() ?? "");
            }
        }
    }

    public new void Dispose()
    {
        _postgrest.Dispose();
        _spans.Dispose();
        _http.Dispose();
        base.Dispose();
    }
}
