using Qhaigc.Functions.Protocol;

namespace Qhaigc.Functions.Batches;

/// <summary>
/// An upstream's answer to a results read: the JSON Lines as they arrive (the connection released on dispose), or the
/// error.
/// </summary>
public sealed class BatchResultsReply(Stream? body, string? contentType, ApiError? error, IDisposable? owner = null) : IDisposable
{
    public Stream? Body { get; } = body;

    public string? ContentType { get; } = contentType;

    public ApiError? Error { get; } = error;

    public static BatchResultsReply Failed(ApiError error) => new(null, null, error);

    public void Dispose()
    {
        Body?.Dispose();
        owner?.Dispose();
    }
}
