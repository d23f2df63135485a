namespace Qhaigc.Functions.Hosting;

/// <summary>
/// Every HTTP route the gateway serves, shared by the function attributes and the standalone endpoints.
/// <c>host.json</c> sets the route prefix to empty, so these are the full paths.
/// </summary>
/// <remarks>
/// The Functions host reserves every route that starts with <c>admin</c> or <c>runtime</c> for its own APIs
/// ("The specified route conflicts with one or more built in routes"), so the gateway's administration API lives
/// under <c>/manage</c> instead.
/// </remarks>
public static class GatewayRoutes
{
    public const string Messages = "v1/messages";
    public const string CountTokens = "v1/messages/count_tokens";
    public const string ChatCompletions = "v1/chat/completions";
    public const string Models = "v1/models";
    public const string MessageBatches = "v1/messages/batches";
    public const string MessageBatch = "v1/messages/batches/{id}";
    public const string MessageBatchCancel = "v1/messages/batches/{id}/cancel";
    public const string MessageBatchResults = "v1/messages/batches/{id}/results";

    /// <summary>Catch-all, because model ids from OpenAI-compatible servers may hold a <c>/</c> (<c>org/model</c>).</summary>
    public const string Model = "v1/models/{*id}";
    public const string Files = "v1/files";
    public const string File = "v1/files/{id}";
    public const string FileContent = "v1/files/{id}/content";
    public const string Keys = "manage/keys";
    public const string Key = "manage/keys/{id}";
    public const string KeyRotate = "manage/keys/{id}/rotate";
    public const string KeyStatement = "manage/keys/{id}/statement";
    public const string KeyFiles = "manage/keys/{id}/files";
    public const string KeyFile = "manage/keys/{id}/files/{fileId}";
    public const string Usage = "manage/usage";
    public const string Upstreams = "manage/upstreams";

    /// <summary>The customer's view of their own key (docs/console.md#the-customer-endpoint), key-authenticated.</summary>
    public const string GatewayKey = "v1/gateway/key";
    public const string GatewayKeyDaily = "v1/gateway/key/usage/daily";
    public const string GatewayKeyStatement = "v1/gateway/key/statement";

    /// <summary>Usage per key, UTC day and model, from the daily aggregates (docs/console.md#daily-aggregates).</summary>
    public const string UsageDaily = "manage/usage/daily";

    /// <summary>The console's files (docs/console.md); <c>/console</c> itself is its index.html.</summary>
    public const string Console = "console/{*path}";

    /// <summary>Everything else: <c>GET /</c> and <c>HEAD /</c> answer 200, anything else a Claude-shaped 404.</summary>
    public const string Fallback = "{*path}";

    /// <summary>
    /// The methods the admin routes and the fallback take in both hosting modes (the function attributes list the same
    /// ones): an admin route answers a method it does not serve with <c>405</c> and <c>Allow</c> itself
    /// (docs/admin-api.md), rather than leaving it to the fallback's <c>404</c>.
    /// </summary>
    public static readonly string[] AnyMethod = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];
}
