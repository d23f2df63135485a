using System.Globalization;
using Microsoft.AspNetCore.Http;
using Qhaigc.Functions.Api;
using Qhaigc.Functions.Keys;
using Qhaigc.Functions.Protocol;
using Qhaigc.Functions.Usage;

namespace Qhaigc.Functions.Admin.Usage;

/// <summary>
/// <c>GET /manage/usage?keyId=&amp;from=&amp;to=&amp;limit=&amp;cursor=</c> (see docs/admin-api.md and
/// docs/usage-records.md): the usage records of one key, or of every key in id order, that started in [from, to) (the
/// last 30 days unless given), a page at a time, with totals per key, UTC day and model on the first page.
/// </summary>
/// <remarks>
/// A page is read with the usage table's continuation token (<see cref="IUsageStore.QueryPageAsync(string, DateTimeOffset, DateTimeOffset, UsageFilter, string?, int, CancellationToken)"/>), asking for no
/// more records than the page still lacks, so the token where a page ends is exactly where the next one starts: no
/// page reads a record of an earlier one. The first page goes on to the end of the range for the totals, and so knows
/// whether a next page has any record.
/// </remarks>
public sealed class UsageEndpoint(AdminAuthorization admin, IUsageStore usage, TimeProvider time)
{
    public const int DefaultPageSize = 100;
    public const int MaxPageSize = 1000;

    /// <summary>The most Table Storage returns in one page.</summary>
    private const int TotalsPageSize = 1000;

    private static readonly TimeSpan DefaultRange = TimeSpan.FromDays(30);

    private readonly byte[] _cursorKey = admin.DeriveKey("qhaigc usage cursor");

    public Task<IResult> HandleUsageAsync(HttpContext context) => admin.RunAsync(context, "GET", method => method switch
    {
        "GET" => GetAsync(context),
        _ => null,
    });

