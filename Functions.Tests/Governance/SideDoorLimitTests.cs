using System.Net;
using System.Reflection;
using Qhaigc.Functions.Tests.Infrastructure;
using Qhaigc.Functions.Tests.TestDoubles;
using Qhaigc.Functions.Usage;

namespace Qhaigc.Functions.Tests.Governance;

/// <summary>
/// Calls that never reach admission are limited too (docs/limits-and-prices.md#count_tokens-and-refused-calls): refusals
/// count against the key's requests per minute, and <c>count_tokens</c> has a rate of its own. Against Azurite, in
/// every hosting mode.
/// </summary>
public sealed class SideDoorLimitTests
{
    public static TheoryData<string> Modes => GatewayHosts.Modes;

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task Refusals_CountAgainstRequestsPerMinute_SoAFloodOfThemGets429(string mode)
    {
        // Arrange: a key limited to 3 requests a minute that may use fake-* models only.
        await using var scenario = await GatewayScenario.StartAsync(mode);
        var (secret, _) = await scenario.Environment.CreateKeyAsync(models: ["fake-*"], limits: """{"requestsPerMinute":3}""");
        using var http = scenario.Http();
        await RateWindow.AwayFromTheMinutesEndAsync();

        // Act: a forbidden model, two invalid bodies, then a good call and one more refusal.
        using var forbidden = await http.SendAsync(RawClient.Messages(secret, RawClient.Body("claude-forbidden")));
        using var invalid = await http.SendAsync(RawClient.Messages(secret, """{"model":"fake-text","messages":[]}"""));
        using var negative = await http.SendAsync(RawClient.Messages(secret, RawClient.Body("fake-text", maxTokens: -1)));
        using var good = await http.SendAsync(RawClient.Messages(secret, RawClient.Body(FakeAnthropicUpstream.Models.Text)));
        using var another = await http.SendAsync(RawClient.Messages(secret, RawClient.Body("claude-forbidden")));

        // Assert
        await GatewayAssert.ErrorAsync(forbidden, 403, "permission_error");
        await GatewayAssert.ErrorAsync(invalid, 400, "invalid_request_error");
        await GatewayAssert.ErrorAsync(negative, 400, "invalid_request_error");
        await GatewayAssert.ErrorAsync(good, 429, "rate_limit_error");
        await GatewayAssert.ErrorAsync(another, 429, "rate_limit_error", "This API key is limited to 3 requests per minute, refused requests included.");
        Assert.NotNull(RawClient.Header(another, "retry-after"));
        Assert.Empty(scenario.Upstream!.Received);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task CountTokens_HasItsOwnRate_FromRequestsPerMinuteOrItsOwnLimit(string mode)
    {
        // Arrange: one key with a request limit only, one with a count_tokens limit of its own.
        await using var scenario = await GatewayScenario.StartAsync(mode);
        var (derived, _) = await scenario.Environment.CreateKeyAsync(limits: """{"requestsPerMinute":2}""");
        var (own, _) = await scenario.Environment.CreateKeyAsync(limits: """{"requestsPerMinute":100,"countTokensPerMinute":1}""");
        using var http = scenario.Http();
        await RateWindow.AwayFromTheMinutesEndAsync();

        // Act
        var derivedStatuses = new List<HttpStatusCode>();
        for (var i = 0; i < 3; i++)
        {
            using var counted = await http.SendAsync(CountTokens(derived));
            derivedStatuses.Add(counted.StatusCode);
        }

        using var message = await http.SendAsync(RawClient.Messages(derived, RawClient.Body(FakeAnthropicUpstream.Models.Text)));
        using var ownFirst = await http.SendAsync(CountTokens(own));
        using var ownSecond = await http.SendAsync(CountTokens(own));

        // Assert: count_tokens is counted apart, so the Messages call still has its window.
        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests], derivedStatuses);
        Assert.Equal(HttpStatusCode.OK, message.StatusCode);
        Assert.Equal(HttpStatusCode.OK, ownFirst.StatusCode);
        await GatewayAssert.ErrorAsync(ownSecond, 429, "rate_limit_error", "This API key is limited to 1 count_tokens calls per minute.");
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task BatchAndFileCalls_CountAgainstRequestsPerMinute_WithTheKeysMessagesCalls(string mode)
    {
        // Arrange: a key limited to 3 requests a minute, and one without limits beside it.
        await using var scenario = await GatewayScenario.StartAsync(mode);
        var (secret, _) = await scenario.Environment.CreateKeyAsync(limits: """{"requestsPerMinute":3}""");
        var (unlimited, _) = await scenario.Environment.CreateKeyAsync();
        using var http = scenario.Http();
        await RateWindow.AwayFromTheMinutesEndAsync();

        // Act: a file list, a batch list and a batch that does not exist use the window; then each API is refused.
        using var files = await http.SendAsync(RawClient.Get(secret, "v1/files"));
        using var batches = await http.SendAsync(RawClient.Get(secret, "v1/messages/batches"));
        using var missing = await http.SendAsync(RawClient.Get(secret, "v1/messages/batches/msgbatch_0123456789abcdefghijklmn"));
        using var message = await http.SendAsync(RawClient.Messages(secret, RawClient.Body(FakeAnthropicUpstream.Models.Text)));
        using var moreFiles = await http.SendAsync(RawClient.Get(secret, "v1/files"));
        using var moreBatches = await http.SendAsync(RawClient.Get(secret, "v1/messages/batches"));
        var unlimitedStatuses = new List<HttpStatusCode>();
        for (var i = 0; i < 5; i++)
        {
            using var listed = await http.SendAsync(RawClient.Get(unlimited, "v1/files"));
            unlimitedStatuses.Add(listed.StatusCode);
        }

        // Assert: the Messages call found the window full too; a key without limits pays nothing for any of it.
        Assert.Equal(HttpStatusCode.OK, files.StatusCode);
        Assert.Equal(HttpStatusCode.OK, batches.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        await GatewayAssert.ErrorAsync(message, 429, "rate_limit_error");
        const string Refusal = "This API key is limited to 3 requests per minute, batch and file calls included.";
        await GatewayAssert.ErrorAsync(moreFiles, 429, "rate_limit_error", Refusal);
        await GatewayAssert.ErrorAsync(moreBatches, 429, "rate_limit_error", Refusal);
        Assert.NotNull(RawClient.Header(moreFiles, "retry-after"));
        Assert.All(unlimitedStatuses, static status => Assert.Equal(HttpStatusCode.OK, status));
        Assert.Empty(scenario.Upstream!.Received);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task RefusedBatchCreates_CountAgainstRequestsPerMinute_SoInvalidUploadsCannotFloodTheGateway(string mode)
    {
        // Arrange: a key limited to 2 requests a minute.
        await using var scenario = await GatewayScenario.StartAsync(mode);
        var (secret, _) = await scenario.Environment.CreateKeyAsync(limits: """{"requestsPerMinute":2}""");
        using var http = scenario.Http();
        await RateWindow.AwayFromTheMinutesEndAsync();

        // Act: batch creates the gateway refuses after reading them (no requests in the batch).
        var responses = new List<HttpResponseMessage>();
        for (var i = 0; i < 4; i++)
        {
            responses.Add(await http.SendAsync(RawClient.Messages(secret, """{"requests":[]}""", path: "v1/messages/batches")));
        }

        // Assert: the first two are refused for what they are; from then on the window is full.
        await GatewayAssert.ErrorAsync(responses[0], 400, "invalid_request_error");
        await GatewayAssert.ErrorAsync(responses[1], 400, "invalid_request_error");
        await GatewayAssert.ErrorAsync(responses[2], 429, "rate_limit_error");
        await GatewayAssert.ErrorAsync(responses[3], 429, "rate_limit_error");
        Assert.Empty(scenario.Upstream!.Received);
        responses.ForEach(static response => response.Dispose());
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task Refusals_RecordNoClientStringOver256Characters(string mode)
    {
        // Arrange: every client-chosen text the gateway records, oversized.
        await using var scenario = await GatewayScenario.StartAsync(mode, keyModels: ["fake-*"]);
        using var http = scenario.Http();
        var huge = new string('m', 32_000);
        var requests = new[]
        {
            RawClient.Messages(scenario.Secret, RawClient.Body(huge)),
            RawClient.Messages(scenario.Secret, RawClient.Body("fake-" + huge)),
            RawClient.Messages(scenario.Secret, RawClient.Body(huge), path: "v1/messages/count_tokens"),
            RawClient.Messages(scenario.Secret, RawClient.Body("claude-" + new string('x', 200))),
        };

        // Act
        foreach (var request in requests)
        {
            request.Headers.Add("x-claude-code-session-id", new string('s', 4000));
            request.Headers.Add("x-stainless-retry-count", new string('9', 400));
            using (request)
            using (var response = await http.SendAsync(request))
            {
                Assert.True((int)response.StatusCode is >= 400 and < 500, $"{response.StatusCode}");
            }
        }

        // Assert
        var rows = await WaitForRowsAsync(scenario, requests.Length);
        foreach (var row in rows)
        {
            foreach (var property in typeof(UsageRecord).GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(static p => p.PropertyType == typeof(string)))
            {
                var value = (string?)property.GetValue(row);
                Assert.True(value is null || value.Length <= 256, $"{property.Name} holds {value?.Length} characters");
            }
        }
    }

    private static HttpRequestMessage CountTokens(string secret) =>
        RawClient.Messages(secret, """{"model":"fake-text","messages":[{"role":"user","content":"count me"}]}""", path: "v1/messages/count_tokens");

    private static async Task<List<UsageRecord>> WaitForRowsAsync(GatewayScenario scenario, int count)
    {
        for (var attempt = 0; ; attempt++)
        {
            var rows = await scenario.Environment.AllUsageAsync(scenario.Key.Id);
            if (rows.Count >= count || attempt == 300)
            {
                Assert.Equal(count, rows.Count);
                return rows;
            }

            await Task.Delay(50);
        }
    }
}
