using Qhaigc.Functions.Ownership;

namespace Qhaigc.Functions.Tests.TestDoubles;

/// <summary>The objects table with every read counted: proves which requests pay for an ownership check.</summary>
public sealed class CountingOwnedObjectStore(IOwnedObjectStore inner) : IOwnedObjectStore
{
    private int _reads;

    /// <summary>Point reads and list reads so far.</summary>
    public int Reads => Volatile.Read(ref _reads);

    public Task<bool> AddAsync(OwnedObject owned, CancellationToken cancellationToken) => inner.AddAsync(owned, cancellationToken);

    public Task<OwnedAdd> AddFileAsync(OwnedObject file, FileQuota quota, CancellationToken cancellationToken) =>
        inner.AddFileAsync(file, quota, cancellationToken);

    public Task<FileHoldings> FileHoldingsAsync(string ownerKeyId, CancellationToken cancellationToken) => inner.FileHoldingsAsync(ownerKeyId, cancellationToken);

    public Task<OwnedObject?> FindAsync(string ownerKeyId, string kind, string id, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _reads);
        return inner.FindAsync(ownerKeyId, kind, id, cancellationToken);
    }

    public Task<OwnedPage?> ListAsync(string ownerKeyId, string kind, int limit, string? beforeId, string? afterId, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _reads);
        return inner.ListAsync(ownerKeyId, kind, limit, beforeId, afterId, cancellationToken);
    }

    public Task<OwnedObject?> ReplaceAsync(OwnedObject owned, CancellationToken cancellationToken) => inner.ReplaceAsync(owned, cancellationToken);

    public Task<bool> RemoveAsync(string ownerKeyId, string kind, string id, CancellationToken cancellationToken) =>
        inner.RemoveAsync(ownerKeyId, kind, id, cancellationToken);

    public IAsyncEnumerable<OwnedObject> PendingAsync(string kind, CancellationToken cancellationToken) => inner.PendingAsync(kind, cancellationToken);

    public IAsyncEnumerable<OwnedObject> OwnedByAsync(string ownerKeyId, string kind, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _reads);
        return inner.OwnedByAsync(ownerKeyId, kind, cancellationToken);
    }
}
