using Microsoft.AspNetCore.Http;
using Qhaigc.Functions.Governance;

namespace Qhaigc.Functions.Api;

/// <summary>
/// Puts an <see cref="Admission"/> on the response: the rate-limit headers in the endpoint's format (Anthropic's on
/// <c>/v1/messages</c>, OpenAI's on <c>/v1/chat/completions</c>; docs/limits-and-prices.md), refused or not, and the
/// call's reservation tied to the response, so a call that ends without a usage record still gives it back.
/// </summary>
public static class AdmissionResponse
{
    public static void Apply(HttpResponse response, Admission admission, RateLimitHeaderFormat format)
    {
        if (admission.RateLimits is { } status)
        {
            RateLimitHeaders.Write(response.Headers, format, status);
        }

        if (admission.Reservation is { } reservation)
        {
            response.RegisterForDisposeAsync(reservation);
        }
    }
}
