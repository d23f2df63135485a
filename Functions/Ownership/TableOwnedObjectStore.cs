using System.Runtime.CompilerServices;
using Azure;
using Azure.Data.Tables;
using Qhaigc.Functions.Storage;

namespace Qhaigc.Functions.Ownership;

/// <summary>The objects table in Azure Table Storage (or Azurite); see <see cref="OwnedObjectEntity"/> for its rows.</summary>
public sealed class TableOwnedObjectStore(GatewayTables tables) : IOwnedObjectStore
{
    /// <summary>
    /// The row in a key's partition that counts its files; outside the id and list rows' key ranges of every kind, so no
    /// query of objects ever returns it.
    /// </summary>
    internal const string FileCountRow = "!count:file";

    private const string CountProperty = "Count";

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

    public async Task<OwnedAdd> AddFileAsync(OwnedObject file, long? maxFiles, CancellationToken cancellationToken)
    {
        if (file.Kind != OwnedKinds.File || !OwnedObjectIds.IsValid(file.Id))
        {
            throw new ArgumentException("Not a file with an owned object id.", nameof(file));
        }

        var (idRow, listRow) = OwnedObjectEntity.From(file with { ETag = default });
        try
        {
            var table = await tables.ObjectsAsync(cancellationToken);
            for (var attempt = 1; ; attempt++)
            {
                var (count, counter) = await FileCountAsync(table, file.OwnerKeyId, cancellationToken);
                if (count >= maxFiles)
                {
                    return OwnedAdd.Full;
                }

                var next = new TableEntity(file.OwnerKeyId, FileCountRow) { [CountProperty] = count + 1 };
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

    public async Task<long> CountFilesAsync(string ownerKeyId, CancellationToken cancellationToken)
    {
        try
        {
            var table = await tables.ObjectsAsync(cancellationToken);
            return (await FileCountAsync(table, ownerKeyId, cancellationToken)).Count;
        }
        catch (Exception exception) when (Unavailable(exception, cancellationToken) is { } unavailable)
        {
            throw unavailable;
        }
    }

    /// <summary>
    /// The key's count of files and the ETag of the row that keeps it; with no such row yet (files recorded before
    /// counting began, or none), the count of the key's file rows and no ETag.
    /// </summary>
    private static async Task<(long Count, ETag? Counter)> FileCountAsync(TableClient table, string ownerKeyId, CancellationToken cancellationToken)
    {
        var (stored, etag) = await StoredFileCountAsync(table, ownerKeyId, cancellationToken);
        if (stored is { } kept)
        {
            return (kept, etag);
        }

        long count = 0;
        await foreach (var _ in table.QueryAsync<TableEntity>(
            OwnedByFilter(ownerKeyId, OwnedKinds.File), maxPerPage: 1000, select: ["RowKey"], cancellationToken: cancellationToken))
        {
            count++;
        }

        return (count, etag);
    }

    /// <summary>The count the key's counter row keeps (null without one, or without a count) and the row's ETag.</summary>
    private static async Task<(long? Count, ETag? ETag)> StoredFileCountAsync(TableClient table, string ownerKeyId, CancellationToken cancellationToken)
    {
        var counter = await table.GetEntityIfExistsAsync<TableEntity>(ownerKeyId, FileCountRow, cancellationToken: cancellationToken);
        return counter.HasValue ? (counter.Value!.GetInt64(CountProperty), counter.Value.ETag) : (null, null);
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
                if (kind == OwnedKinds.File && await StoredFileCountAsync(table, ownerKeyId, cancellationToken) is ({ } count, { } counter))
                {
                    // The key's count of files goes down with the file, in the same transaction.
                    actions.Add(new TableTransactionAction(TableTransactionActionType.UpdateReplace,
                        new TableEntity(ownerKeyId, FileCountRow) { [CountProperty] = Math.Max(0, count - 1) }, counter));
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
