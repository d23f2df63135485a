namespace Qhaigc.Functions.Ownership;

/// <summary>
/// Which key owns each object that lives on an upstream account, in the objects table. A key only ever finds, lists,
/// changes or removes its own objects: another key's id is answered exactly as an id that does not exist. Every method
/// throws <see cref="Storage.StorageUnavailableException"/> when storage cannot answer.
/// </summary>
public interface IOwnedObjectStore
{
    /// <summary>Records a new object; false when the key already owns an object of that kind and id.</summary>
    Task<bool> AddAsync(OwnedObject owned, CancellationToken cancellationToken);

    /// <summary>
    /// Records a new file, holding the key to its <paramref name="quota"/> (files and bytes held at once). The key's
    /// count of files and bytes changes in the same table transaction as its files, so concurrent uploads cannot pass
    /// the quota (docs/files.md#how-many-files-a-key-holds).
    /// </summary>
    Task<OwnedAdd> AddFileAsync(OwnedObject file, FileQuota quota, CancellationToken cancellationToken);

    /// <summary>How many files the key holds, and how many bytes they come to.</summary>
    Task<FileHoldings> FileHoldingsAsync(string ownerKeyId, CancellationToken cancellationToken);

    /// <summary>The key's object of that kind and id, or null when it does not exist or another key owns it.</summary>
    Task<OwnedObject?> FindAsync(string ownerKeyId, string kind, string id, CancellationToken cancellationToken);

    /// <summary>
    /// A page of the key's objects of one kind, newest first: from the newest, after <paramref name="afterId"/> (older
    /// than it) or before <paramref name="beforeId"/> (newer than it, the ones nearest it). Null when a cursor names no
    /// object of the key's.
    /// </summary>
    Task<OwnedPage?> ListAsync(string ownerKeyId, string kind, int limit, string? beforeId, string? afterId, CancellationToken cancellationToken);

    /// <summary>
    /// Replaces a stored object's <see cref="OwnedObject.Pending"/> and <see cref="OwnedObject.State"/> if it is still the
    /// version in its <see cref="OwnedObject.ETag"/>; the new version (with its ETag), or null when it changed or is gone.
    /// </summary>
    Task<OwnedObject?> ReplaceAsync(OwnedObject owned, CancellationToken cancellationToken);

    /// <summary>Removes the key's object; false when it was not there.</summary>
    Task<bool> RemoveAsync(string ownerKeyId, string kind, string id, CancellationToken cancellationToken);

    /// <summary>Every key's objects of one kind that owe background work (<see cref="OwnedObject.Pending"/>), oldest first per key.</summary>
    IAsyncEnumerable<OwnedObject> PendingAsync(string kind, CancellationToken cancellationToken);

    /// <summary>Every object of one kind that a key owns, whether or not the key still exists (for the operator).</summary>
    IAsyncEnumerable<OwnedObject> OwnedByAsync(string ownerKeyId, string kind, CancellationToken cancellationToken);
}

/// <summary>What adding a counted object came to.</summary>
public enum OwnedAdd
{
    Added,

    /// <summary>The key already owns an object of that kind and id.</summary>
    Exists,

    /// <summary>The key already holds as many files as its limit allows; nothing was written.</summary>
    Full,

    /// <summary>The file's bytes would take the key past its limit of bytes held; nothing was written.</summary>
    OverBytes,
}

/// <summary>A key's limits on the files it holds at once; null for no limit.</summary>
public readonly record struct FileQuota(long? MaxFiles, long? MaxBytes)
{
    public bool IsNone => MaxFiles is null && MaxBytes is null;
}

/// <summary>The files a key holds and their bytes (<see cref="OwnedObject.Bytes"/>).</summary>
public readonly record struct FileHoldings(long Count, long Bytes);
