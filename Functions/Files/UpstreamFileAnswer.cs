using Qhaigc.Functions.Protocol;

namespace Qhaigc.Functions.Files;

/// <summary>
/// What an upstream answered a file operation: an error, a JSON object (a file, a deletion), or a download's content
/// stream, which owns the upstream connection until the answer is disposed.
/// </summary>
public sealed class UpstreamFileAnswer : IDisposable
{
    private IDisposable? _owner;

    private UpstreamFileAnswer()
    {
    }

    public ApiError? Error { get; private init; }

    /// <summary>True when the client left while the operation ran (its upload, say, was cut).</summary>
    public bool ClientLeft { get; private init; }

    /// <summary>True when the upload grew past <c>Gateway:Files:MaxUploadBytes</c> and was cut.</summary>
    public bool TooLarge { get; private init; }

    public byte[]? Json { get; private init; }

    public Stream? Content { get; private init; }

    public string? ContentType { get; private init; }

    public long? ContentLength { get; private init; }

    public string? UpstreamRequestId { get; private init; }

    public static UpstreamFileAnswer Failed(ApiError error, string? upstreamRequestId = null) =>
        new() { Error = error, UpstreamRequestId = upstreamRequestId };

    public static UpstreamFileAnswer Left { get; } = new() { ClientLeft = true };

    public static UpstreamFileAnswer OverLimit { get; } = new() { TooLarge = true };

    public static UpstreamFileAnswer OfJson(byte[] json, string? upstreamRequestId = null) =>
        new() { Json = json, UpstreamRequestId = upstreamRequestId };

    public static UpstreamFileAnswer OfContent(Stream content, string? contentType, long? contentLength, IDisposable? owner, string? upstreamRequestId = null) =>
        new() { Content = content, ContentType = contentType, ContentLength = contentLength, _owner = owner, UpstreamRequestId = upstreamRequestId };

    /// <summary>The error for an upstream that could not be reached or did not answer in time.</summary>
    public static UpstreamFileAnswer Unreached(bool timedOut) => Failed(ApiError.From(ApiErrorKind.UpstreamUnavailable,
        timedOut ? "The upstream did not answer in time." : "The upstream could not be reached."));

    public void Dispose()
    {
        Content?.Dispose();
        _owner?.Dispose();
    }
}
