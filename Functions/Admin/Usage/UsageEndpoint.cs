using System.Globalization;
using Microsoft.AspNetCore.Http;
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
/// A page is read with the usage table's continuation token (<see cref="IUsageStore.QueryPageAsync"/>), asking for no
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

        if (cursor is not null && !cursor.Continues(keyIdFilter, from, to))
        {
            return AdminResults.Invalid("cursor: made for another query; keep keyId, from and to as they were, or leave them out");
        }

        // Every key with records in the range, read from the usage table itself: a deleted key's records still count
        // (its statement keeps them), though the key table no longer lists it.
        var keyIds = keyIdFilter is not null
            ? [keyIdFilter]
            : (await usage.KeyIdsAsync(from, to, context.RequestAborted)).Where(static id => ApiKeyHasher.PartitionFromId(id) is not null).ToArray();
        var page = await ReadPageAsync(keyIds, keyIdFilter, from, to, limit, cursor, context.RequestAborted);
        return AdminResults.Json(page, GatewayJsonContext.Default.UsageReport);
    }

    private async Task<UsageReport> ReadPageAsync(
        string[] keyIds, string? keyIdFilter, DateTimeOffset from, DateTimeOffset to, int limit, UsageCursor? cursor, CancellationToken cancellationToken)
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
                    var rest = await usage.QueryPageAsync(keyId, from, to, token, TotalsPageSize, cancellationToken);
                    totals!.Add(rest.Records);
                    recordsAfterPage |= rest.Records.Count > 0;
                    token = rest.ContinuationToken;
                    continue;
                }

                var read = await usage.QueryPageAsync(keyId, from, to, token, limit - records.Count, cancellationToken);
                records.AddRange(read.Records);
                totals?.Add(read.Records);
                token = read.ContinuationToken;
                if (records.Count == limit)
                {
                    next = token is not null ? new UsageCursor(keyIdFilter, from, to, keyId, token)
                        : i + 1 < keyIds.Length ? new UsageCursor(keyIdFilter, from, to, keyIds[i + 1], null)
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
}
