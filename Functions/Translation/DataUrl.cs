namespace Qhaigc.Functions.Translation;

/// <summary>A parsed <c>data:&lt;media type&gt;;base64,&lt;data&gt;</c> URL.</summary>
public readonly record struct DataUrl(string MediaType, string Base64)
{
    public static bool TryParse(string url, out DataUrl dataUrl)
    {
        dataUrl = default;
        if (!url.StartsWith("data:", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var comma = url.IndexOf(',', StringComparison.Ordinal);
        if (comma < 0)
        {
            return false;
        }

        var header = url.AsSpan(5, comma - 5);
        const string Base64Marker = ";base64";
        if (!header.EndsWith(Base64Marker, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var mediaType = header[..^Base64Marker.Length];
        var parameters = mediaType.IndexOf(';');
        if (parameters >= 0)
        {
            mediaType = mediaType[..parameters];
        }

        dataUrl = new DataUrl(mediaType.Trim().ToString().ToLowerInvariant(), url[(comma + 1)..]);
        return true;
    }

    public static string Format(string mediaType, string base64) => "data:" + mediaType + ";base64," + base64;
}
