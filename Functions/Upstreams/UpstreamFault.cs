namespace Qhaigc.Functions.Upstreams;

/// <summary>
/// What a failed attempt says about its upstream, and so which part of its health it counts against
/// (docs/faults.md#health).
/// </summary>
public enum UpstreamFault
{
    /// <summary>The deployment could not be reached: refused, reset, timed out before the first byte. Rests the whole deployment.</summary>
    Transport,

    /// <summary>The deployment refused the gateway's own credentials (<c>401</c>, <c>403</c>, <c>402</c>, a billing error): out for every model.</summary>
    Credentials,

    /// <summary><c>429</c> with a <c>retry-after</c>: that deployment rests for that model for as long as it asked.</summary>
    RateLimited,

    /// <summary><c>529</c>, another <c>5xx</c>, an <c>error</c> event or an unreadable start: counts against that deployment and model only.</summary>
    Model,
}
