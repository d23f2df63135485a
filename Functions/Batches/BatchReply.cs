using Qhaigc.Functions.Protocol;

namespace Qhaigc.Functions.Batches;

/// <summary>
/// What an upstream answered a batch call with: the JSON body of a success, or its error as the client gets it
/// (status, type and wording as the upstream sent them, as for Messages calls: docs/batches.md#errors).
/// </summary>
public sealed record BatchReply(byte[]? Body, ApiError? Error)
{
    public static BatchReply Of(byte[] body) => new(body, null);

    public static BatchReply Failed(ApiError error) => new(null, error);

    /// <summary>The upstream does not know the batch (deleted, expired, or never there).</summary>
    public bool NotFound => Error is { Status: 404 };
}
