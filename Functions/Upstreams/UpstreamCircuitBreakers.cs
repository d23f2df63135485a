using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using Qhaigc.Functions.Hosting;

namespace Qhaigc.Functions.Upstreams;

/// <summary>One <see cref="CircuitBreaker"/> per upstream name, shared by every call on this instance.</summary>
public sealed class UpstreamCircuitBreakers(IOptions<GatewayOptions> options, TimeProvider time)
{
    private readonly ConcurrentDictionary<string, CircuitBreaker> _breakers = new(StringComparer.OrdinalIgnoreCase);
    private readonly ResilienceOptions _options = options.Value.Resilience;

    /// <summary>Every breaker so far (an upstream has one from its first call on), for the resting gauge (docs/telemetry.md).</summary>
    public IEnumerable<KeyValuePair<string, CircuitBreaker>> All => _breakers;

    public CircuitBreaker For(string upstream) =>
        _breakers.GetOrAdd(upstream, _ => new CircuitBreaker(_options.BreakerFailureThreshold, _options.BreakerDuration, time));
}
