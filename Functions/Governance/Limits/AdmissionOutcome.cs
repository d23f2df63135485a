namespace Qhaigc.Functions.Governance;

/// <summary>
/// The answer to an admission: refused by a limit (<see cref="Refused"/> is not <see cref="LimitKind.None"/>) or
/// admitted with what it reserved. <see cref="Usage"/> is the counters after the call was added (admitted) or as they
/// stood (refused), for the rate-limit headers.
/// </summary>
public sealed record AdmissionOutcome(LimitKind Refused, LimitUsage Usage, DateTimeOffset WindowStart, Reserved? Reserved)
{
    public bool Admitted => Refused == LimitKind.None;
}
