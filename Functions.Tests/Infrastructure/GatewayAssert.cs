using System.Text.Json;

namespace Qhaigc.Functions.Tests.Infrastructure;

/// <summary>Assertions on what the gateway answers, shared by the tests of every endpoint.</summary>
public static class GatewayAssert
{
    /// <summary>
    /// The answer is the gateway's error envelope (see docs/wire-contract.md): this status, JSON, the request id in both
    /// headers and in the body, the overhead header, this error type (and message, when given), and
    /// <c>x-should-retry: false</c> for the statuses a retry cannot change.
    /// </summary>
    public static async Task ErrorAsync(HttpResponseMessage response, int status, string type, string? message = null)
    {
        Assert.Equal(status, (int)response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var requestId = RawClient.Header(response, "request-id");
        Assert.StartsWith("req_", requestId, StringComparison.Ordinal);
        Assert.Equal(requestId, RawClient.Header(response, "x-request-id"));
        Assert.NotNull(RawClient.Header(response, "x-qhaigc-overhead-ms"));
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("error", body.RootElement.GetProperty("type").GetString());
        Assert.Equal(type, body.RootElement.GetProperty("error").GetProperty("type").GetString());
        Assert.Equal(requestId, body.RootElement.GetProperty("request_id").GetString());
        if (message is not null)
        {
            Assert.Equal(message, body.RootElement.GetProperty("error").GetProperty("message").GetString());
        }

        if (status is 400 or 401 or 403 or 404 or 413)
        {
            Assert.Equal("false", RawClient.Header(response, "x-should-retry"));
        }
    }
}
