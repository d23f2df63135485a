using Qhaigc.Functions.Protocol;

namespace Qhaigc.Functions.Governance;

/// <summary>
/// The answer of the authorize step, free of HTTP, for the API layer to put on the response:
/// <list type="bullet">
/// <item><see cref="Refusal"/>: the error to answer with, or null when the call may go on;</item>
/// <item><see cref="RateLimits"/>: what the rate-limit headers report, or null when there is nothing to report (a
/// key without limits, or limits that could not be checked);</item>
/// <item><see cref="Reservation"/>: what the admitted call holds until its usage record settles it, or null when
/// nothing needs settling. The API layer ties it to the response, so a call that ends without a record still gives it
/// back.</item>
/// </list>
/// <c>default</c> is the fast path: admitted, nothing to report, nothing held.
/// </summary>
public readonly record struct Admission(ApiError? Refusal, RateLimitStatus? RateLimits, Reservation? Reservation)
{
    public bool Admitted => Refusal is null;

    /// <summary>A refusal decided before any counter was read: no rate-limit headers go with it.</summary>
    public static Admission Refused(ApiError error) => new(error, null, null);
}
