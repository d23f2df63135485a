using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Qhaigc.Functions.Hosting;

namespace Qhaigc.Functions.Upstreams;

/// <summary>
/// The models the gateway serves, for <c>GET /v1/models</c> (docs/wire-contract.md#11-models): each upstream's literal <c>Models</c>
/// names and <c>ModelMap</c> names, and, where its patterns have wildcards, the models the upstream itself lists that
/// match them (asked at most every few minutes). A model is listed only if routing sends it to that upstream.
/// </summary>
public sealed partial class ModelCatalog(UpstreamRouter router, IOptions<GatewayOptions> options, TimeProvider time, ILogger<ModelCatalog> logger)
{
    public static readonly TimeSpan CacheDuration = TimeSpan.FromMinutes(5);
    public static readonly TimeSpan FailureCacheDuration = TimeSpan.FromSeconds(30);

    private readonly ConcurrentDictionary<string, (DateTimeOffset Until, IReadOnlyList<UpstreamModelInfo> Models)> _listed = new(StringComparer.Ordinal);

    /// <summary>Every served model, newest first, then by id.</summary>
    public async Task<IReadOnlyList<CatalogModel>> ListAsync(CancellationToken cancellationToken)
    {
        var models = new Dictionary<string, CatalogModel>(StringComparer.Ordinal);
        foreach (var upstream in router.Upstreams)
        {
            options.Value.Upstreams.TryGetValue(upstream.Name, out var config);
            var patterns = config is null ? ["*"] : ModelPattern.Parse(config.Models);
            var map = config?.ModelMap ?? new Dictionary<string, string>();
            var listed = patterns.Any(static p => p.Contains('*', StringComparison.Ordinal) || p.Contains('?', StringComparison.Ordinal)) &&
                         upstream is IModelListingUpstream lister
                ? await ListedAsync(upstream.Name, lister, cancellationToken)
                : [];
            var known = listed.ToDictionary(static m => m.Id, StringComparer.Ordinal);

            void Add(string id, UpstreamModelInfo? info)
            {
                if (models.ContainsKey(id) || router.Route(id) is not { } route || !ReferenceEquals(route.Upstream, upstream))
                {
                    return;
                }

                models[id] = new CatalogModel(id, info?.DisplayName ?? id, info?.CreatedAt ?? DateTimeOffset.UnixEpoch, info?.MaxInputTokens, info?.MaxTokens);
            }

            foreach (var pattern in patterns)
            {
                if (!pattern.Contains('*', StringComparison.Ordinal) && !pattern.Contains('?', StringComparison.Ordinal))
                {
                    Add(pattern, known.GetValueOrDefault(map.TryGetValue(pattern, out var target) ? target : pattern));
                }
            }

            foreach (var (clientName, upstreamName) in map)
            {
                Add(clientName, known.GetValueOrDefault(upstreamName));
            }

            foreach (var info in listed)
            {
                Add(info.Id, info);
            }
        }

        return models.Values
            .OrderByDescending(static m => m.CreatedAt)
            .ThenBy(static m => m.Id, StringComparer.Ordinal)
            .ToArray();
    }

    private async Task<IReadOnlyList<UpstreamModelInfo>> ListedAsync(string name, IModelListingUpstream lister, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (_listed.TryGetValue(name, out var cached) && cached.Until > now)
        {
            return cached.Models;
        }

        try
        {
            var models = await lister.ListModelsAsync(cancellationToken);
            _listed[name] = (now + CacheDuration, models);
            return models;
        }
        catch (Exception exception) when (exception is HttpRequestException or IOException or System.Text.Json.JsonException ||
                                          (exception is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            // A list that cannot be had lists nothing for a while; the literal names still show.
            Log.ListFailed(logger, name, exception);
            _listed[name] = (now + FailureCacheDuration, []);
            return [];
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 2201, Level = LogLevel.Warning, Message = "Upstream {Upstream} did not list its models")]
        public static partial void ListFailed(ILogger logger, string upstream, Exception exception);
    }
}
