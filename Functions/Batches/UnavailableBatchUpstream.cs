namespace Qhaigc.Functions.Batches;

/// <summary>
/// Stands in for the batch API of the upstreams until one is registered: every read throws, so settlement leaves
/// batches pending (and tries again at its next run) rather than settling them without their results.
/// </summary>
internal sealed class UnavailableBatchUpstream : IBatchUpstream
{
    public Task<byte[]?> RetrieveAsync(string upstream, string upstreamId, CancellationToken cancellationToken) =>
        throw new InvalidOperationException("No upstream batch API is registered.");

    public Task<Stream> OpenResultsAsync(string upstream, string upstreamId, CancellationToken cancellationToken) =>
        throw new InvalidOperationException("No upstream batch API is registered.");
}
