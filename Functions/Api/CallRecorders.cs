using System.Globalization;
using Microsoft.AspNetCore.Http;
using Qhaigc.Functions.Protocol;
using Qhaigc.Functions.Usage;

namespace Qhaigc.Functions.Api;

/// <summary>Starts a call's usage record with what every endpoint records from the request (docs/wire-contract.md#33-other-client-headers, docs/wire-contract.md#124-what-the-gateway-sends).</summary>
public static class CallRecorders
{
    public static CallRecorder Create(IUsageSink sink, GatewayContext gateway, string keyId, string endpoint, HttpRequest request) =>
        new(sink, gateway.RequestId, keyId, endpoint, gateway.StartedAt, gateway.StartTimestamp)
        {
            ClientRetryCount = int.TryParse(request.Headers[HeaderNames.StainlessRetryCount], NumberStyles.None, CultureInfo.InvariantCulture, out var retry)
                ? retry
                : null,
            ClientSessionId = Truncate(request.Headers[HeaderNames.ClaudeCodeSessionId].ToString(), 128),
            Span = gateway.Span,
        };

    public static string? Truncate(string? value, int length) =>
        string.IsNullOrEmpty(value) ? null : value.Length <= length ? value : value[..length];
}
