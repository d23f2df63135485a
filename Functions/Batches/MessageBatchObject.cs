using System.Globalization;
using System.Text.Json;
using Qhaigc.Functions.Protocol;
using Qhaigc.Functions.Translation;

namespace Qhaigc.Functions.Batches;

/// <summary>
/// Anthropic's <c>message_batch</c> object as the gateway reads and shows it (docs/batches.md#results_url): its id and
/// <c>processing_status</c>, and the same object with <c>results_url</c> pointing at the gateway, never at the upstream.
/// </summary>
public static class MessageBatchObject
{
    /// <summary>The batch's id and status, or null when the body is not a batch object.</summary>
    public static (string Id, string Status)? Read(ReadOnlySpan<byte> json)
    {
        try
        {
            var reader = new Utf8JsonReader(json);
            using var document = JsonDocument.ParseValue(ref reader);
            var root = document.RootElement;
            return JsonValues.GetString(root, "id") is { } id
                ? (id, JsonValues.GetString(root, "processing_status") ?? "in_progress")
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>
    /// The object as the client sees it: a <c>results_url</c> the upstream gave (null until the batch ends) replaced by
    /// the gateway's own, <paramref name="gatewayBase"/> + <c>/v1/messages/batches/{id}/results</c>.
    /// </summary>
    public static byte[] ForClient(ReadOnlySpan<byte> json, string gatewayBase, string id)
    {
        var reader = new Utf8JsonReader(json);
        using var document = JsonDocument.ParseValue(ref reader);
        var root = document.RootElement;
        return root.ValueKind == JsonValueKind.Object && JsonValues.Has(root, "results_url", out _)
            ? JsonRewriter.WithTopLevelString(root, "results_url", ResultsUrl(gatewayBase, id))
            : json.ToArray();
    }

    public static string ResultsUrl(string gatewayBase, string id) =>
        gatewayBase + "/" + Hosting.GatewayRoutes.MessageBatches + "/" + Uri.EscapeDataString(id) + "/results";

    /// <summary>Anthropic's timestamps: RFC 3339 in UTC.</summary>
    public static string Timestamp(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);
}
