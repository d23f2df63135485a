using System.Runtime.CompilerServices;
using Azure;
using Azure.Data.Tables;
using Qhaigc.Functions.Storage;

namespace Qhaigc.Functions.Ownership;

/// <summary>The objects table in Azure Table Storage (or Azurite); see <see cref="OwnedObjectEntity"/> for its rows.</summary>
public sealed class TableOwnedObjectStore(GatewayTables tables) : IOwnedObjectStore
{
    /// <summary>
    /// The row in a key's partition that counts its files and their bytes; outside the id and list rows' key ranges of
    /// every kind, so no query of objects ever returns it.
    /// </summary>
    internal const string FileCountRow = "!count:file";

    private const string CountProperty = "Count";

    private const string BytesProperty = "Bytes";

    /// <summary>Attempts at a counted change before the contention is left to the caller (as storage unavailable).</summary>
    private const int MaxCountAttempts = 20;

    public async Task<bool> AddAsync(OwnedObject owned, CancellationToken cancellationToken)
    {
        if (!OwnedObjectIds.IsValid(owned.Id))
        {
            throw new ArgumentException("Not an owned object id.", nameof(owned));
        }

        var (idRow, listRow) = OwnedObjectEntity.From(owned with { ETag = default });
        try
        {
            var table = await tables.ObjectsAsync(cancellationToken);
            await table.SubmitTransactionAsync(
                [new TableTransactionAction(TableTransactionActionType.Add, idRow), new TableTransactionAction(TableTransactionActionType.Add, listRow)],
                cancellationToken);
            return true;
        }
        catch (TableTransactionFailedException exception) when (exception.Status == 409)
        {
            return false;
        }
        catch (Exception exception) when (Unavailable(exception, cancellationToken) is { } unavailable)
        {
            throw unavailable;
        }
    }

    public async Task<OwnedAdd> AddFileAsync(OwnedObject file, FileQuota quota, CancellationToken cancellationToken)
    {
        if (file.Kind != OwnedKinds.File || !OwnedObjectIds.IsValid(file.Id))
        {
            throw new ArgumentException("Not a file with an owned object id.", nameof(file));
        }

        var (idRow, listRow) = OwnedObjectEntity.From(file with { ETag = default });
        var size = OwnedObjectEntity.FileBytes(file.Bytes, file.State);
        try
        {
            var table = await tables.ObjectsAsync(cancellationToken);
            for (var attempt = 1; ; attempt++)
            {
                var (held, counter) = await HoldingsAsync(table, file.OwnerKeyId, cancellationToken);
                if (held.Count >= quota.MaxFiles)
                {
                    return OwnedAdd.Full;
                }

                if (held.Bytes + size > quota.MaxBytes)
                {
                    return OwnedAdd.OverBytes;
                }

                var next = Counter(file.OwnerKeyId, new FileHoldings(held.Count + 1, held.Bytes + size));
                try
                {
                    await table.SubmitTransactionAsync(
                        [
                            new TableTransactionAction(TableTransactionActionType.Add, idRow),
                            new TableTransactionAction(TableTransactionActionType.Add, listRow),
                            counter is null
                                ? new TableTransactionAction(TableTransactionActionType.Add, next)
                                : new TableTransactionAction(TableTransactionActionType.UpdateReplace, next, counter.Value),
                        ],
                        cancellationToken);
                    return OwnedAdd.Added;
                }
                catch (TableTransactionFailedException exception) when (exception.Status is 409 or 412)
                {
                    if (exception.Status == 409 && exception.FailedTransactionActionIndex is 0 or 1)
                    {
                        return OwnedAdd.Exists;
                    }

                    // Another upload or removal of the key's changed the count first: read it again.
                    ThrowIfContended(attempt, exception);
                }
            }
        }
        catch (Exception exception) when (Unavailable(exception, cancellationToken) is { } unavailable)
        {
            throw unavailable;
        }
    }

