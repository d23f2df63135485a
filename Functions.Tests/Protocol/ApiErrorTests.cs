using Qhaigc.Functions.Protocol;

namespace Qhaigc.Functions.Tests.Protocol;

public sealed class ApiErrorTests
{
    [Theory]
    [InlineData(ApiErrorKind.InvalidRequest, 400, "invalid_request_error", false)]
    [InlineData(ApiErrorKind.Authentication, 401, "authentication_error", false)]
    [InlineData(ApiErrorKind.Billing, 402, "billing_error", false)]
    [InlineData(ApiErrorKind.Permission, 403, "permission_error", false)]
    [InlineData(ApiErrorKind.NotFound, 404, "not_found_error", false)]
    [InlineData(ApiErrorKind.RequestTooLarge, 413, "request_too_large", false)]
    [InlineData(ApiErrorKind.RateLimited, 429, "rate_limit_error", true)]
    [InlineData(ApiErrorKind.Internal, 500, "api_error", true)]
    [InlineData(ApiErrorKind.Overloaded, 529, "overloaded_error", true)]
    [InlineData(ApiErrorKind.UpstreamUnavailable, 529, "overloaded_error", true)]
    [InlineData(ApiErrorKind.StorageUnavailable, 529, "overloaded_error", true)]
    public void From_MapsEveryKind_ToOneStatusTypeAndRetryHint(ApiErrorKind kind, int status, string type, bool retry)
    {
        // Act
        var error = ApiError.From(kind, "m");

        // Assert
        Assert.Equal((status, type, retry), (error.Status, error.Type, error.ShouldRetry));
        Assert.Equal(status == 529 ? 529 : status, ApiError.StatusForType(type));
    }

    [Theory]
    [InlineData(400, "invalid_request_error")]
    [InlineData(409, "invalid_request_error")]
    [InlineData(429, "rate_limit_error")]
    [InlineData(500, "api_error")]
    [InlineData(502, "api_error")]
    [InlineData(503, "overloaded_error")]
    [InlineData(504, "timeout_error")]
    [InlineData(529, "overloaded_error")]
    public void TypeForStatus_FollowsAnthropic(int status, string type) => Assert.Equal(type, ApiError.TypeForStatus(status));

    [Fact]
    public void Envelopes_HaveClaudeAndOpenAiShapes()
    {
        // Arrange
        var error = ApiError.From(ApiErrorKind.NotFound, "model: x \"quoted\"");

        // Act
        var claude = System.Text.Encoding.UTF8.GetString(ErrorEnvelope.Claude(error, "req_1"));
        var openAi = System.Text.Encoding.UTF8.GetString(ErrorEnvelope.OpenAi(error));

        // Assert
        Assert.Equal("""{"type":"error","error":{"type":"not_found_error","message":"model: x \u0022quoted\u0022"},"request_id":"req_1"}""", claude);
        Assert.Equal("""{"error":{"message":"model: x \u0022quoted\u0022","type":"not_found_error","param":null,"code":null}}""", openAi);
        Assert.True(ErrorEnvelope.TryRead(System.Text.Encoding.UTF8.GetBytes(claude), out var type, out var message));
        Assert.Equal(("not_found_error", "model: x \"quoted\""), (type, message));
        Assert.False(ErrorEnvelope.TryRead("<html>"u8, out _, out _));
    }
}
