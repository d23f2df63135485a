using Microsoft.AspNetCore.Http;
using Qhaigc.Functions.Admin;
using Qhaigc.Functions.Admin.Keys;
using Qhaigc.Functions.Admin.Statements;
using Qhaigc.Functions.Admin.Usage;
using Qhaigc.Functions.Api;
using Qhaigc.Functions.Governance;
using Qhaigc.Functions.Keys;
using Qhaigc.Functions.Ownership;
using Qhaigc.Functions.Protocol;
using Qhaigc.Functions.Storage;

namespace Qhaigc.Functions.Customer;

/// <summary>
/// What a key's holder may read about their own key (docs/console.md#the-customer-endpoint), authenticated as
/// <c>/v1/messages</c> is (<c>x-api-key</c> or Bearer; a disabled, expired or rotated-out secret is a 401, and the admin
/// key is no client key) and answering in Claude's error shape: <c>GET /v1/gateway/key</c>,
/// <c>GET /v1/gateway/key/usage/daily</c> and <c>GET /v1/gateway/key/statement</c>. The key every answer is about is the
/// caller's, never one a query names: a parameter these routes do not read (a <c>keyId</c>, say) is a 400.
/// </summary>
public sealed class CustomerEndpoint(
    ApiKeyAuthenticator authenticator,
    GovernanceService governance,
    ILimitLedger ledger,
    IOwnedObjectStore objects,
    DailyReports reports,
    StatementsEndpoint statements,
    TimeProvider time)
{
    private static readonly string[] StatementParameters = ["period", "from", "to", "format"];

    public Task<IResult> HandleKeyAsync(HttpContext context) => RunAsync(context, async key =>
    {
        if (context.Request.Query.Count > 0)
        {
            return AdminResults.Invalid($"{context.Request.Query.Keys.First()}: unknown query parameter (this route takes none)");
        }

        return AdminResults.Json(new CustomerKeyView
        {
            Id = key.Id,
            Name = key.Name,
            Hint = HintOfCaller(context.Request, key),
            Models = key.Models,
            ExpiresAt = key.ExpiresAt,
            Limits = KeyView.From(key).Limits,
            Current = await KeyCounters.ReadAsync(governance, ledger, objects, key, time.GetUtcNow(), context.RequestAborted),
        }, GatewayJsonContext.Default.CustomerKeyView);
    });

    public Task<IResult> HandleDailyAsync(HttpContext context) => RunAsync(context, async key =>
        reports.Read(context.Request.Query, filters: false, out var error) is { } query
            ? AdminResults.Json(await reports.BuildAsync(query, key.Id, context.RequestAborted), GatewayJsonContext.Default.DailyReport)
            : error!);

    public Task<IResult> HandleStatementAsync(HttpContext context) => RunAsync(context, key =>
    {
        var query = context.Request.Query;
        if (query.Keys.FirstOrDefault(k => !StatementParameters.Contains(k, StringComparer.Ordinal)) is { } unknown)
        {
            return Task.FromResult<IResult>(AdminResults.Invalid(
                $"{(unknown.Length > 40 ? unknown[..40] : unknown)}: unknown query parameter (known: {string.Join(", ", StatementParameters)})"));
        }

        return statements.AnswerAsync(context, key.Id);
    });

    private async Task<IResult> RunAsync(HttpContext context, Func<ApiKey, Task<IResult>> answer)
    {
        GatewayContext.Of(context, time);
        context.Response.Headers.CacheControl = "no-store";
        var (key, error) = await ClientAuthentication.AuthenticateAsync(authenticator, context.Request, context.RequestAborted);
        if (key is null)
        {
            return new ErrorResult(error!);
        }

        try
        {
            return await answer(key);
        }
        catch (Exception exception) when (StorageErrors.IsUnavailable(exception, context.RequestAborted))
        {
            return new ErrorResult(ApiError.From(ApiErrorKind.StorageUnavailable, "Storage is temporarily unavailable; please retry."));
        }
    }

    /// <summary>The hint of the secret the call came with (during a rotation's grace period a key has several).</summary>
    private static string HintOfCaller(HttpRequest request, ApiKey key)
    {
        var credentials = ClientCredentials.Read(request);
        foreach (var secret in new[] { credentials.ApiKey, credentials.BearerToken })
        {
            if (secret is not null && key.SecretWithHash(ApiKeyHasher.Hash(secret)) is { } used)
            {
                return used.Hint;
            }
        }

        return key.Hint;
    }
}
