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

    [Theory]
    [InlineData("text/event-stream", true)]
    [InlineData("text/event-stream; charset=utf-8", true)]
    [InlineData("text/event-stream;charset=utf-8", true)]
    [InlineData("Text/Event-Stream; charset=UTF-8", true)]
    [InlineData("text/event-stream ; charset=utf-8", true)]
    [InlineData("application/json", false)]
    [InlineData("text/event-streams", false)]
    [InlineData("text/event", false)]
    [InlineData("text/html; note=text/event-stream", false)]
    [InlineData(null, false)]
    public void IsEventStream_ReadsTheMediaTypeOfTheContentType(string? contentType, bool expected)
    {
        // Arrange: the header as an upstream sends it.
        using var content = new ByteArrayContent([]);
        if (contentType is not null)
        {
            content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        }

        // Act
        var isStream = UpstreamHttp.IsEventStream(content.Headers);

        // Assert
        Assert.Equal(expected, isStream);
    }

    [Fact]
    public void IsEventStream_IsFalse_ForTwoContentTypes()
    {
        // Arrange: an answer that names two media types is not one event stream.
        using var content = new ByteArrayContent([]);
        content.Headers.TryAddWithoutValidation("Content-Type", ["text/event-stream", "application/json"]);

        // Act
        var isStream = UpstreamHttp.IsEventStream(content.Headers);

        // Assert
        Assert.False(isStream);
    }

    [Theory]
    [InlineData(true, "text/event-stream")]
    [InlineData(false, "application/json")]
    public async Task Post_AsksForAStreamOrAWholeAnswer(bool stream, string accept)
    {
        // Arrange
        using var message = UpstreamHttp.Post(new Uri("http://127.0.0.1/v1/messages"), "{}"u8.ToArray(), stream, waits: null);

        // Act: the header as it goes out on the wire.
        var sent = message.Headers.ToString();

        // Assert
        Assert.Equal($"Accept: {accept}", sent.Trim());
        Assert.Equal("{}", await message.Content!.ReadAsStringAsync());
    }
}
