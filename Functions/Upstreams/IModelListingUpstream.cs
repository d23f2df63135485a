namespace Qhaigc.Functions.Upstreams;

/// <summary>An upstream that can say which models it has (<c>GET /v1/models</c> at Anthropic, <c>GET /models</c> at OpenAI).</summary>
public interface IModelListingUpstream
{
    /// <summary>The upstream's models under its own names; throws <see cref="HttpRequestException"/> when it cannot say.</summary>
    Task<IReadOnlyList<UpstreamModelInfo>> ListModelsAsync(CancellationToken cancellationToken);
}