    public async Task<FileHoldings> FileHoldingsAsync(string ownerKeyId, CancellationToken cancellationToken)
    {
        try
        {
            var table = await tables.ObjectsAsync(cancellationToken);
            return (await HoldingsAsync(table, ownerKeyId, cancellationToken)).Holdings;
        }
        catch (Exception exception) when (Unavailable(exception, cancellationToken) is { } unavailable)
        {
            throw unavailable;
        }
    }

    /// <summary>
    /// The key's files and bytes held, and the ETag of the row that keeps them; where that row keeps no count (files
    /// recorded before counting began, or none) or no bytes (counted before bytes were), counted from the key's file
    /// rows, with the row's ETag if there is one, so the next counted change replaces it.
    /// </summary>
    private static async Task<(FileHoldings Holdings, ETag? Counter)> HoldingsAsync(TableClient table, string ownerKeyId, CancellationToken cancellationToken)
    {
        var (stored, etag) = await StoredHoldingsAsync(table, ownerKeyId, cancellationToken);
        return (stored ?? await CountedHoldingsAsync(table, ownerKeyId, cancellationToken), etag);
    }

    /// <summary>The key's files and bytes held, counted from its file rows.</summary>
    private static async Task<FileHoldings> CountedHoldingsAsync(TableClient table, string ownerKeyId, CancellationToken cancellationToken)
    {
        long count = 0;
        long bytes = 0;
        await foreach (var row in table.QueryAsync<TableEntity>(
            OwnedByFilter(ownerKeyId, OwnedKinds.File), maxPerPage: 1000, select: ["RowKey", BytesProperty, nameof(OwnedObjectEntity.State)],
            cancellationToken: cancellationToken))
        {
            count++;
            bytes += OwnedObjectEntity.FileBytes(row.GetInt64(BytesProperty), row.GetString(nameof(OwnedObjectEntity.State)));
        }

        return new FileHoldings(count, bytes);
    }

    /// <summary>What the key's counter row keeps (null without one, or without both figures) and the row's ETag.</summary>
    private static async Task<(FileHoldings? Holdings, ETag? ETag)> StoredHoldingsAsync(TableClient table, string ownerKeyId, CancellationToken cancellationToken)
    {
        var counter = await table.GetEntityIfExistsAsync<TableEntity>(ownerKeyId, FileCountRow, cancellationToken: cancellationToken);
        if (!counter.HasValue)
        {
            return (null, null);
        }

        var row = counter.Value!;
        return row.GetInt64(CountProperty) is { } count && row.GetInt64(BytesProperty) is { } bytes
            ? (new FileHoldings(count, bytes), row.ETag)
            : (null, row.ETag);
    }

    private static TableEntity Counter(string ownerKeyId, FileHoldings holdings) =>
        new(ownerKeyId, FileCountRow) { [CountProperty] = holdings.Count, [BytesProperty] = holdings.Bytes };

    /// <summary>
    /// The key's holdings without <paramref name="file"/> and the counter row's ETag; nothing when the key has no counter
    /// row (its files are counted from their rows when a count is first needed, so a removal has nothing to change).
    /// </summary>
    private static async Task<(FileHoldings? Remaining, ETag? Counter)> RemainingAsync(TableClient table, OwnedObject file, CancellationToken cancellationToken)
    {
        var (stored, etag) = await StoredHoldingsAsync(table, file.OwnerKeyId, cancellationToken);
        if (etag is null)
        {
            return (null, null);
        }

        var held = stored ?? await CountedHoldingsAsync(table, file.OwnerKeyId, cancellationToken);
        return (new FileHoldings(Math.Max(0, held.Count - 1), Math.Max(0, held.Bytes - OwnedObjectEntity.FileBytes(file.Bytes, file.State))), etag);
    }

    public async Task<OwnedObject?> FindAsync(string ownerKeyId, string kind, string id, CancellationToken cancellationToken)
    {
        if (!OwnedObjectIds.IsValid(id) || string.IsNullOrEmpty(ownerKeyId))
        {
            return null;
        }

        try
        {
            var table = await tables.ObjectsAsync(cancellationToken);
            var found = await table.GetEntityIfExistsAsync<OwnedObjectEntity>(ownerKeyId, OwnedObjectEntity.IdRow(kind, id), cancellationToken: cancellationToken);
            return found.HasValue ? found.Value!.ToOwned() : null;
        }
        catch (Exception exception) when (Unavailable(exception, cancellationToken) is { } unavailable)
        {
            throw unavailable;
        }
    }

