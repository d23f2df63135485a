using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Http;
using Qhaigc.Functions.Governance;
using Qhaigc.Functions.Keys;
using Qhaigc.Functions.Protocol;
using Qhaigc.Functions.Usage;

namespace Qhaigc.Functions.Admin.Statements;

/// <summary>
/// <c>GET /manage/keys/{id}/statement?from=&amp;to=&amp;period=&amp;format=json|csv</c> (see docs/admin-api.md and
/// docs/limits-and-prices.md): a key's calls, tokens and cost per UTC day and model, summed from its usage records;
/// the current UTC month unless <c>period</c> (<c>2026-11</c>) or <c>from</c>/<c>to</c> says otherwise.
/// </summary>
public sealed class StatementsEndpoint(AdminAuthorization admin, IUsageStore usageStore, TimeProvider time)
{
    public Task<IResult> HandleStatementAsync(HttpContext context, string id) => admin.RunAsync(context, "GET", method => method switch
    {
        "GET" => GetAsync(context, id),
        _ => null,
    });

    private async Task<IResult> GetAsync(HttpContext context, string id)
    {
        if (ApiKeyHasher.PartitionFromId(id) is null)
        {
            return AdminResults.KeyNotFound(id);
        }

        return await AnswerAsync(context, id);
    }

    /// <summary>
    /// The statement of <paramref name="keyId"/> for the range the query gives (<c>period</c>, <c>from</c>, <c>to</c>), as
    /// <c>format</c> asks; a 400 for a query it cannot read. The key's own <c>GET /v1/gateway/key/statement</c> answers
    /// with it too.
    /// </summary>
    public async Task<IResult> AnswerAsync(HttpContext context, string keyId)
    {
        var id = keyId;
        var query = context.Request.Query;
        var now = time.GetUtcNow();
        var from = SpendPeriods.Start(SpendPeriod.Month, now, now);
        var to = from.AddMonths(1);
        if (query.TryGetValue("period", out var periodText))
        {
            if (!DateTimeOffset.TryParseExact(periodText.ToString(), "yyyy-MM", CultureInfo.InvariantCulture,
                    DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out from))
            {
                return AdminResults.Invalid("period: Input should be a month, such as 2026-11");
            }

            to = from.Year == 9999 && from.Month == 12 ? DateTimeOffset.MaxValue : from.AddMonths(1);
        }

        if (!AdminResults.TryReadTime(query, "from", ref from, out var error) || !AdminResults.TryReadTime(query, "to", ref to, out error))
        {
            return error!;
        }

        if (from >= to)
        {
            return AdminResults.Invalid("from: must be before to");
        }

        var format = query["format"].ToString();
        if (format.Length > 0 && format is not ("json" or "csv"))
        {
            return AdminResults.Invalid("format: Input should be 'json' or 'csv'");
        }

        var statement = await StatementBuilder.BuildAsync(usageStore, id, from, to, context.RequestAborted);
        if (format != "csv")
        {
            return AdminResults.Json(statement, GatewayJsonContext.Default.Statement);
        }

        var name = string.Create(CultureInfo.InvariantCulture, $"statement-{id}-{from:yyyyMMdd'T'HHmmss}-{to:yyyyMMdd'T'HHmmss}.csv");
        context.Response.Headers.ContentDisposition = $"attachment; filename=\"{name}\"";
        return Results.Text(StatementCsv.Write(statement), "text/csv; charset=utf-8", Encoding.UTF8);
    }
}
