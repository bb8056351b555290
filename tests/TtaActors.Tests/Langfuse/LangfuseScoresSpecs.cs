using System.Text;
using TtaActors.Telemetry.Export.Langfuse;
using TtaActors.Tests.Llm;

namespace TtaActors.Tests.Langfuse;

/// <summary>Scores through Langfuse's ingestion endpoint, which answers 207 and reports failures in <c>errors[]</c>.</summary>
public class LangfuseScoresSpecs
{
    private const string PublicKey = "pk-lf-score-spec";
    private const string SecretKey = "sk-lf-score-spec-secret";

    [Fact]
    public async Task Score_should_be_sent_as_a_score_create_event_with_basic_auth()
    {
        using var server = new ScriptedHttpServer(request => new ScriptedResponse(207,
            $$"""{"successes":[{"id":"{{request.Json.GetProperty("batch")[0].GetProperty("id").GetString()}}","status":201}],"errors":[]}"""));
        using var http = new HttpClient();
        var scores = new LangfuseScores(Options(server.BaseUrl), http);

        await scores.CreateAsync(new LangfuseScore("0af7651916cd43dd8448eb211c80319c", "helpfulness", 0.8) { Comment = "clear plan", ObservationId = "b7ad6b7169203331" });

        var request = Assert.Single(server.Requests);
        Assert.Equal("/api/public/ingestion", request.Path);
        Assert.Equal("Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{PublicKey}:{SecretKey}")), request.Headers["Authorization"]);
        var e = request.Json.GetProperty("batch")[0];
        Assert.Equal("score-create", e.GetProperty("type").GetString());
        Assert.True(DateTimeOffset.TryParse(e.GetProperty("timestamp").GetString(), out _));
        var body = e.GetProperty("body");
        Assert.Equal("0af7651916cd43dd8448eb211c80319c", body.GetProperty("traceId").GetString());
        Assert.Equal("b7ad6b7169203331", body.GetProperty("observationId").GetString());
        Assert.Equal("helpfulness", body.GetProperty("name").GetString());
        Assert.Equal(0.8, body.GetProperty("value").GetDouble());
        Assert.Equal("NUMERIC", body.GetProperty("dataType").GetString());
        Assert.Equal("clear plan", body.GetProperty("comment").GetString());
    }

    [Fact]
    public async Task Errors_in_a_207_answer_should_fail_with_langfuse_own_message()
    {
        using var server = new ScriptedHttpServer(_ => new ScriptedResponse(207,
            """{"successes":[],"errors":[{"id":"e1","status":400,"message":"Invalid request data","error":"value must be a number"}]}"""));
        using var http = new HttpClient();
        var scores = new LangfuseScores(Options(server.BaseUrl), http);

        var error = await Assert.ThrowsAsync<LangfuseIngestionException>(() =>
            scores.CreateAsync(new LangfuseScore("0af7651916cd43dd8448eb211c80319c", "verdict", "pass")));

        Assert.Contains("Invalid request data", error.Message);
        Assert.Contains("status 400", error.Message);
        Assert.Equal("CATEGORICAL", Assert.Single(server.Requests).Json.GetProperty("batch")[0].GetProperty("body").GetProperty("dataType").GetString());
    }

    [Fact]
    public async Task Bad_keys_should_fail_naming_the_variables_without_the_secret()
    {
        using var server = new ScriptedHttpServer(_ => new ScriptedResponse(401, """{"message":"Invalid credentials"}"""));
        using var http = new HttpClient();
        var scores = new LangfuseScores(Options(server.BaseUrl), http);

        var error = await Assert.ThrowsAsync<LangfuseIngestionException>(() =>
            scores.CreateAsync(new LangfuseScore("0af7651916cd43dd8448eb211c80319c", "ok", true)));

        Assert.Contains("LANGFUSE_SECRET_KEY", error.Message);
        Assert.DoesNotContain(SecretKey, error.Message);
    }

    private static LangfuseExporterOptions Options(string host) =>
        new() { Host = new Uri(host), PublicKey = PublicKey, SecretKey = SecretKey };
}
