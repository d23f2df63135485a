using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Qhaigc.Functions.Tests.Infrastructure;

namespace Qhaigc.Functions.Tests.Api;

/// <summary>Malformed requests over real HTTP: each gets its exact status and error type, never a 500.</summary>
public sealed class MessagesBadInputTests
{
    private const string Valid = """{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}""";

    public static TheoryData<string> Modes => GatewayHosts.Modes;

    /// <summary>name, body, status, error type, expected message (null: any).</summary>
    private static readonly (string Name, string Body, int Status, string Type, string? Message)[] BodyCases =
    [
        ("bad JSON", "{", 400, "invalid_request_error", null),
        ("empty body", "", 400, "invalid_request_error", null),
        ("array body", "[]", 400, "invalid_request_error", "Input should be a valid dictionary"),
        ("missing model", """{"max_tokens":5,"messages":[{"role":"user","content":"hi"}]}""", 400, "invalid_request_error", "model: Field required"),
        ("model not string", """{"model":5,"max_tokens":5,"messages":[{"role":"user","content":"hi"}]}""", 400, "invalid_request_error", "model: Input should be a valid string"),
        ("missing max_tokens", """{"model":"m","messages":[{"role":"user","content":"hi"}]}""", 400, "invalid_request_error", "max_tokens: Field required"),
        ("max_tokens zero", """{"model":"m","max_tokens":0,"messages":[{"role":"user","content":"hi"}]}""", 400, "invalid_request_error", "max_tokens: Input should be greater than or equal to 1"),
        ("max_tokens string", """{"model":"m","max_tokens":"5","messages":[{"role":"user","content":"hi"}]}""", 400, "invalid_request_error", "max_tokens: Input should be a valid integer"),
        ("max_tokens fraction", """{"model":"m","max_tokens":5.5,"messages":[{"role":"user","content":"hi"}]}""", 400, "invalid_request_error", "max_tokens: Input should be a valid integer"),
        ("max_tokens huge", """{"model":"m","max_tokens":1e30,"messages":[{"role":"user","content":"hi"}]}""", 400, "invalid_request_error", null),
        ("missing messages", """{"model":"m","max_tokens":5}""", 400, "invalid_request_error", "messages: Field required"),
        ("messages object", """{"model":"m","max_tokens":5,"messages":{}}""", 400, "invalid_request_error", "messages: Input should be a valid list"),
        ("empty messages", """{"model":"m","max_tokens":5,"messages":[]}""", 400, "invalid_request_error", "messages: at least one message is required"),
        ("message not object", """{"model":"m","max_tokens":5,"messages":["hi"]}""", 400, "invalid_request_error", "messages.0: Input should be a valid dictionary"),
        ("bad role", """{"model":"m","max_tokens":5,"messages":[{"role":"robot","content":"hi"}]}""", 400, "invalid_request_error", "messages.0.role: Input should be 'user' or 'assistant'"),
        ("missing content", """{"model":"m","max_tokens":5,"messages":[{"role":"user"}]}""", 400, "invalid_request_error", "messages.0.content: Field required"),
        ("content number", """{"model":"m","max_tokens":5,"messages":[{"role":"user","content":5}]}""", 400, "invalid_request_error", null),
        ("block without type", """{"model":"m","max_tokens":5,"messages":[{"role":"user","content":[{"text":"hi"}]}]}""", 400, "invalid_request_error", "messages.0.content.0.type: Field required"),
        ("text not string", """{"model":"m","max_tokens":5,"messages":[{"role":"user","content":[{"type":"text","text":7}]}]}""", 400, "invalid_request_error", "messages.0.content.0.text: Input should be a valid string"),
        ("tool_use without input", """{"model":"m","max_tokens":5,"messages":[{"role":"assistant","content":[{"type":"tool_use","id":"t","name":"n"}]}]}""", 400, "invalid_request_error", "messages.0.content.0.input: Field required"),
        ("tool_result without id", """{"model":"m","max_tokens":5,"messages":[{"role":"user","content":[{"type":"tool_result","content":"x"}]}]}""", 400, "invalid_request_error", "messages.0.content.0.tool_use_id: Field required"),
        ("image without source", """{"model":"m","max_tokens":5,"messages":[{"role":"user","content":[{"type":"image"}]}]}""", 400, "invalid_request_error", "messages.0.content.0.source: Field required"),
        ("stream not boolean", """{"model":"m","max_tokens":5,"stream":"yes","messages":[{"role":"user","content":"hi"}]}""", 400, "invalid_request_error", "stream: Input should be a valid boolean"),
        ("system number", """{"model":"m","max_tokens":5,"system":5,"messages":[{"role":"user","content":"hi"}]}""", 400, "invalid_request_error", null),
        ("stop_sequences numbers", """{"model":"m","max_tokens":5,"stop_sequences":[1],"messages":[{"role":"user","content":"hi"}]}""", 400, "invalid_request_error", "stop_sequences.0: Input should be a valid string"),
        ("temperature string", """{"model":"m","max_tokens":5,"temperature":"hot","messages":[{"role":"user","content":"hi"}]}""", 400, "invalid_request_error", "temperature: Input should be a valid number"),
        ("tool without schema", """{"model":"m","max_tokens":5,"tools":[{"name":"x"}],"messages":[{"role":"user","content":"hi"}]}""", 400, "invalid_request_error", "tools.0.input_schema: Field required"),
        ("bad tool_choice", """{"model":"m","max_tokens":5,"tool_choice":{"type":"bogus"},"messages":[{"role":"user","content":"hi"}]}""", 400, "invalid_request_error", null),
        ("deep nesting", """{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"hi"}],"x":""" + new string('[', 5000) + new string(']', 5000) + "}", 400, "invalid_request_error", null),
        ("duplicate model", """{"model":"m","model":"claude-opus-4-1","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}""", 400, "invalid_request_error", "There was an error parsing the body: Duplicate property 'model' encountered during deserialization."),
        ("duplicate escaped max_tokens", """{"model":"m","max_tokens":5,"max\u005ftokens":100000,"messages":[{"role":"user","content":"hi"}]}""", 400, "invalid_request_error", "There was an error parsing the body: Duplicate property 'max_tokens' encountered during deserialization."),
        ("duplicate nested", """{"model":"m","max_tokens":5,"messages":[{"role":"user","role":"assistant","content":"hi"}]}""", 400, "invalid_request_error", null),
        ("model over 256 characters", """{"model":"{{LONG}}","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}""".Replace("{{LONG}}", new string('m', 257), StringComparison.Ordinal), 400, "invalid_request_error", "model: String should have at most 256 characters"),
        ("model of 256 characters passes", """{"model":"{{LONG}}","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}""".Replace("{{LONG}}", new string('m', 256), StringComparison.Ordinal), 200, "", null),
        ("unknown block type passes", """{"model":"m","max_tokens":5,"messages":[{"role":"user","content":[{"type":"future_block","x":1}]}]}""", 200, "", null),
        ("valid", Valid, 200, "", null),
    ];

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task Messages_RejectsMalformedBodies_WithExactStatusAndType(string mode)
    {
        // Arrange
        await using var scenario = await GatewayScenario.StartAsync(mode, withAnthropicUpstream: false);
        using var http = scenario.Http();

        foreach (var (name, body, status, type, message) in BodyCases)
        {
            // Act
            using var response = await http.SendAsync(RawClient.Messages(scenario.Secret, body));

            // Assert
            Assert.True(status == (int)response.StatusCode, $"{name}: expected {status}, got {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
            if (status != 200)
            {
                await GatewayAssert.ErrorAsync(response, status, type, message);
            }
        }
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task Messages_RejectsBadHeadersAndSizes(string mode)
    {
        // Arrange
        await using var scenario = await GatewayScenario.StartAsync(mode, withAnthropicUpstream: false);
        using var http = scenario.Http();
        var huge = new byte[(32 * 1024 * 1024) + 10];
        huge.AsSpan().Fill((byte)' ');

        // Act
        using var noKey = await http.SendAsync(RawClient.Messages(null, Valid));
        using var badKey = await http.SendAsync(RawClient.Messages("sk-qh-not-a-key", Valid));
        using var noVersion = await http.SendAsync(RawClient.Messages(scenario.Secret, Valid, version: null));
        using var badVersion = await http.SendAsync(RawClient.Messages(scenario.Secret, Valid, version: "2024-99-99"));
        using var newVersion = await http.SendAsync(RawClient.Messages(scenario.Secret, Valid, version: "2026-10-21"));
        using var tooLarge = await http.SendAsync(WithBody(scenario.Secret, new ByteArrayContent(huge)));
        using var tooLargeChunked = await http.SendAsync(WithBody(scenario.Secret, new StreamContent(new MemoryStream(huge))));
        using var invalidUtf8 = await http.SendAsync(WithBody(scenario.Secret, new ByteArrayContent([.. Encoding.UTF8.GetBytes("{\"model\":\""), 0xC3, 0x28, .. Encoding.UTF8.GetBytes("\",\"max_tokens\":5,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}")])));

        // Assert
        await GatewayAssert.ErrorAsync(noKey, 401, "authentication_error", "x-api-key header is required");
        await GatewayAssert.ErrorAsync(badKey, 401, "authentication_error", "invalid x-api-key");
        await GatewayAssert.ErrorAsync(noVersion, 400, "invalid_request_error", "anthropic-version: header is required");
        await GatewayAssert.ErrorAsync(badVersion, 400, "invalid_request_error", "anthropic-version: \"2024-99-99\" is not a valid version");
        Assert.Equal(200, (int)newVersion.StatusCode);
        await GatewayAssert.ErrorAsync(tooLarge, 413, "request_too_large");
        await GatewayAssert.ErrorAsync(tooLargeChunked, 413, "request_too_large");
        await GatewayAssert.ErrorAsync(invalidUtf8, 400, "invalid_request_error");
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task OtherEndpoints_AnswerABodyOverTheLimit_InsteadOfResettingTheConnection(string mode)
    {
        // Arrange: a declared length over the limit is refused (or, on a path nothing serves, answered 404) before the
        // body is read, in both hosting modes: behind the Functions host too, where a server that reset the connection
        // instead would turn the answer into a 502.
        await using var scenario = await GatewayScenario.StartAsync(mode, withAnthropicUpstream: false);
        using var http = scenario.Http();
        var huge = new byte[(32 * 1024 * 1024) + 10];
        huge.AsSpan().Fill((byte)' ');
        using var countTokens = WithBody(scenario.Secret, new ByteArrayContent(huge));
        countTokens.RequestUri = new Uri("v1/messages/count_tokens", UriKind.Relative);
        using var chat = WithBody(scenario.Secret, new ByteArrayContent(huge));
        chat.RequestUri = new Uri("v1/chat/completions", UriKind.Relative);
        using var unknown = WithBody(scenario.Secret, new ByteArrayContent(huge));
        unknown.RequestUri = new Uri("v1/unknown", UriKind.Relative);
        using var admin = WithBody(scenario.Secret, new ByteArrayContent(huge));
        admin.RequestUri = new Uri("manage/keys", UriKind.Relative);
        admin.Headers.Authorization = new AuthenticationHeaderValue("Bearer", GatewayTestEnvironment.AdminKey);

        // Act
        using var countTokensAnswer = await http.SendAsync(countTokens);
        using var chatAnswer = await http.SendAsync(chat);
        using var unknownAnswer = await http.SendAsync(unknown);
        using var adminAnswer = await http.SendAsync(admin);

        // Assert
        await GatewayAssert.ErrorAsync(countTokensAnswer, 413, "request_too_large");
        Assert.Equal(413, (int)chatAnswer.StatusCode);
        using var error = JsonDocument.Parse(await chatAnswer.Content.ReadAsStringAsync());
        Assert.Equal("request_too_large", error.RootElement.GetProperty("error").GetProperty("type").GetString());
        Assert.Equal(404, (int)unknownAnswer.StatusCode);
        Assert.Equal(413, (int)adminAnswer.StatusCode);
    }

    private static HttpRequestMessage WithBody(string key, HttpContent content)
    {
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        var request = new HttpRequestMessage(HttpMethod.Post, "v1/messages") { Content = content };
        request.Headers.TryAddWithoutValidation("x-api-key", key);
        request.Headers.TryAddWithoutValidation("anthropic-version", "2023-06-01");
        return request;
    }
}
