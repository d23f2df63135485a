using System.Net;
using System.Text.Json;
using Qhaigc.Functions.Tests.Infrastructure;
using Qhaigc.Functions.Tests.TestDoubles;
using Qhaigc.Functions.Usage;
using Models = Qhaigc.Functions.Tests.TestDoubles.FakeAnthropicUpstream.Models;

namespace Qhaigc.Functions.Tests.Faults;

/// <summary>
/// The upstream fault table (docs/faults.md): each fault injected by a real upstream on loopback reaches
/// the client as the right HTTP error, or as one SSE <c>error</c> event once the answer has started, and leaves one
/// usage record with the right final state, status, type, tokens and number of upstream attempts.
/// </summary>
public sealed class UpstreamFaultTests(UpstreamFaultFixture fixture) : IClassFixture<UpstreamFaultFixture>
{
    private const int Retried = UpstreamFaultFixture.MaxAttempts;

    /// <summary>fault, model, stream, HTTP status, SSE error type (after a 200), record state, error type, attempts.</summary>
    public static TheoryData<string, string, bool, int, string?, UsageState, string?, int> Faults => new()
    {
        { "connection refused", "dead-text", false, 529, null, UsageState.Failed, "overloaded_error", Retried },
        { "connection refused", "dead-text", true, 529, null, UsageState.Failed, "overloaded_error", Retried },
        { "reset before the first byte", Models.ResetBeforeFirstByte, false, 529, null, UsageState.Failed, "overloaded_error", Retried },
        { "reset before the first byte", Models.ResetBeforeFirstByte, true, 529, null, UsageState.Failed, "overloaded_error", Retried },
        { "reset before the first event", Models.ResetBeforeFirstEvent, true, 529, null, UsageState.Failed, "overloaded_error", Retried },
        { "reset mid-stream", Models.Cut, true, 200, "overloaded_error", UsageState.Truncated, "overloaded_error", 1 },
        { "stall mid-stream past the idle timeout", Models.Stall, true, 200, "timeout_error", UsageState.Truncated, "timeout_error", 1 },
        { "slow first byte", Models.SlowFirstByte, false, 200, null, UsageState.Complete, null, 1 },
        { "slow first byte", Models.SlowFirstByte, true, 200, null, UsageState.Complete, null, 1 },
        { "429 with a long retry-after", Models.RateLimited, false, 429, null, UsageState.Failed, "rate_limit_error", 1 },
        { "429 with a long retry-after", Models.RateLimitedToo, true, 429, null, UsageState.Failed, "rate_limit_error", 1 },
        { "500", Models.ServerError, false, 500, null, UsageState.Failed, "api_error", Retried },
        { "500", Models.ServerError, true, 500, null, UsageState.Failed, "api_error", Retried },
        { "502 with an HTML body", Models.HtmlError, false, 502, null, UsageState.Failed, "api_error", Retried },
        { "503 without a body", Models.Unavailable, false, 503, null, UsageState.Failed, "overloaded_error", Retried },
        { "529 with a long retry-after", Models.Overloaded, false, 529, null, UsageState.Failed, "overloaded_error", 1 },
        { "400 (the client's fault)", Models.BadRequest, false, 400, null, UsageState.Failed, "invalid_request_error", 1 },
        { "200 whose body is not JSON", Models.NotJson, false, 500, null, UsageState.Failed, "api_error", Retried },
        { "200 whose body is not an event stream", Models.NotJson, true, 500, null, UsageState.Failed, "api_error", Retried },
        { "malformed first event", Models.MalformedFirstEvent, true, 500, null, UsageState.Failed, "api_error", Retried },
        { "malformed event mid-stream", Models.MalformedMidStream, true, 200, "api_error", UsageState.Truncated, "api_error", 1 },
        { "error as the first event", Models.ErrorFirst, true, 529, null, UsageState.Failed, "overloaded_error", Retried },
        { "error event mid-stream", Models.MidStreamError, true, 200, "overloaded_error", UsageState.Truncated, "overloaded_error", 1 },
    };

    [Theory]
    [MemberData(nameof(Faults))]
    public async Task UpstreamFault_ReachesClientAndLedger_AsTheFaultTableSays(
        string fault, string model, bool stream, int status, string? sseErrorType, UsageState state, string? errorType, int attempts)
    {
        // Arrange
        var scenario = fixture.Scenario;
        using var http = scenario.Http();
        var callsBefore = fixture.Upstream.MessageCalls;

        // Act
        using var response = await http.SendAsync(RawClient.Messages(scenario.Secret, RawClient.Body(model, stream)));
        var body = await response.Content.ReadAsStringAsync();
        var requestId = RawClient.Header(response, "request-id")!;

        // Assert: what the client sees.
        Assert.True(status == (int)response.StatusCode, $"{fault}: {(int)response.StatusCode} {body}");
        if (status != 200)
        {
            await GatewayAssert.ErrorAsync(response, status, errorType!);
            Assert.Equal(status >= 429 && status != 501 ? "true" : "false", RawClient.Header(response, "x-should-retry"));
        }
        else if (sseErrorType is not null)
        {
            var events = Fixtures.ParseEvents(body);
            Assert.Equal("error", events[^1].Event);
            Assert.DoesNotContain(events, static e => e.Event == "message_stop");
            using var error = JsonDocument.Parse(events[^1].Data);
            Assert.Equal(sseErrorType, error.RootElement.GetProperty("error").GetProperty("type").GetString());
            Assert.Equal(requestId, error.RootElement.GetProperty("request_id").GetString());
        }
        else
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.EndsWith(stream ? "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n" : "}", body, StringComparison.Ordinal);
        }

        // ... and what is recorded: one record, its final state, and the attempts the upstream really saw.
        var record = await scenario.Environment.WaitForUsageAsync(scenario.Key.Id, requestId);
        Assert.Equal((state, errorType, attempts), (record.State, record.ErrorType, record.UpstreamAttempts));
        Assert.Equal(status == 200 ? 200 : status, record.Status);
        Assert.Equal(model.StartsWith("dead-", StringComparison.Ordinal) ? 0 : attempts, fixture.Upstream.MessageCalls - callsBefore);
        Assert.Equal(model.StartsWith("dead-", StringComparison.Ordinal) ? "dead" : "anthropic", record.Upstream);
        switch (state)
        {
            case UsageState.Complete:
                Assert.Equal((25L, 15L, false), (record.InputTokens, record.OutputTokens, record.Estimated));
                Assert.True(record.TimeToFirstByteMs >= 900, $"first byte after {record.TimeToFirstByteMs} ms");
                break;
            case UsageState.Truncated:
                // The tokens the upstream really produced: its input count, and output estimated from what passed.
                Assert.Equal(model == Models.MidStreamError ? 30L : 25L, record.InputTokens);
                Assert.True(record.Estimated);
                break;
            default:
                Assert.Equal((0L, 0L), (record.InputTokens, record.OutputTokens));
                break;
        }
    }
}