    public async Task<OwnedPage?> ListAsync(
        string ownerKeyId, string kind, int limit, string? beforeId, string? afterId, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        var (low, high) = (OwnedObjectEntity.ListStart(kind), OwnedObjectEntity.ListEnd(kind));
        var newerThanCursor = false;
        var cursorId = afterId ?? beforeId;
        if (cursorId is not null)
        {
            if (await FindAsync(ownerKeyId, kind, cursorId, cancellationToken) is not { } cursor)
            {
                return null;
            }

            var cursorRow = OwnedObjectEntity.ListRow(kind, cursor.CreatedAt, cursor.Id);
            if (afterId is not null)
            {
                low = cursorRow + "\0";
            }
            else
            {
                high = cursorRow;
                newerThanCursor = true;
            }
        }

        try
        {
            var table = await tables.ObjectsAsync(cancellationToken);
            var filter = TableClient.CreateQueryFilter($"PartitionKey eq {ownerKeyId} and RowKey ge {low} and RowKey lt {high}");
            if (!newerThanCursor)
            {
                var items = new List<OwnedObject>(Math.Min(limit, 1000) + 1);
                await foreach (var row in table.QueryAsync<OwnedObjectEntity>(filter, maxPerPage: Math.Min(limit + 1, 1000), cancellationToken: cancellationToken))
                {
                    items.Add(row.ToOwned());
                    if (items.Count > limit)
                    {
                        break;
                    }
                }

                var more = items.Count > limit;
                return new OwnedPage(more ? items[..limit] : items, more);
            }

            // The objects just newer than the cursor are the last rows before it: keep a window of limit + 1.
            var window = new Queue<OwnedObject>(Math.Min(limit, 1000) + 1);
            await foreach (var row in table.QueryAsync<OwnedObjectEntity>(filter, maxPerPage: 1000, cancellationToken: cancellationToken))
            {
                window.Enqueue(row.ToOwned());
                if (window.Count > limit + 1)
                {
                    window.Dequeue();
                }
            }

            var hasMore = window.Count > limit;
            if (hasMore)
            {
                window.Dequeue();
            }

            return new OwnedPage([.. window], hasMore);
        }
        catch (Exception exception) when (Unavailable(exception, cancellationToken) is { } unavailable)
        {
            throw unavailable;
        }
    }

    public async Task<OwnedObject?> ReplaceAsync(OwnedObject owned, CancellationToken cancellationToken)
    {
        var (idRow, listRow) = OwnedObjectEntity.From(owned);
        listRow.ETag = default;
        try
        {
            var table = await tables.ObjectsAsync(cancellationToken);
            var responses = await table.SubmitTransactionAsync(
                [
                    new TableTransactionAction(TableTransactionActionType.UpdateReplace, idRow, owned.ETag),
                    new TableTransactionAction(TableTransactionActionType.UpsertReplace, listRow),
                ],
                cancellationToken);
            return owned with { ETag = responses.Value[0].Headers.ETag ?? default };
        }
        catch (TableTransactionFailedException exception) when (exception.Status is 404 or 412)
        {
            return null;
        }
        catch (Exception exception) when (Unavailable(exception, cancellationToken) is { } unavailable)
        {
            throw unavailable;
        }
    }

