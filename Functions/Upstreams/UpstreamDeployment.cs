namespace Qhaigc.Functions.Upstreams;

/// <summary>
/// One configured upstream (a deployment: an account, a resource in a region) as the router sees it: the model
/// patterns it serves, its model names, and its place in a pool (docs/configuration.md#pools-and-affinity).
/// </summary>
public sealed record UpstreamDeployment(
    IUpstream Upstream, string[] Patterns, IReadOnlyDictionary<string, string> ModelMap, int Priority, int Weight)
{
    public string Name => Upstream.Name;

    /// <summary>The stable hash of the name that <see cref="Rendezvous"/> ranks the deployment by.</summary>
    public ulong NameHash { get; } = Rendezvous.Hash(Upstream.Name);
}
