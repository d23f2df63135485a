using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Qhaigc.Functions.Hosting;
using Qhaigc.Functions.Upstreams;

namespace Qhaigc.Functions.Batches;

/// <summary>
/// The Message Batches API of every deployment that has one (docs/batches.md): each Anthropic deployment over its own
/// pooled client, key and headers, and the built-in <c>local</c> upstream. A deployment of OpenAI's kind has none.
/// Settlement reads batches through the same objects (<see cref="IBatchUpstream"/>).
/// </summary>
public sealed class MessageBatchUpstreams : IBatchUpstream
{
    private readonly Dictionary<string, IMessageBatches> _byName = new(StringComparer.OrdinalIgnoreCase);

    public MessageBatchUpstreams(
        UpstreamRouter router, LocalMessageBatches local, IOptions<GatewayOptions> options, IHttpClientFactory httpClientFactory, ILoggerFactory loggerFactory)
    {
        foreach (var deployment in router.Deployments)
        {
            var name = deployment.Name;
            IMessageBatches? batches = deployment.Upstream switch
            {
                AnthropicUpstream => new AnthropicMessageBatches(name, options.Value.Upstreams[name],
                    httpClientFactory.CreateClient(UpstreamRouter.HttpClientName(name)), loggerFactory.CreateLogger<AnthropicMessageBatches>()),
                LocalUpstream => local,
                _ => null,
            };
            if (batches is not null)
            {
                _byName[name] = batches;
            }
        }
    }

    /// <summary>The deployment's batch API, or null when it has none (an OpenAI-compatible upstream, or an unknown name).</summary>
    public IMessageBatches? For(string upstream) => _byName.GetValueOrDefault(upstream);

    public async Task<byte[]?> RetrieveAsync(string upstream, string upstreamId, CancellationToken cancellationToken)
    {
        var reply = await Of(upstream).RetrieveAsync(upstreamId, BatchCallHeaders.Gateway, cancellationToken);
        if (reply.NotFound)
        {
            return null;
        }

        return reply.Body ?? throw Failed(upstream, reply.Error!);
    }

    public async Task<Stream> OpenResultsAsync(string upstream, string upstreamId, CancellationToken cancellationToken)
    {
        var reply = await Of(upstream).ResultsAsync(upstreamId, BatchCallHeaders.Gateway, cancellationToken);
        if (reply.Error is { } error)
        {
            reply.Dispose();
            throw Failed(upstream, error);
        }

        return new ReadOnlyViewStream(reply.Body!, reply);
    }

    private IMessageBatches Of(string upstream) =>
        For(upstream) ?? throw new InvalidOperationException($"The upstream '{upstream}' has no Message Batches API.");

    private static HttpRequestException Failed(string upstream, Protocol.ApiError error) =>
        new($"The upstream '{upstream}' answered a batch read with {error.Status} ({error.Type}).", null, (System.Net.HttpStatusCode)error.Status);
}
