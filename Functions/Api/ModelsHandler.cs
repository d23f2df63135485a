using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Qhaigc.Functions.Keys;
using Qhaigc.Functions.Protocol;
using Qhaigc.Functions.Translation;
using Qhaigc.Functions.Upstreams;

namespace Qhaigc.Functions.Api;

/// <summary>
/// <c>GET /v1/models</c> and <c>GET /v1/models/{id}</c> (docs/wire-contract.md#11-models): one body that both Anthropic's and OpenAI's
/// SDKs read, holding only the models the key may use. Anthropic clients (they send <c>anthropic-version</c>) and
/// callers that page get Anthropic's paging (<c>limit</c> default 20, <c>after_id</c>, <c>before_id</c>); OpenAI
/// clients, which never page this list, get every model at once. Not billed, so no usage record.
/// </summary>
public sealed class ModelsHandler(ApiKeyAuthenticator authenticator, ModelCatalog catalog, UpstreamRouter router, TimeProvider time)
{
    public const int DefaultLimit = 20;
    public const int MaxLimit = 1000;
    public const string OwnedBy = "qhaigc";

    public async Task<IResult> HandleListAsync(HttpContext context)
    {
        GatewayContext.Of(context, time);
        var request = context.Request;
        var (key, authError) = await ClientAuthentication.AuthenticateAsync(authenticator, request, context.RequestAborted);
        if (key is null)
        {
            return new ErrorResult(authError!);
        }

        var query = request.Query;
        var paged = request.Headers.ContainsKey(HeaderNames.AnthropicVersion) ||
                    query.ContainsKey("limit") || query.ContainsKey("after_id") || query.ContainsKey("before_id");
        var limit = int.MaxValue;
        if (paged)
        {
            limit = DefaultLimit;
            if (query.TryGetValue("limit", out var limitText) &&
                (!int.TryParse(limitText.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit is < 1 or > MaxLimit))
            {
                return new ErrorResult(ApiError.InvalidRequest($"limit: Input should be an integer between 1 and {MaxLimit}"));
            }
        }

        var models = (await catalog.ListAsync(context.RequestAborted)).Where(m => key.AllowsModel(m.Id)).ToList();
        var afterId = query["after_id"].ToString();
        var beforeId = query["before_id"].ToString();
        int start, end;
        bool hasMore;
        if (beforeId.Length > 0)
        {
            // The page just before the cursor (newer models); "more" means still newer ones.
            var cursor = models.FindIndex(m => m.Id == beforeId);
            end = Math.Max(cursor, 0);
            start = Math.Max(0, end - limit);
            hasMore = start > 0;
        }
        else
        {
            var cursor = afterId.Length > 0 ? models.FindIndex(m => m.Id == afterId) : -1;
            start = afterId.Length > 0 ? (cursor < 0 ? models.Count : cursor + 1) : 0;
            end = (int)Math.Min(models.Count, (long)start + limit);
            hasMore = end < models.Count;
        }

        var page = models.GetRange(start, end - start);
        var body = JsonValues.Write(writer =>
        {
            writer.WriteStartObject();
            writer.WriteString("object"u8, "list"u8);
            writer.WriteStartArray("data"u8);
            foreach (var model in page)
            {
                WriteModel(writer, model);
            }

            writer.WriteEndArray();
            writer.WriteBoolean("has_more"u8, hasMore);
            WriteId(writer, "first_id"u8, page.Count > 0 ? page[0].Id : null);
            WriteId(writer, "last_id"u8, page.Count > 0 ? page[^1].Id : null);
            writer.WriteEndObject();
        }, 1024);
        return new JsonBodyResult(body);
    }

    public async Task<IResult> HandleGetAsync(HttpContext context, string id)
    {
        if (string.IsNullOrEmpty(id.Trim('/')))
        {
            // "/v1/models/": the list, with a trailing slash (docs/wire-contract.md#11-routes).
            return await HandleListAsync(context);
        }

        GatewayContext.Of(context, time);
        var (key, authError) = await ClientAuthentication.AuthenticateAsync(authenticator, context.Request, context.RequestAborted);
        if (key is null)
        {
            return new ErrorResult(authError!);
        }

        // SDKs escape a "/" in the id (org/model → org%2Fmodel), and the server leaves %2F in the path as it is.
        id = Uri.UnescapeDataString(id.TrimEnd('/'));
        if (id.Length == 0 || !key.AllowsModel(id) || router.Route(id) is null)
        {
            return new ErrorResult(ApiError.From(ApiErrorKind.NotFound, "model: " + CallRecorders.Truncate(id, 256)));
        }

        // A model the upstream routes but does not list (a wildcard the list did not cover) is still served.
        var model = (await catalog.ListAsync(context.RequestAborted)).FirstOrDefault(m => m.Id == id)
                    ?? new CatalogModel(id, id, DateTimeOffset.UnixEpoch, null, null);
        return new JsonBodyResult(JsonValues.Write(writer => WriteModel(writer, model)));
    }

    /// <summary>One model in both shapes at once: Anthropic's fields and OpenAI's (docs/wire-contract.md#11-models).</summary>
    public static void WriteModel(Utf8JsonWriter writer, CatalogModel model)
    {
        writer.WriteStartObject();
        writer.WriteString("type"u8, "model"u8);
        writer.WriteString("id"u8, model.Id);
        writer.WriteString("display_name"u8, model.DisplayName);
        writer.WriteString("created_at"u8, model.CreatedAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture));
        if (model.MaxInputTokens is { } maxInput)
        {
            writer.WriteNumber("max_input_tokens"u8, maxInput);
        }

        if (model.MaxTokens is { } maxTokens)
        {
            writer.WriteNumber("max_tokens"u8, maxTokens);
        }

        writer.WriteString("object"u8, "model"u8);
        writer.WriteNumber("created"u8, model.CreatedAt.ToUnixTimeSeconds());
        writer.WriteString("owned_by"u8, OwnedBy);
        writer.WriteEndObject();
    }

    /// <summary>A list's <c>first_id</c> or <c>last_id</c>: the id, or null for an empty page.</summary>
    internal static void WriteId(Utf8JsonWriter writer, ReadOnlySpan<byte> name, string? id)
    {
        if (id is null)
        {
            writer.WriteNull(name);
        }
        else
        {
            writer.WriteString(name, id);
        }
    }
}
