using Microsoft.AspNetCore.Http;
using Qhaigc.Functions.Protocol;

namespace Qhaigc.Functions.Admin.Usage;

/// <summary>
/// <c>GET /manage/usage/daily?from=&amp;to=&amp;keyId=&amp;model=</c> (docs/console.md#daily-usage): usage per UTC day,
/// key and model from the daily aggregates, for one key or every key with records in the range.
/// </summary>
public sealed class DailyUsageEndpoint(AdminAuthorization admin, DailyReports reports)
{
    public Task<IResult> HandleAsync(HttpContext context) => admin.RunAsync(context, "GET", method => method switch
    {
        "GET" => GetAsync(context),
        _ => null,
    });

    private async Task<IResult> GetAsync(HttpContext context)
    {
        if (reports.Read(context.Request.Query, filters: true, out var error) is not { } query)
        {
            return error!;
        }

        var report = await reports.BuildAsync(query, query.KeyId, context.RequestAborted);
        return AdminResults.Json(report, GatewayJsonContext.Default.DailyReport);
    }
}
