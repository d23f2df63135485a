namespace Qhaigc.Functions.Batches;

/// <summary>The Message Batches API of one upstream deployment, as settlement reads it.</summary>
public interface IBatchUpstream
{
    /// <summary>
    /// The batch as its upstream describes it now (Anthropic's <c>message_batch</c> object, UTF-8 JSON), or null when the
    /// upstream no longer knows it. Throws when the upstream cannot be reached.
    /// </summary>
    Task<byte[]?> RetrieveAsync(string upstream, string upstreamId, CancellationToken cancellationToken);

    /// <summary>The ended batch's results: JSON Lines, one result per line, streamed as the upstream sends them.</summary>
    Task<Stream> OpenResultsAsync(string upstream, string upstreamId, CancellationToken cancellationToken);
}
