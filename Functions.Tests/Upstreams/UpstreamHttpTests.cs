using System.Net;
using Qhaigc.Functions.Protocol;
using Qhaigc.Functions.Upstreams;

namespace Qhaigc.Functions.Tests.Upstreams;

public sealed class UpstreamHttpTests
{
    [Theory]
    [InlineData("retry-after-ms", "NaN", null)]
    [InlineData("retry-after-ms", "Infinity", null)]
    [InlineData("retry-after-ms", "-5000", null)]
    [InlineData("retry-after-ms", "1e300", UpstreamHttp.MaxRetryAfterSeconds)]
    [InlineData("retry-after-ms", "1500", 1.5)]
    [InlineData("retry-after", "99999999", UpstreamHttp.MaxRetryAfterSeconds)]
    [InlineData("retry-after", "7", 7.0)]
    public void RetryAfter_TakesOnlyAFiniteNonNegativeWait_AtMostAnHour(string header, string value, double? expected)
    {
        // Arrange: an upstream's header, which an operator does not control either.
        using var response = new HttpResponseMessage(HttpStatusCode.TooManyRequests);
        response.Headers.TryAddWithoutValidation(header, value);

        // Act
        var seconds = UpstreamHttp.RetryAfter(response);

        // Assert
        Assert.Equal(expected, seconds);
    }

    [Theory]
    [InlineData(400, ErrorTypes.InvalidRequest, "Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing.", true)]
    [InlineData(400, ErrorTypes.InvalidRequest, "messages.0.content.0.text: 'Your credit balance is too low' is not a valid tool name", false)]
    [InlineData(400, ErrorTypes.InvalidRequest, "prompt mentions credit balance", false)]
    [InlineData(401, ErrorTypes.Authentication, "invalid x-api-key", true)]
    [InlineData(402, ErrorTypes.Billing, "billing", true)]
    public void RefusesCredentials_ReadsACreditMessageOnlyAtItsStart(int status, string type, string message, bool refused)
    {
        // Arrange: a 400 can quote the client's own input; a tenant must not take a deployment out with a prompt.
        var error = new ApiError(status, type, message);

        // Act
        var result = ResilientUpstreamCaller.RefusesCredentials(error);

        // Assert
        Assert.Equal(refused, result);
    }
}
