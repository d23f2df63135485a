using Qhaigc.Functions.Protocol;
using Qhaigc.Functions.Telemetry;

namespace Qhaigc.Functions.Tests.Telemetry;

/// <summary>The refusal reasons of the refusals metric (docs/telemetry.md#metrics), where a caller names none.</summary>
public sealed class CallTelemetryTests
{
    [Theory]
    [InlineData(ApiErrorKind.Authentication, "auth")]
    [InlineData(ApiErrorKind.Permission, "permission")]
    [InlineData(ApiErrorKind.Billing, "caps")]
    [InlineData(ApiErrorKind.RateLimited, "limits")]
    [InlineData(ApiErrorKind.Overloaded, "upstream")]
    [InlineData(ApiErrorKind.UpstreamUnavailable, "upstream")]
    [InlineData(ApiErrorKind.InvalidRequest, "validation")]
    [InlineData(ApiErrorKind.RequestTooLarge, "validation")]
    [InlineData(ApiErrorKind.NotFound, "validation")]
    public void RefusalReasonOf_ReadsTheErrorsType(ApiErrorKind kind, string reason)
    {
        // Act
        var actual = CallTelemetry.RefusalReasonOf(ApiError.From(kind, "message"));

        // Assert
        Assert.Equal(reason, actual);
        Assert.Contains(actual, new[]
        {
            TelemetryNames.RefusalReasons.Auth, TelemetryNames.RefusalReasons.Validation, TelemetryNames.RefusalReasons.Permission,
            TelemetryNames.RefusalReasons.Limits, TelemetryNames.RefusalReasons.Caps, TelemetryNames.RefusalReasons.Upstream,
        });
    }
}
