namespace Qhaigc.Functions.Batches;

/// <summary>
/// The Message Batches API of one upstream deployment (docs/batches.md): Anthropic's over HTTP, or the built-in
/// <c>local</c> upstream's. Ids are the upstream's own. A failure to reach the upstream is answered as an error, never
/// thrown.
/// </summary>
public interface IMessageBatches
{
    /// <summary>Creates a batch from a whole, validated create body of <paramref name="length"/> bytes, read as it is sent.</summary>
    Task<BatchReply> CreateAsync(Stream body, long length, BatchCallHeaders headers, CancellationToken cancellationToken);

    Task<BatchReply> RetrieveAsync(string id, BatchCallHeaders headers, CancellationToken cancellationToken);

    Task<BatchReply> CancelAsync(string id, BatchCallHeaders headers, CancellationToken cancellationToken);

    Task<BatchReply> DeleteAsync(string id, BatchCallHeaders headers, CancellationToken cancellationToken);

    /// <summary>The ended batch's results, JSON Lines, streamed as the upstream sends them; the caller disposes the reply.</summary>
    Task<BatchResultsReply> ResultsAsync(string id, BatchCallHeaders headers, CancellationToken cancellationToken);
}
