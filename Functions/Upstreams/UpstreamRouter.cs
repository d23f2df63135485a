using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Qhaigc.Functions.Files;
using Qhaigc.Functions.Hosting;

namespace Qhaigc.Functions.Upstreams;

/// <summary>A routing decision: which upstream serves a model, and under which name.</summary>
public readonly record struct UpstreamRoute(IUpstream Upstream, string UpstreamModel);

/// <summary>
/// Maps a client model name to upstreams by each upstream's <c>Models</c> glob patterns, in pools
/// (docs/configuration.md#pools-and-affinity). Upstreams whose best matching patterns are equally specific (an exact
/// name over a wildcard, then more literal characters) and that share a <c>Priority</c> form one pool; pools are tried
/// most specific first, then lowest priority first. Within a pool the members are ordered for each call by weighted
/// rendezvous hashing of its affinity key (<see cref="Rendezvous"/>), or by a weighted random draw when there is none,
/// so routing never depends on configuration order. With no upstream configured, the built-in <c>local</c> upstream
/// serves every model.
/// </summary>
public sealed class UpstreamRouter
{
    private readonly UpstreamDeployment[] _deployments;
    private readonly string _affinity;

    public UpstreamRouter(
        IOptions<GatewayOptions> options, IHttpClientFactory httpClientFactory, ILoggerFactory loggerFactory, LocalFileStore? localFiles = null,
        TimeProvider? time = null)
    {
        _affinity = AffinityModes.Normalize(options.Value.Routing.Affinity);
        var upstreams = options.Value.Upstreams;
        if (upstreams.Count == 0)
        {
            _deployments = [new UpstreamDeployment(new LocalUpstream(LocalUpstream.DefaultName, localFiles, time), ["*"], new Dictionary<string, string>(), 0, 1)];
            return;
        }

        _deployments = upstreams
            .OrderBy(static pair => pair.Key, StringComparer.Ordinal)
            .Select(pair => new UpstreamDeployment(Create(pair.Key, pair.Value, httpClientFactory, loggerFactory, localFiles, time),
                ModelPattern.Parse(pair.Value.Models), pair.Value.ModelMap, pair.Value.Priority, Math.Max(1, pair.Value.Weight)))
            .ToArray();
    }

    /// <summary>The named HttpClient of an upstream (configured like a proxy in <see cref="GatewayServiceCollectionExtensions"/>).</summary>
    public static string HttpClientName(string upstreamName) => "upstream:" + upstreamName;

    public IReadOnlyList<IUpstream> Upstreams => _deployments.Select(static e => e.Upstream).ToArray();

    /// <summary>Every configured deployment with its patterns, priority and weight, in name order.</summary>
    public IReadOnlyList<UpstreamDeployment> Deployments => _deployments;

    /// <summary><c>Gateway:Routing:Affinity</c>, normalized.</summary>
    public string Affinity => _affinity;

    /// <summary>The upstream for a model (the first of <see cref="Candidates(string)"/>), or null when none serves it.</summary>
    public UpstreamRoute? Route(string model) => Candidates(model) is [var first, ..] ? first : null;

    /// <summary>
    /// Every upstream that serves a model, pool after pool (most specific, then lowest priority), each pool's members
    /// in name order: the order shown to an operator, with no call to place. Empty when none serves it.
    /// </summary>
    public IReadOnlyList<UpstreamRoute> Candidates(string model) => Order(model, affinityHash: null, random: false);

    /// <summary>
    /// Every upstream that serves a model, in the order one call tries them (docs/faults.md): pool after pool, and
    /// within each pool the member the call's affinity picks first, then the others in the order that same key ranks
    /// them, so a call moves on only while its member is unavailable. Empty when none serves it.
    /// </summary>
    public IReadOnlyList<UpstreamRoute> Candidates(string model, in CallAffinity affinity) =>
        affinity.KeyFor(_affinity) is { } key
            ? Order(model, Rendezvous.Hash(key), random: false)
            : Order(model, affinityHash: null, random: true);

    private UpstreamRoute[] Order(string model, ulong? affinityHash, bool random)
    {
        List<Match>? matches = null;
        foreach (var deployment in _deployments)
        {
            var best = -1;
            foreach (var pattern in deployment.Patterns)
            {
                if (ModelPattern.IsMatch(pattern, model))
                {
                    best = Math.Max(best, Specificity(pattern));
                }
            }

            if (best >= 0)
            {
                var rank = affinityHash is { } hash ? Rendezvous.Score(hash, deployment.NameHash, deployment.Weight)
                    : random ? Rendezvous.RandomScore(deployment.Weight)
                    : 0;
                matches ??= [];
                matches.Add(new Match(deployment, best, rank, matches.Count));
            }
        }

        if (matches is null)
        {
            return [];
        }

        if (matches.Count > 1)
        {
            // Pools: most specific first, then lowest priority; within a pool the highest rank, then the name order.
            matches.Sort(static (a, b) =>
                b.Specificity.CompareTo(a.Specificity) is not 0 and var bySpecificity ? bySpecificity
                : a.Deployment.Priority.CompareTo(b.Deployment.Priority) is not 0 and var byPriority ? byPriority
                : b.Rank.CompareTo(a.Rank) is not 0 and var byRank ? byRank
                : a.Order.CompareTo(b.Order));
        }

        var routes = new UpstreamRoute[matches.Count];
        for (var i = 0; i < routes.Length; i++)
        {
            var deployment = matches[i].Deployment;
            routes[i] = new UpstreamRoute(deployment.Upstream,
                deployment.ModelMap.TryGetValue(model, out var mapped) && !string.IsNullOrWhiteSpace(mapped) ? mapped : model);
        }

        return routes;
    }

    /// <summary>How specifically a pattern names a model: an exact name above any wildcard, then by literal characters.</summary>
    public static int Specificity(string pattern)
    {
        var wildcards = pattern.Count(static c => c is '*' or '?');
        return wildcards == 0 ? int.MaxValue : pattern.Length - wildcards;
    }

    private static IUpstream Create(
        string name, UpstreamOptions options, IHttpClientFactory factory, ILoggerFactory loggerFactory, LocalFileStore? localFiles, TimeProvider? time) =>
        UpstreamKinds.Normalize(options.Kind) switch
        {
            UpstreamKinds.Anthropic => new AnthropicUpstream(name, options, factory.CreateClient(HttpClientName(name)),
                loggerFactory.CreateLogger<AnthropicUpstream>()),
            UpstreamKinds.OpenAi => new OpenAiUpstream(name, options, factory.CreateClient(HttpClientName(name)),
                loggerFactory.CreateLogger<OpenAiUpstream>()),
            UpstreamKinds.Local => new LocalUpstream(name, localFiles, time),
            var kind => throw new InvalidOperationException($"Upstream '{name}' has kind '{kind}', which this version does not serve."),
        };

    private readonly record struct Match(UpstreamDeployment Deployment, int Specificity, double Rank, int Order);
}

/// <summary>The upstream kinds (<c>Gateway:Upstreams:{name}:Kind</c>).</summary>
public static class UpstreamKinds
{
    public const string Anthropic = "anthropic";
    public const string OpenAi = "openai";
    public const string Local = "local";

    public static string? Normalize(string? kind) => kind?.Trim().ToLowerInvariant();

    public static bool IsSupported(string? kind) => Normalize(kind) is Anthropic or OpenAi or Local;

    public static bool NeedsBaseUrl(string? kind) => Normalize(kind) is Anthropic or OpenAi;
}
