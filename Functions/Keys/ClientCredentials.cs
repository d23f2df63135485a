using Microsoft.AspNetCore.Http;
using Qhaigc.Functions.Protocol;

namespace Qhaigc.Functions.Keys;

/// <summary>
/// The credentials a client sent (docs/wire-contract.md#2-authentication): <c>x-api-key</c> first, then <c>Authorization: Bearer</c>. An
/// Anthropic SDK given both sends both; either may be the valid one.
/// </summary>
public readonly record struct ClientCredentials(string? ApiKey, string? BearerToken)
{
    public bool IsEmpty => ApiKey is null && BearerToken is null;

    public static ClientCredentials Read(HttpRequest request)
    {
        string? apiKey = null;
        var apiKeyHeader = request.Headers[HeaderNames.ApiKey];
        if (apiKeyHeader.Count > 0 && !string.IsNullOrWhiteSpace(apiKeyHeader[0]))
        {
            apiKey = apiKeyHeader[0]!.Trim();
        }

        string? bearer = null;
        var authorization = request.Headers[HeaderNames.Authorization];
        if (authorization.Count > 0 && authorization[0] is { } value)
        {
            var span = value.AsSpan().Trim();
            if (span.Length > 7 && span[..7].Equals("Bearer ", StringComparison.OrdinalIgnoreCase))
            {
                var token = span[7..].Trim();
                if (!token.IsEmpty)
                {
                    bearer = token.ToString();
                }
            }
        }

        return new ClientCredentials(apiKey, bearer == apiKey ? null : bearer);
    }
}