    public async Task<bool> RemoveAsync(string ownerKeyId, string kind, string id, CancellationToken cancellationToken)
    {
        if (await FindAsync(ownerKeyId, kind, id, cancellationToken) is not { } owned)
        {
            return false;
        }

        try
        {
            var table = await tables.ObjectsAsync(cancellationToken);
            for (var attempt = 1; ; attempt++)
            {
                List<TableTransactionAction> actions =
                [
                    new TableTransactionAction(TableTransactionActionType.Delete, new TableEntity(ownerKeyId, OwnedObjectEntity.IdRow(kind, id)), owned.ETag),
                    new TableTransactionAction(
                        TableTransactionActionType.Delete, new TableEntity(ownerKeyId, OwnedObjectEntity.ListRow(kind, owned.CreatedAt, id)), ETag.All),
                ];
                if (kind == OwnedKinds.File && await RemainingAsync(table, owned, cancellationToken) is ({ } remaining, { } counter))
                {
                    // The key's count of files and bytes goes down with the file, in the same transaction.
                    actions.Add(new TableTransactionAction(TableTransactionActionType.UpdateReplace, Counter(ownerKeyId, remaining), counter));
                }

                try
                {
                    await table.SubmitTransactionAsync(actions, cancellationToken);
                    return true;
                }
                catch (TableTransactionFailedException exception) when (exception.Status == 412 && exception.FailedTransactionActionIndex == 2)
                {
                    // The count changed meanwhile (another upload or removal of the key's): read it again.
                    ThrowIfContended(attempt, exception);
                }
            }
        }
        catch (TableTransactionFailedException exception) when (exception.Status is 404 or 412)
        {
            return false;
        }
        catch (Exception exception) when (Unavailable(exception, cancellationToken) is { } unavailable)
        {
            throw unavailable;
        }
    }

    public IAsyncEnumerable<OwnedObject> PendingAsync(string kind, CancellationToken cancellationToken) =>
        QueryAsync(TableClient.CreateQueryFilter(
            $"RowKey ge {OwnedObjectEntity.IdStart(kind)} and RowKey lt {OwnedObjectEntity.IdEnd(kind)} and Pending eq true"), cancellationToken);

    public IAsyncEnumerable<OwnedObject> OwnedByAsync(string ownerKeyId, string kind, CancellationToken cancellationToken) =>
        QueryAsync(OwnedByFilter(ownerKeyId, kind), cancellationToken);

    /// <summary>A key's list rows of one kind: one row per object.</summary>
    private static string OwnedByFilter(string ownerKeyId, string kind) => TableClient.CreateQueryFilter(
        $"PartitionKey eq {ownerKeyId} and RowKey ge {OwnedObjectEntity.ListStart(kind)} and RowKey lt {OwnedObjectEntity.ListEnd(kind)}");

    private async IAsyncEnumerable<OwnedObject> QueryAsync(string filter, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        TableClient table;
        try
        {
            table = await tables.ObjectsAsync(cancellationToken);
        }
        catch (Exception exception) when (Unavailable(exception, cancellationToken) is { } unavailable)
        {
            throw unavailable;
        }

        var rows = table.QueryAsync<OwnedObjectEntity>(filter, maxPerPage: 1000, cancellationToken: cancellationToken).GetAsyncEnumerator(cancellationToken);
        try
        {
            while (true)
            {
                try
                {
                    if (!await rows.MoveNextAsync())
                    {
                        yield break;
                    }
                }
                catch (Exception exception) when (Unavailable(exception, cancellationToken) is { } unavailable)
                {
                    throw unavailable;
                }

                yield return rows.Current.ToOwned();
            }
        }
        finally
        {
            await rows.DisposeAsync();
        }
    }

    /// <summary>After <see cref="MaxCountAttempts"/> lost races for a key's count, the change is given up as storage unavailable.</summary>
    private static void ThrowIfContended(int attempt, Exception exception)
    {
        if (attempt >= MaxCountAttempts)
        {
            throw new StorageUnavailableException("The key's count of files kept changing; the change was not made.", exception);
        }
    }

    private StorageUnavailableException? Unavailable(Exception exception, CancellationToken cancellationToken)
    {
        if (exception is RequestFailedException { Status: 404, ErrorCode: "TableNotFound" })
        {
            tables.ObjectsTableMissing();
            return new StorageUnavailableException("The objects table does not exist.", exception);
        }

        return exception is not StorageUnavailableException && StorageErrors.IsUnavailable(exception, cancellationToken)
            ? new StorageUnavailableException("The objects table could not be reached.", exception)
            : null;
    }
}
