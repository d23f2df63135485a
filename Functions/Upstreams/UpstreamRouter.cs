using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Qhaigc.Functions.Hosting;

namespace Qhaigc.Functions.Upstreams;

/// <summary>A routing decision: which upstream serves a model, and under which name.</summary>
public readonly record struct UpstreamRoute(IUpstream Upstream, string UpstreamModel);

/// <summary>
/// Maps a client model name to upstreams by each upstream's <c>Models</c> glob patterns. When several match, the most
/// specific pattern comes first (an exact name over a wildcard, then more literal characters), then the upstream name in
/// ordinal order, so routing never depends on configuration order; the rest serve as fallbacks. With no upstream configured, the built-in
/// <c>local</c> upstream serves every model.
/// </summary>
public sealed class UpstreamRouter
{
    private readonly Entry[] _entries;

    public UpstreamRouter(IOptions<GatewayOptions> options, IHttpClientFactory httpClientFactory, ILoggerFactory loggerFactory)
    {
        var upstreams = options.Value.Upstreams;
        if (upstreams.Count == 0)
        {
            _entries = [new Entry(new LocalUpstream(), ["*"], new Dictionary<string, string>())];
            return;
        }

        _entries = upstreams
            .OrderBy(static pair => pair.Key, StringComparer.Ordinal)
            .Select(pair => new Entry(Create(pair.Key, pair.Value, httpClientFactory, loggerFactory),
                ModelPattern.Parse(pair.Value.Models), pair.Value.ModelMap))
            .ToArray();
    }

    /// <summary>The named HttpClient of an upstream (configured like a proxy in <see cref="GatewayServiceCollectionExtensions"/>).</summary>
    public static string HttpClientName(string upstreamName) => "upstream:" + upstreamName;

    public IReadOnlyList<IUpstream> Upstreams => _entries.Select(static e => e.Upstream).ToArray();

    /// <summary>The upstream for a model (the first of <see cref="Candidates"/>), or null when none serves it.</summary>
    public UpstreamRoute? Route(string model) => Candidates(model) is [var first, ..] ? first : null;

    /// <summary>
    /// Every upstream that serves a model, in the order they are tried: the most specific pattern first, then the
    /// upstream name. The first is the primary; the others are its fallbacks (docs/faults.md). Empty when none serves it.
    /// </summary>
    public IReadOnlyList<UpstreamRoute> Candidates(string model)
    {
        List<(Entry Entry, int Score)>? matches = null;
        foreach (var entry in _entries)
        {
            var best = -1;
            foreach (var pattern in entry.Patterns)
            {
                if (ModelPattern.IsMatch(pattern, model))
                {
                    best = Math.Max(best, Specificity(pattern));
                }
            }

            if (best >= 0)
            {
                (matches ??= []).Add((entry, best));
            }
        }

        if (matches is null)
        {
            return [];
        }

        // A stable sort: entries are already in name order, so equal scores keep it.
        return matches
            .OrderByDescending(static m => m.Score)
            .Select(m => new UpstreamRoute(m.Entry.Upstream,
                m.Entry.ModelMap.TryGetValue(model, out var mapped) && !string.IsNullOrWhiteSpace(mapped) ? mapped : model))
            .ToArray();
    }

    private static int Specificity(string pattern)
    {
        var wildcards = pattern.Count(static c => c is '*' or '?');
        return wildcards == 0 ? int.MaxValue : pattern.Length - wildcards;
    }

    private static IUpstream Create(string name, UpstreamOptions options, IHttpClientFactory factory, ILoggerFactory loggerFactory) =>
        UpstreamKinds.Normalize(options.Kind) switch
        {
            UpstreamKinds.Anthropic => new AnthropicUpstream(name, options, factory.CreateClient(HttpClientName(name)),
                loggerFactory.CreateLogger<AnthropicUpstream>()),
            UpstreamKinds.OpenAi => new OpenAiUpstream(name, options, factory.CreateClient(HttpClientName(name)),
                loggerFactory.CreateLogger<OpenAiUpstream>()),
            UpstreamKinds.Local => new LocalUpstream(name),
            var kind => throw new InvalidOperationException($"Upstream '{name}' has kind '{kind}', which this version does not serve."),
        };

    private sealed record Entry(IUpstream Upstream, string[] Patterns, IReadOnlyDictionary<string, string> ModelMap);
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
