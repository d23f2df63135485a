using Qhaigc.Functions.Protocol;

namespace Qhaigc.Functions.Batches;

/// <summary>What <see cref="BatchBodyReader.NextAsync"/> read.</summary>
public enum BatchBodyItemKind
{
    /// <summary>One request's bytes.</summary>
    Request,

    /// <summary>The body ended well after its last request.</summary>
    End,

    /// <summary>The body is refused (<see cref="BatchBodyItem.Error"/>).</summary>
    Refused,

    /// <summary>Internal to the reader: more bytes are needed.</summary>
    NeedMore,
}

/// <summary>One step of a batch body: a request, the end, or the refusal.</summary>
public readonly record struct BatchBodyItem(BatchBodyItemKind Kind, byte[]? Bytes, ApiError? Error)
{
    public static BatchBodyItem End => new(BatchBodyItemKind.End, null, null);

    internal static BatchBodyItem NeedMore => new(BatchBodyItemKind.NeedMore, null, null);

    public static BatchBodyItem Request(byte[] bytes) => new(BatchBodyItemKind.Request, bytes, null);

    public static BatchBodyItem Refused(ApiError error) => new(BatchBodyItemKind.Refused, null, error);
}
