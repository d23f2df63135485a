namespace Qhaigc.Functions.Tests.TestDoubles;

/// <summary>What an upstream received: read inside the handler, since the sender disposes its request afterwards.</summary>
public sealed record CapturedRequest(HttpMethod Method, Uri Uri, IReadOnlyDictionary<string, string> Headers, byte[] Body)
{
    public static async Task<CapturedRequest> CaptureAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var headers = request.Headers.Concat(request.Content?.Headers ?? Enumerable.Empty<KeyValuePair<string, IEnumerable<string>>>())
            .ToDictionary(static h => h.Key, static h => string.Join(",", h.Value), StringComparer.OrdinalIgnoreCase);
        var body = request.Content is null ? [] : await request.Content.ReadAsByteArrayAsync(cancellationToken);
        return new CapturedRequest(request.Method, request.RequestUri!, headers, body);
    }

    public string? Header(string name) => Headers.TryGetValue(name, out var value) ? value : null;
}
