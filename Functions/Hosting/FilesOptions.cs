namespace Qhaigc.Functions.Hosting;

/// <summary>The Files API (<c>Gateway:Files</c>, docs/files.md).</summary>
public sealed class FilesOptions
{
    /// <summary>Anthropic's limit for one file: 500 MB.</summary>
    public const long DefaultMaxFileBytes = 500L * 1024 * 1024;

    /// <summary>What an upload body may hold beside its file: the multipart boundaries and part headers.</summary>
    public const long MultipartFramingBytes = 1024 * 1024;

    /// <summary>
    /// The upstream (deployment) that takes uploads: an <c>anthropic</c> or <c>local</c> one. Unset: the first of those,
    /// in name order, whose deployment is not resting (docs/files.md#which-deployment-holds-a-file).
    /// </summary>
    public string? Upstream { get; set; }

    /// <summary>
    /// Largest upload body accepted, multipart framing included: a declared length above it is a <c>413</c> before any
    /// byte is read, and a body that grows past it is cut and its upstream upload cancelled.
    /// </summary>
    public long MaxUploadBytes { get; set; } = DefaultMaxFileBytes + MultipartFramingBytes;

    /// <summary>
    /// An optional price per operation (<c>upload</c>, <c>list</c>, <c>retrieve</c>, <c>download</c>, <c>delete</c>) in
    /// <c>Gateway:Prices:Currency</c>; an operation without one costs 0 (docs/files.md#usage-and-prices).
    /// </summary>
    public Dictionary<string, decimal> Prices { get; set; } = new(StringComparer.OrdinalIgnoreCase);
}
