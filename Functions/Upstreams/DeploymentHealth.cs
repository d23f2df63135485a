using System.Collections.Concurrent;

namespace Qhaigc.Functions.Upstreams;

/// <summary>
/// The health of one deployment (one configured upstream) on this instance (docs/faults.md#health): a circuit for
/// transport failures and one for refused credentials, both for every model, and the health of each model it served.
/// </summary>
public sealed class DeploymentHealth
{
    /// <summary>Models tracked apart per deployment at most; beyond it the rest share one entry, so no client can grow the table.</summary>
    public const int MaxModels = 256;

    /// <summary>The entry the models beyond <see cref="MaxModels"/> share.</summary>
    public const string OtherModels = "*";

    private readonly ConcurrentDictionary<string, ModelHealth> _models = new(StringComparer.Ordinal);
    private readonly Func<DeploymentHealth, string, ModelHealth> _create;
    private readonly TimeProvider _time;

    internal DeploymentHealth(string name, CircuitBreaker transport, CircuitBreaker credentials,
        Func<DeploymentHealth, string, ModelHealth> create, TimeProvider time)
    {
        Name = name;
        Transport = transport;
        Credentials = credentials;
        _create = create;
        _time = time;
        Recent = new RecentCalls(time);
    }

    public string Name { get; }

    /// <summary>Opens after repeated transport failures: refused, reset, timed out before the first byte.</summary>
    public CircuitBreaker Transport { get; }

    /// <summary>Opens at once when the deployment refuses the gateway's own credentials.</summary>
    public CircuitBreaker Credentials { get; }

    /// <summary>The status and type of the last credential refusal, for the operator (never its message).</summary>
    public string? CredentialsRefusal { get; internal set; }

    public RecentCalls Recent { get; }

    /// <summary>Every model tracked, in name order.</summary>
    public IReadOnlyList<ModelHealth> Models => [.. _models.Values.OrderBy(static m => m.Model, StringComparer.Ordinal)];

    /// <summary>The health of a model on this deployment, created on first use.</summary>
    public ModelHealth Model(string model)
    {
        if (_models.TryGetValue(model, out var known))
        {
            return known;
        }

        if (_models.Count >= MaxModels)
        {
            DropIdle();
            if (_models.Count >= MaxModels)
            {
                return _models.GetOrAdd(OtherModels, static (name, self) => self._create(self, name), this);
            }
        }

        return _models.GetOrAdd(model, static (name, self) => self._create(self, name), this);
    }

    /// <summary>
    /// Forgets healthy models that took no part in a call over the last window, and those the upstream never answered
    /// for (names a client made up: a flood of them must not push real models into the shared entry).
    /// </summary>
    private void DropIdle()
    {
        var since = _time.GetUtcNow() - RecentCalls.Window;
        foreach (var (name, health) in _models)
        {
            if (name != OtherModels && (health.LastUsed < since || !health.Answered) && health.Breaker.State == CircuitState.Closed &&
                health.RateLimitRest is null)
            {
                _models.TryRemove(name, out _);
            }
        }
    }
}
