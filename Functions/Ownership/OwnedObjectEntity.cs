using System.Globalization;
using System.Text;
using Azure;
using Azure.Data.Tables;
using Qhaigc.Functions.Files;

namespace Qhaigc.Functions.Ownership;

/// <summary>
/// An owned object's rows in the objects table, both in the owner's partition (PartitionKey = owner key id) and written
/// in one transaction: the id row (<c>{kind}:{id}</c>) that finds it, and the list row
/// (<c>{kind}|{inverted ticks}|{id}</c>) that pages the key's objects newest first.
/// </summary>
public sealed class OwnedObjectEntity : ITableEntity
{
    /// <summary>The longest <see cref="State"/> kept: a string property holds 64 KB of UTF-16.</summary>
    public const int MaxStateLength = 30_000;

    public string PartitionKey { get; set; } = "";

    public string RowKey { get; set; } = "";

    public DateTimeOffset? Timestamp { get; set; }

    public ETag ETag { get; set; }

    public string Kind { get; set; } = "";

    public string Id { get; set; } = "";

    public string Upstream { get; set; } = "";

    public string UpstreamId { get; set; } = "";

    public DateTimeOffset CreatedAt { get; set; }

    public bool Pending { get; set; }

    public string? State { get; set; }

    public long? Bytes { get; set; }

    public static string IdRow(string kind, string id) => kind + ":" + id;

    /// <summary>
    /// A file's bytes as its key's holdings count them: the size kept with it, else the <c>size_bytes</c> of the file
    /// object kept as its state (a file recorded before sizes were kept), else 0.
    /// </summary>
    public static long FileBytes(long? bytes, string? state) =>
        Math.Max(0, bytes ?? (string.IsNullOrEmpty(state) ? null : FileObjects.Read(Encoding.UTF8.GetBytes(state))?.SizeBytes) ?? 0);

    public static string ListRow(string kind, DateTimeOffset createdAt, string id) =>
        kind + "|" + (DateTimeOffset.MaxValue.UtcTicks - createdAt.UtcTicks).ToString("D19", CultureInfo.InvariantCulture) + "|" + id;

    /// <summary>The first list row key of a kind.</summary>
    public static string ListStart(string kind) => kind + "|";

    /// <summary>Just above every list row key of a kind.</summary>
    public static string ListEnd(string kind) => kind + "}";

    /// <summary>The first id row key of a kind.</summary>
    public static string IdStart(string kind) => kind + ":";

    /// <summary>Just above every id row key of a kind.</summary>
    public static string IdEnd(string kind) => kind + ";";

    public static (OwnedObjectEntity IdEntity, OwnedObjectEntity ListEntity) From(OwnedObject owned)
    {
        if (owned.State is { Length: > MaxStateLength })
        {
            throw new ArgumentException($"An owned object's state is at most {MaxStateLength} characters.", nameof(owned));
        }

        return (Row(owned, IdRow(owned.Kind, owned.Id)), Row(owned, ListRow(owned.Kind, owned.CreatedAt, owned.Id)));
    }

    public OwnedObject ToOwned() => new()
    {
        Kind = Kind,
        Id = Id,
        OwnerKeyId = PartitionKey,
        Upstream = Upstream,
        UpstreamId = UpstreamId,
        CreatedAt = CreatedAt,
        Pending = Pending,
        State = State,
        Bytes = Bytes,
        ETag = ETag,
    };

    private static OwnedObjectEntity Row(OwnedObject owned, string rowKey) => new()
    {
        PartitionKey = owned.OwnerKeyId,
        RowKey = rowKey,
        Kind = owned.Kind,
        Id = owned.Id,
        Upstream = owned.Upstream,
        UpstreamId = owned.UpstreamId,
        CreatedAt = owned.CreatedAt,
        Pending = owned.Pending,
        State = owned.State,
        Bytes = owned.Bytes,
        ETag = owned.ETag,
    };
}
