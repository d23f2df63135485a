using System.Net;
using System.Text;
using System.Text.Json;
using Qhaigc.Functions.Tests.Infrastructure;
using Qhaigc.Functions.Tests.TestDoubles;
using static Qhaigc.Functions.Tests.Batches.BatchArrangement;

namespace Qhaigc.Functions.Tests.Batches;

/// <summary>
/// Batches the gateway refuses before anything goes upstream: each refusal in Claude's error shape, naming the
/// offending request's <c>custom_id</c>; forged ids answered <c>404</c>, never <c>500</c>; a model only an
/// OpenAI-compatible upstream serves refused with <c>400</c>.
/// </summary>
public sealed class MessageBatchesBadInputTests
{
    private const string Good = """{"model":"fake-text","max_tokens":16,"messages":[{"role":"user","content":"hi"}]}""";

    public static TheoryData<string, string, int, string, string> BadBatches => new()
    {
        { "model missing", Body(("ok-1", Good), ("broken-2", """{"max_tokens":16,"messages":[{"role":"user","content":"hi"}]}""")), 400, "invalid_request_error", "requests.1.params.model: Field required (custom_id 'broken-2')" },
        { "bad message", Body(("bad-role", """{"model":"fake-text","max_tokens":16,"messages":[{"role":"robot","content":"hi"}]}""")), 400, "invalid_request_error", "(custom_id 'bad-role')" },
        { "stream inside a batch", Body(("streams", """{"model":"fake-text","max_tokens":16,"stream":true,"messages":[{"role":"user","content":"hi"}]}""")), 400, "invalid_request_error", "requests.0.params.stream: Message batches do not stream" },
        { "duplicate custom_id", Body(("same", Good), ("same", Good)), 400, "invalid_request_error", "requests.1.custom_id: must be unique within the batch; it is used more than once (custom_id 'same')" },
        { "custom_id with a slash", Body(("a/b", Good)), 400, "invalid_request_error", "requests.0.custom_id: String should match pattern" },
        { "custom_id too long", Body((new string('x', 65), Good)), 400, "invalid_request_error", "requests.0.custom_id: String should match pattern" },
        { "no requests", "{\"requests\":[]}", 400, "invalid_request_error", "requests: List should have at least 1 item" },
        { "not JSON", "{\"requests\":[{\"custom_id\":", 400, "invalid_request_error", "There was an error parsing the body" },
        { "extra field", "{\"priority\":1,\"requests\":[]}", 400, "invalid_request_error", "priority: Extra inputs are not permitted" },
        { "model not allowed", Body(("ok", Good), ("forbidden-1", Good.Replace("fake-text", "secret-model", StringComparison.Ordinal))), 403, "permission_error", "(custom_id 'forbidden-1')" },
        { "model nobody serves", Body(("unserved-1", Good.Replace("fake-text", "nobody-serves-this", StringComparison.Ordinal))), 404, "not_found_error", "(custom_id 'unserved-1')" },
        { "too many models", Body([.. Enumerable.Range(1, 17).Select(static i => ($"m-{i}", Good.Replace("fake-text", $"fake-model-{i}", StringComparison.Ordinal)))]), 400, "invalid_request_error", "requests.16.params.model: a batch uses at most 16 different models" },
        { "a file that is not the key's", Body(("ok", Good), ("cites-1", """{"model":"fake-text","max_tokens":16,"messages":[{"role":"user","content":[{"type":"document","source":{"type":"file","file_id":"file_011CNha8iCJcU1wXNR6q4V8w"}}]}]}""")), 404, "not_found_error", "(custom_id 'cites-1')" },
        { "OpenAI-only model", Body(("ok", Good), ("gpt-1", Good.Replace("fake-text", "gpt-4o", StringComparison.Ordinal))), 400, "invalid_request_error", "custom_id 'gpt-1'): the model 'gpt-4o' is served only by an OpenAI-compatible upstream; message batches need an Anthropic upstream" },
    };

    [Theory]
    [MemberData(nameof(BadBatches))]
    public async Task Create_RefusesBeforeUpstream_NamingTheRequest(string name, string body, int status, string type, string message)
    {
        // Arrange
        await using var scenario = await StartAsync();
        using var http = scenario.Http();

        // Act
        using var response = await http.SendAsync(Post(scenario.Secret, body));

        // Assert
        var error = await ErrorOf(response);
        Assert.True(status == (int)error.Status, $"{name}: {error.Status} {error.Message}");
        Assert.Equal(type, error.Type);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
        Assert.Empty(scenario.Upstream!.Batches.Received);
    }

