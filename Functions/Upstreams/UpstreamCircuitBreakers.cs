using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using Qhaigc.Functions.Hosting;

namespace Qhaigc.Functions.Upstreams;

/// <summary>One <see cref="CircuitBreaker"/> per upstream name, shared by every call on this instance.</summary>
public sealed class UpstreamCircuitBreakers(IOptions<GatewayOptions> options, TimeProvider time)
{
    private readonly ConcurrentDictionary<string, CircuitBreaker> _breakers = new(StringComparer.OrdinalIgnoreCase);
    private readonly ResilienceOptions _options = options.Value.Resilience;

    public CircuitBreaker For(string upstream) =>
        _breakers.GetOrAdd(upstream, _ => new CircuitBreaker(_options.BreakerFailureThreshold, _options.BreakerDuration, time));
}
