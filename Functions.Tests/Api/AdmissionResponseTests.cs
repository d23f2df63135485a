using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Qhaigc.Functions.Api;
using Qhaigc.Functions.Governance;
using Qhaigc.Functions.Hosting;
using Qhaigc.Functions.Protocol;
using Qhaigc.Functions.Tests.Infrastructure;

namespace Qhaigc.Functions.Tests.Api;

/// <summary>The API layer puts an admission on the response: exactly its rate-limit headers, in the endpoint's format, and its reservation.</summary>
public sealed class AdmissionResponseTests
{
    private static readonly DateTimeOffset Window = new(2026, 11, 5, 10, 20, 0, TimeSpan.Zero);

    private static readonly RateLimitStatus Status = new(
        new KeyLimits
        {
            RequestsPerMinute = 10,
            TokensPerMinute = 5000,
            InputTokensPerMinute = 4000,
            OutputTokensPerMinute = 2000,
            ConcurrentStreams = 3,
            SpendCapMicros = 10_000_000,
        },
        new LimitUsage(3, 1200, 300, 2_500_000, 1_250_001, 1),
        Window,
        Window.AddSeconds(23),
        Stream: true);

    [Fact]
    public void Apply_WritesExactlyTheAdmissionsHeaders_InAnthropicsFormat()
    {
        // Arrange
        var context = new DefaultHttpContext();

        // Act
        AdmissionResponse.Apply(context.Response, new Admission(null, Status, null), RateLimitHeaderFormat.Anthropic);

        // Assert
        AssertHeaders(context.Response.Headers, new()
        {
            ["anthropic-ratelimit-requests-limit"] = "10",
            ["anthropic-ratelimit-requests-remaining"] = "7",
            ["anthropic-ratelimit-requests-reset"] = "2026-11-05T10:21:00Z",
            ["anthropic-ratelimit-tokens-limit"] = "5000",
            ["anthropic-ratelimit-tokens-remaining"] = "3500",
            ["anthropic-ratelimit-tokens-reset"] = "2026-11-05T10:21:00Z",
            ["anthropic-ratelimit-input-tokens-limit"] = "4000",
            ["anthropic-ratelimit-input-tokens-remaining"] = "2800",
            ["anthropic-ratelimit-input-tokens-reset"] = "2026-11-05T10:21:00Z",
            ["anthropic-ratelimit-output-tokens-limit"] = "2000",
            ["anthropic-ratelimit-output-tokens-remaining"] = "1700",
            ["anthropic-ratelimit-output-tokens-reset"] = "2026-11-05T10:21:00Z",
            ["x-qhaigc-spend-limit"] = "10",
            ["x-qhaigc-spend-remaining"] = "6.249999",
            ["x-qhaigc-spend-reset"] = "2026-12-01T00:00:00Z",
            ["x-qhaigc-streams-limit"] = "3",
            ["x-qhaigc-streams-remaining"] = "2",
        });
    }

    [Fact]
    public void Apply_WritesExactlyTheAdmissionsHeaders_InOpenAisFormat_EvenWithARefusal()
    {
        // Arrange: a refusal carries the counters as they stood; its headers go out with the error.
        var context = new DefaultHttpContext();
        var refused = new Admission(ApiError.From(ApiErrorKind.RateLimited, "limited"), Status, null);

        // Act
        AdmissionResponse.Apply(context.Response, refused, RateLimitHeaderFormat.OpenAi);

        // Assert
        AssertHeaders(context.Response.Headers, new()
        {
            ["x-ratelimit-limit-requests"] = "10",
            ["x-ratelimit-remaining-requests"] = "7",
            ["x-ratelimit-reset-requests"] = "37s",
            ["x-ratelimit-limit-tokens"] = "5000",
            ["x-ratelimit-remaining-tokens"] = "3500",
            ["x-ratelimit-reset-tokens"] = "37s",
            ["x-qhaigc-spend-limit"] = "10",
            ["x-qhaigc-spend-remaining"] = "6.249999",
            ["x-qhaigc-spend-reset"] = "2026-12-01T00:00:00Z",
            ["x-qhaigc-streams-limit"] = "3",
            ["x-qhaigc-streams-remaining"] = "2",
        });
    }

    [Theory]
    [InlineData(RateLimitHeaderFormat.Anthropic)]
    [InlineData(RateLimitHeaderFormat.OpenAi)]
    public void Apply_WritesNothing_WhenTheAdmissionHasNothingToReport(RateLimitHeaderFormat format)
    {
        // Arrange
        var context = new DefaultHttpContext();

        // Act
        AdmissionResponse.Apply(context.Response, default, format);
        AdmissionResponse.Apply(context.Response, Admission.Refused(ApiError.From(ApiErrorKind.StorageUnavailable, "down")), format);

        // Assert
        Assert.Empty(context.Response.Headers);
    }

    [Fact]
    public async Task Apply_TiesTheReservationToTheResponse_SoItIsGivenBackWhenTheResponseEnds()
    {
        // Arrange
        using var ledger = new InMemoryLimitLedger();
        var reservations = new ReservationRegistry();
        using var settlements = new SettlementService(
            ledger, reservations, TimeProvider.System, Options.Create(new GatewayOptions()), NullLogger<SettlementService>.Instance);
        var reservation = settlements.Track(new Reserved { KeyId = "key_1", RequestId = "req_1", Stream = true }, Window);
        var response = new CompletingResponseFeature();
        var context = new DefaultHttpContext();
        context.Features.Set<IHttpResponseFeature>(response);

        // Act
        AdmissionResponse.Apply(context.Response, new Admission(null, Status, reservation), RateLimitHeaderFormat.Anthropic);
        var heldWhileRunning = reservations.Count;
        await response.CompleteAsync();

        // Assert
        Assert.Equal(1, heldWhileRunning);
        Assert.Equal(0, reservations.Count);
    }

    private static void AssertHeaders(IHeaderDictionary headers, Dictionary<string, string> expected) =>
        Assert.Equal(
            expected.OrderBy(static h => h.Key, StringComparer.Ordinal),
            headers.Select(static h => KeyValuePair.Create(h.Key, h.Value.ToString())).OrderBy(static h => h.Key, StringComparer.Ordinal));

    /// <summary>A response feature that runs its completion callbacks when told, as the server does when a response ends.</summary>
    private sealed class CompletingResponseFeature : HttpResponseFeature
    {
        private readonly List<(Func<object, Task> Callback, object State)> _completed = [];

        public override void OnCompleted(Func<object, Task> callback, object state) => _completed.Add((callback, state));

        public async Task CompleteAsync()
        {
            foreach (var (callback, state) in _completed)
            {
                await callback(state);
            }
        }
    }
}