    [Theory]
    [InlineData("v1/messages/batches/..%2F..%2Fv1%2Fmodels")]
    [InlineData("v1/messages/batches/msgbatch_x%2Fcancel")]
    [InlineData("v1/messages/batches/%23frag")]
    [InlineData("v1/messages/batches/..")]
    [InlineData("v1/messages/batches/a.b/results")]
    public async Task ForgedId_Is404_NeverA500(string path)
    {
        // Arrange
        await using var scenario = await StartAsync();
        using var http = scenario.Http();
        var method = path.EndsWith("/cancel", StringComparison.Ordinal) ? HttpMethod.Post : HttpMethod.Get;

        // Act
        using var response = await http.SendAsync(Call(method, scenario.Secret, path));

        // Assert
        var error = await ErrorOf(response);
        Assert.Equal(HttpStatusCode.NotFound, error.Status);
        Assert.Equal("not_found_error", error.Type);
        Assert.Empty(scenario.Upstream!.Batches.Received);
    }

    [Fact]
    public async Task Create_WithoutKeyOrVersion_IsRefusedInClaudeShape()
    {
        // Arrange
        await using var scenario = await StartAsync();
        using var http = scenario.Http();
        var body = Body(("a", Good));

        // Act
        using var noKey = await http.SendAsync(Post(null, body));
        using var noVersion = await http.SendAsync(RawClient.Messages(scenario.Secret, body, version: null, path: "v1/messages/batches"));

        // Assert
        var missingKey = await ErrorOf(noKey);
        var missingVersion = await ErrorOf(noVersion);
        Assert.Equal((HttpStatusCode.Unauthorized, "authentication_error"), (missingKey.Status, missingKey.Type));
        Assert.Equal((HttpStatusCode.BadRequest, "anthropic-version: header is required"), (missingVersion.Status, missingVersion.Message));
    }

    [Fact]
    public async Task Create_MapsEachModel_KeepingEveryOtherByteOfTheRequest()
    {
        // Arrange
        await using var scenario = await StartAsync(settings => settings["Gateway:Upstreams:anthropic:ModelMap:claude-alias"] = FakeAnthropicUpstream.Models.Text);
        using var http = scenario.Http();
        const string aliased = """{"model":"claude-alias","max_tokens":16,"messages":[{"role":"user","content":"caf\u00e9  spaced"}],"metadata":{"user_id":"u-1"}}""";

        // Act
        using var response = await http.SendAsync(Post(scenario.Secret, Body(("mapped", aliased), ("plain", Good))));

        // Assert
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var sent = Encoding.UTF8.GetString(Assert.Single(scenario.Upstream!.Batches.Received).Body);
        using var document = JsonDocument.Parse(sent);
        var requests = document.RootElement.GetProperty("requests");
        Assert.Equal(FakeAnthropicUpstream.Models.Text, requests[0].GetProperty("params").GetProperty("model").GetString());
        Assert.Contains("\"content\":\"caf\\u00e9  spaced\"", sent, StringComparison.Ordinal);
        Assert.Contains("\"metadata\":{\"user_id\":\"u-1\"}", sent, StringComparison.Ordinal);
        Assert.Contains(Good, sent, StringComparison.Ordinal);
    }

    private static Task<GatewayScenario> StartAsync(Action<Dictionary<string, string?>>? configure = null) =>
        GatewayScenario.StartAsync(GatewayHosts.Standalone, configure: settings =>
        {
            settings["Gateway:Upstreams:anthropic:Models"] = "fake-*,claude-*";
            settings["Gateway:Upstreams:openai:Kind"] = "openai";
            settings["Gateway:Upstreams:openai:BaseUrl"] = "http://127.0.0.1:9/v1";
            settings["Gateway:Upstreams:openai:ApiKey"] = "sk-openai-unused-in-these-tests";
            settings["Gateway:Upstreams:openai:Models"] = "gpt-*";
            configure?.Invoke(settings);
        }, keyModels: ["fake-*", "claude-*", "gpt-*", "nobody-*"]);
}
