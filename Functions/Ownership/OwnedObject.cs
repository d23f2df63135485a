using Azure;

namespace Qhaigc.Functions.Ownership;

/// <summary>
/// An object that lives on an upstream account (a message batch, a file) and the key that owns it. Every tenant of an
/// upstream account shares that account's objects there, so the gateway keeps which key created each one; any other key
/// is told the object does not exist (docs/tenant-isolation.md#objects-owned-per-key).
/// </summary>
public sealed record OwnedObject
{
    /// <summary>What the object is (<see cref="OwnedKinds"/>); each kind is listed and paged on its own.</summary>
    public required string Kind { get; init; }

    /// <summary>The id clients see (letters, digits, <c>_</c> and <c>-</c>; see <see cref="OwnedObjectIds"/>).</summary>
    public required string Id { get; init; }

    /// <summary>The owning key's id, which a rotation keeps.</summary>
    public required string OwnerKeyId { get; init; }

    /// <summary>The upstream (deployment) name that holds the object.</summary>
    public required string Upstream { get; init; }

    /// <summary>The object's id at that upstream.</summary>
    public required string UpstreamId { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary>
    /// True while background work is owed for the object (a batch not settled yet); <see cref="IOwnedObjectStore.PendingAsync"/>
    /// finds these across every key.
    /// </summary>
    public bool Pending { get; init; }

    /// <summary>
    /// A file's size as its key's holdings count it (docs/files.md#how-many-files-a-key-holds); null for other kinds,
    /// and for a file recorded before sizes were kept, which is counted by the <c>size_bytes</c> of its state.
    /// </summary>
    public long? Bytes { get; init; }

    /// <summary>What the kind keeps about the object, as JSON (at most <see cref="OwnedObjectEntity.MaxStateLength"/> characters).</summary>
    public string? State { get; init; }

    /// <summary>The stored version, for <see cref="IOwnedObjectStore.ReplaceAsync"/>; empty for an object not stored yet.</summary>
    public ETag ETag { get; init; }
}
