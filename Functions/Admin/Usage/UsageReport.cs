using Qhaigc.Functions.Usage;

namespace Qhaigc.Functions.Admin.Usage;

/// <summary>
/// <c>GET /manage/usage</c> answer (see docs/admin-api.md): totals over the whole range with the first page, and one
/// page of raw records.
/// </summary>
public sealed record UsageReport
{
    public string? KeyId { get; init; }

    public required DateTimeOffset From { get; init; }

    public required DateTimeOffset To { get; init; }

    /// <summary>
    /// Per key, UTC day and model over the whole range; only on the first page (a call without <c>cursor</c>), which
    /// reads every record of the range once. Later pages leave it out, so paging never reads a record twice.
    /// </summary>
    public IReadOnlyList<UsageTotal>? Totals { get; init; }

    /// <summary>Oldest first within a key, keys in id order.</summary>
    public required IReadOnlyList<UsageRecord> Records { get; init; }

    /// <summary>
    /// Pass as <c>cursor</c> (with the same <c>keyId</c>, <c>from</c> and <c>to</c>, or none of them) for the next page;
    /// absent on the last page. Pages after the first may end on an empty page.
    /// </summary>
    public string? NextCursor { get; init; }
}