    private async Task<IResult> GetAsync(HttpContext context)
    {
        var query = context.Request.Query;
        UsageCursor? cursor = null;
        if (query.TryGetValue("cursor", out var cursorText) && !UsageCursor.TryRead(cursorText.ToString(), _cursorKey, out cursor))
        {
            return AdminResults.Invalid("cursor: invalid cursor");
        }

        // Without a cursor the range defaults to the last 30 days; with one, to the range the cursor was made for.
        var to = cursor?.To ?? time.GetUtcNow();
        if (!AdminResults.TryReadTime(query, "to", ref to, out var error))
        {
            return error!;
        }

        var from = cursor?.From ?? (to.UtcTicks > DefaultRange.Ticks ? to - DefaultRange : DateTimeOffset.MinValue);
        if (!AdminResults.TryReadTime(query, "from", ref from, out error))
        {
            return error!;
        }

        if (from >= to)
        {
            return AdminResults.Invalid("from: must be before to");
        }

        var limit = DefaultPageSize;
        if (query.TryGetValue("limit", out var limitText) &&
            (!int.TryParse(limitText, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit is < 1 or > MaxPageSize))
        {
            return AdminResults.Invalid($"limit: Input should be an integer from 1 to {MaxPageSize}");
        }

        var keyIdFilter = cursor?.KeyIdFilter;
        if (query["keyId"].ToString() is { Length: > 0 } keyId)
        {
            if (ApiKeyHasher.PartitionFromId(keyId) is null)
            {
                return AdminResults.Invalid("keyId: not a key id");
            }

            keyIdFilter = keyId;
        }

        if (ReadFilter(query, out var filter, out var newestFirst) is { } invalid)
        {
            return invalid;
        }

        var queryText = UsageQueryText.Of(filter, newestFirst);
        if (cursor is not null && !cursor.Continues(keyIdFilter, from, to, cursor.Query.Length > 0 && !HasFilter(query) ? cursor.Query : queryText))
        {
            return AdminResults.Invalid("cursor: made for another query; keep keyId, from, to, model, state, status and order as they were, or leave them out");
        }

        if (cursor is not null && !HasFilter(query) && cursor.Query.Length > 0)
        {
            // Parameters left out of a later page's call take the cursor's values.
            (filter, newestFirst) = UsageQueryText.Read(cursor.Query);
            queryText = cursor.Query;
        }

        // Every key with records in the range, read from the usage table itself: a deleted key's records still count
        // (its statement keeps them), though the key table no longer lists it.
        var keyIds = keyIdFilter is not null
            ? [keyIdFilter]
            : (await usage.KeyIdsAsync(from, to, context.RequestAborted)).Where(static id => ApiKeyHasher.PartitionFromId(id) is not null).ToArray();
        var page = newestFirst
            ? await ReadNewestPageAsync(keyIds, keyIdFilter, from, to, limit, cursor, filter, queryText, context.RequestAborted)
            : await ReadPageAsync(keyIds, keyIdFilter, from, to, limit, cursor, filter, queryText, context.RequestAborted);
        return AdminResults.Json(page, GatewayJsonContext.Default.UsageReport);
    }

    private async Task<UsageReport> ReadPageAsync(
        string[] keyIds, string? keyIdFilter, DateTimeOffset from, DateTimeOffset to, int limit, UsageCursor? cursor, UsageFilter filter,
        string queryText, CancellationToken cancellationToken)
    {
        var records = new List<UsageRecord>(Math.Min(limit, 128));
        var totals = cursor is null ? new UsageTotals() : null;
        UsageCursor? next = null;
        var recordsAfterPage = false;

        // The cursor's key, or the first after it in id order if that key has been deleted meanwhile.
        var start = cursor is null ? 0 : keyIds.Count(k => string.CompareOrdinal(k, cursor.KeyId) < 0);
        for (var i = start; i < keyIds.Length && (totals is not null || records.Count < limit); i++)
        {
            var keyId = keyIds[i];
            var token = cursor is not null && keyId == cursor.KeyId ? cursor.Token : null;
            do
            {
                if (records.Count == limit)
                {
                    // Past the page (first page only): the rest of the range counts for the totals alone.
                    var rest = await usage.QueryPageAsync(keyId, from, to, filter, token, TotalsPageSize, cancellationToken);
                    totals!.Add(rest.Records);
                    recordsAfterPage |= rest.Records.Count > 0;
                    token = rest.ContinuationToken;
                    continue;
                }

                var read = await usage.QueryPageAsync(keyId, from, to, filter, token, limit - records.Count, cancellationToken);
                records.AddRange(read.Records);
                totals?.Add(read.Records);
                token = read.ContinuationToken;
                if (records.Count == limit)
                {
                    next = token is not null ? new UsageCursor(keyIdFilter, from, to, keyId, token, queryText)
                        : i + 1 < keyIds.Length ? new UsageCursor(keyIdFilter, from, to, keyIds[i + 1], null, queryText)
                        : null;
                }
            }
            while (token is not null && (totals is not null || records.Count < limit));
        }

        // The first page read to the end, so it knows whether any record follows; a later page only knows where it ended.
        if (totals is not null && !recordsAfterPage)
        {
            next = null;
        }

        return new UsageReport
        {
            KeyId = keyIdFilter,
            From = from,
            To = to,
            Totals = totals?.ToArray(),
            Records = records,
            NextCursor = next?.Write(_cursorKey),
        };
    }

    /// <summary>
    /// One page newest first, over every key in the query: each key's newest records before the cursor's time, read
    /// backwards in growing time windows (the table keeps a key's records oldest first), merged by time. The cursor holds
    /// the time of the last record given and the ids given at that time, so records sharing it are neither skipped nor
    /// given twice. The first page also carries the totals over the whole range.
    /// </summary>
    private async Task<UsageReport> ReadNewestPageAsync(
        string[] keyIds, string? keyIdFilter, DateTimeOffset from, DateTimeOffset to, int limit, UsageCursor? cursor, UsageFilter filter,
        string queryText, CancellationToken cancellationToken)
    {
        var (before, given) = cursor is null ? (to, new HashSet<string>(StringComparer.Ordinal)) : NewestToken.Read(cursor.Token, to);
        var candidates = new List<UsageRecord>();
        foreach (var keyId in keyIds)
        {
            candidates.AddRange(await NewestAsync(keyId, from, before, inclusive: cursor is not null, given, filter, limit, cancellationToken));
        }

        var records = candidates.OrderByDescending(static r => r.StartedAt.UtcTicks).ThenByDescending(static r => r.RequestId, StringComparer.Ordinal)
            .Take(limit).ToList();
        UsageTotals? totals = null;
        if (cursor is null)
        {
            totals = new UsageTotals();
            foreach (var keyId in keyIds)
            {
                totals.Add(await ReadAllAsync(keyId, from, to, filter, cancellationToken));
            }
        }

        UsageCursor? next = null;
        if (records.Count == limit && candidates.Count > 0)
        {
            var last = records[^1];
            var at = records.Where(r => r.StartedAt.UtcTicks == last.StartedAt.UtcTicks).Select(static r => r.RequestId);
            if (last.StartedAt.UtcTicks == before.UtcTicks)
            {
                at = at.Concat(given);
            }

            next = new UsageCursor(keyIdFilter, from, to, last.KeyId, NewestToken.Write(last.StartedAt, at), queryText);
        }

        return new UsageReport
        {
            KeyId = keyIdFilter,
            From = from,
            To = to,
            Totals = totals?.ToArray(),
            Records = records,
            NextCursor = next?.Write(_cursorKey),
        };
    }

    /// <summary>
    /// Up to <paramref name="count"/> of a key's newest records in [from, before) (or [from, before] when
    /// <paramref name="inclusive"/>, those given before left out): windows
    /// of an hour, then four times longer each, back from <paramref name="before"/>.
    /// </summary>
    private async Task<List<UsageRecord>> NewestAsync(
        string keyId, DateTimeOffset from, DateTimeOffset before, bool inclusive, HashSet<string> given, UsageFilter filter, int count,
        CancellationToken cancellationToken)
    {
        var found = new List<UsageRecord>();
        var high = inclusive && before.UtcTicks < DateTimeOffset.MaxValue.UtcTicks ? before.AddTicks(1) : before;
        var window = TimeSpan.FromHours(1);
        while (found.Count < count && high > from)
        {
            var low = high - from > window ? high - window : from;
            var inWindow = await ReadAllAsync(keyId, low, high, filter, cancellationToken);

            for (var i = inWindow.Count - 1; i >= 0 && found.Count < count; i--)
            {
                var record = inWindow[i];
                if (record.StartedAt.UtcTicks < before.UtcTicks || (record.StartedAt.UtcTicks == before.UtcTicks && !given.Contains(record.RequestId)))
                {
                    found.Add(record);
                }
            }

            high = low;
            window = window.Ticks > TimeSpan.MaxValue.Ticks / 8 ? TimeSpan.MaxValue / 2 : window * 4;
        }

        return found;
    }

    /// <summary>Every record of a key in [from, to) the filter keeps, oldest first, a table page at a time.</summary>
    private async Task<List<UsageRecord>> ReadAllAsync(
        string keyId, DateTimeOffset from, DateTimeOffset to, UsageFilter filter, CancellationToken cancellationToken)
    {
        var records = new List<UsageRecord>();
        string? token = null;
        do
        {
            var page = await usage.QueryPageAsync(keyId, from, to, filter, token, TotalsPageSize, cancellationToken);
            records.AddRange(page.Records);
            token = page.ContinuationToken;
        }
        while (token is not null);

        return records;
    }

    private static bool HasFilter(IQueryCollection query) =>
        query.ContainsKey("model") || query.ContainsKey("state") || query.ContainsKey("status") || query.ContainsKey("order");

    /// <summary>Reads <c>model</c>, <c>state</c>, <c>status</c> and <c>order</c> (<c>asc</c>, the default, or <c>desc</c>); the 400 for a value it cannot read.</summary>
    private static ErrorResult? ReadFilter(IQueryCollection query, out UsageFilter filter, out bool newestFirst)
    {
        filter = UsageFilter.None;
        newestFirst = false;
        string? model = null;
        if (query.TryGetValue("model", out var modelText))
        {
            model = modelText.ToString();
            if (model.Length is 0 or > 256)
            {
                return AdminResults.Invalid("model: Input should be a model name of 1 to 256 characters");
            }
        }

        UsageState? state = null;
        if (query.TryGetValue("state", out var stateText))
        {
            state = stateText.ToString() switch
            {
                "complete" => UsageState.Complete,
                "truncated" => UsageState.Truncated,
                "cancelled" => UsageState.Cancelled,
                "failed" => UsageState.Failed,
                _ => null,
            };
            if (state is null)
            {
                return AdminResults.Invalid("state: Input should be 'complete', 'truncated', 'cancelled' or 'failed'");
            }
        }

        int? status = null;
        if (query.TryGetValue("status", out var statusText))
        {
            if (!int.TryParse(statusText.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var code) || code is < 100 or > 599)
            {
                return AdminResults.Invalid("status: Input should be an HTTP status from 100 to 599");
            }

            status = code;
        }

        if (query.TryGetValue("order", out var orderText))
        {
            if (orderText.ToString() is not ("asc" or "desc"))
            {
                return AdminResults.Invalid("order: Input should be 'asc' or 'desc'");
            }

            newestFirst = orderText.ToString() == "desc";
        }

        filter = new UsageFilter(model, state, status);
        return null;
    }
}
