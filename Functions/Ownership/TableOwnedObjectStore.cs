using System.Runtime.CompilerServices;
using Azure;
using Azure.Data.Tables;
using Qhaigc.Functions.Storage;

namespace Qhaigc.Functions.Ownership;

/// <summary>The objects table in Azure Table Storage (or Azurite); see <see cref="OwnedObjectEntity"/> for its rows.</summary>
public sealed class TableOwnedObjectStore(GatewayTables tables) : IOwnedObjectStore
{
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
            await table.SubmitTransactionAsync(
                [
                    new TableTransactionAction(TableTransactionActionType.Delete, new TableEntity(ownerKeyId, OwnedObjectEntity.IdRow(kind, id)), owned.ETag),
                    new TableTransactionAction(
                        TableTransactionActionType.Delete, new TableEntity(ownerKeyId, OwnedObjectEntity.ListRow(kind, owned.CreatedAt, id)), ETag.All),
                ],
                cancellationToken);
            return true;
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
        QueryAsync(TableClient.CreateQueryFilter(
            $"PartitionKey eq {ownerKeyId} and RowKey ge {OwnedObjectEntity.ListStart(kind)} and RowKey lt {OwnedObjectEntity.ListEnd(kind)}"), cancellationToken);

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
