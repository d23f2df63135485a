using Microsoft.AspNetCore.Http;
using Qhaigc.Functions.Keys;
using Qhaigc.Functions.Protocol;

namespace Qhaigc.Functions.Api;

/// <summary>
/// The key check every client endpoint starts with (docs/wire-contract.md#2-authentication): <c>x-api-key</c> first, then the Bearer token;
/// either may be the valid one. No credential or a bad one is a 401, a key store that cannot be asked a 529.
/// </summary>
public static class ClientAuthentication
{
    public static async Task<(ApiKey? Key, ApiError? Error)> AuthenticateAsync(
        ApiKeyAuthenticator authenticator, HttpRequest request, CancellationToken cancellationToken)
    {
        var credentials = ClientCredentials.Read(request);
        if (credentials.IsEmpty)
        {
            return (null, ApiError.From(ApiErrorKind.Authentication, "x-api-key header is required"));
        }

        var unavailable = false;
        foreach (var secret in new[] { credentials.ApiKey, credentials.BearerToken })
        {
            if (secret is null)
            {
                continue;
            }

            var check = await authenticator.CheckAsync(secret, cancellationToken);
            switch (check.Outcome)
            {
                case KeyCheckOutcome.Valid:
                    return (check.Key, null);
                case KeyCheckOutcome.Unavailable:
                    unavailable = true;
                    break;
            }
        }

        return unavailable
            ? (null, ApiError.From(ApiErrorKind.StorageUnavailable, "The key store is temporarily unavailable; please retry."))
            : (null, ApiError.From(ApiErrorKind.Authentication, "invalid x-api-key"));
    }
}
