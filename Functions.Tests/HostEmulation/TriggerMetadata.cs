using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Qhaigc.Functions.Tests.HostEmulation.Rpc;

namespace Qhaigc.Functions.Tests.HostEmulation;

/// <summary>
/// The HTTP trigger's binding data, as the host sends it in <c>InvocationRequest.trigger_metadata</c> (the WebJobs HTTP
/// extension's GetRequestBindingDataAsync): top-level JSON body properties, then query parameters except <c>code</c>,
/// then route values (each later source wins), then <c>Query</c> and <c>Headers</c> as JSON, and <c>sys</c>.
/// The worker binds function parameters such as a route's <c>{id}</c> from these, not from the forwarded request.
/// </summary>
internal static class TriggerMetadata
{
    /// <summary>
    /// The host reads any body with a Content-Length for binding data; the emulator stops at this size so a large upload
    /// is not parsed for nothing (no function of this app binds body properties).
    /// </summary>
    public const long MaxBodyBindingBytes = 4 * 1024 * 1024;

    public static async Task<Dictionary<string, TypedData>> CreateAsync(
        HttpRequest request, string functionName, RouteValueDictionary routeValues, CancellationToken cancellationToken)
    {
        var metadata = new Dictionary<string, TypedData>(StringComparer.OrdinalIgnoreCase);
        if (request.ContentLength is > 0 and <= MaxBodyBindingBytes)
        {
            await AddBodyPropertiesAsync(request, metadata, cancellationToken);
        }

        foreach (var (name, value) in request.Query)
        {
            if (!string.Equals(name, "code", StringComparison.OrdinalIgnoreCase))
            {
                metadata[name] = new TypedData { String = value.ToString() };
            }
        }

        foreach (var (name, value) in routeValues)
        {
            metadata[name] = new TypedData { String = Convert.ToString(value, CultureInfo.InvariantCulture) ?? string.Empty };
        }

        metadata.TryAdd("Query", Json(request.Query.ToDictionary(static q => q.Key, static q => q.Value.ToString(), StringComparer.OrdinalIgnoreCase)));
        metadata.TryAdd("Headers", Json(request.Headers.ToDictionary(static h => h.Key, static h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase)));
        metadata.TryAdd("sys", Json(new Dictionary<string, string>
        {
            ["MethodName"] = functionName,
            ["UtcNow"] = DateTime.UtcNow.ToString("O", CultureInfo.InvariantCulture),
            ["RandGuid"] = Guid.NewGuid().ToString(),
        }));
        return metadata;
    }

    private static async Task AddBodyPropertiesAsync(HttpRequest request, Dictionary<string, TypedData> metadata, CancellationToken cancellationToken)
    {
        // Buffer, as the host does, so the same bytes are forwarded afterwards.
        request.EnableBuffering();
        try
        {
            // As a string first, like the host (ReadAsStringAsync): invalid UTF-8 becomes U+FFFD instead of an error.
            using var reader = new StreamReader(request.Body, Encoding.UTF8, detectEncodingFromByteOrderMarks: false, leaveOpen: true);
            using var body = JsonDocument.Parse(await reader.ReadToEndAsync(cancellationToken));
            if (body.RootElement.ValueKind != JsonValueKind.Object)
            {
                return;
            }

            foreach (var property in body.RootElement.EnumerateObject())
            {
                // Only top-level properties; arrays and nulls are left out.
                TypedData? value = property.Value.ValueKind switch
                {
                    JsonValueKind.String => new TypedData { String = property.Value.GetString() },
                    JsonValueKind.Number when property.Value.TryGetInt64(out var integer) => new TypedData { Int = integer },
                    JsonValueKind.Number => new TypedData { Double = property.Value.GetDouble() },
                    JsonValueKind.Object or JsonValueKind.True or JsonValueKind.False => new TypedData { Json = property.Value.GetRawText() },
                    _ => null,
                };
                if (value is not null)
                {
                    metadata[property.Name] = value;
                }
            }
        }
        catch (JsonException)
        {
            // Not JSON: no binding data from the body, as in the host.
        }
        finally
        {
            request.Body.Position = 0;
        }
    }

    private static TypedData Json(Dictionary<string, string> values) => new() { Json = JsonSerializer.Serialize(values, EmulatorJsonContext.Default.DictionaryStringString) };
}
