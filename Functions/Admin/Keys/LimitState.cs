namespace Qhaigc.Functions.Admin.Keys;

/// <summary>
/// A key's counters as they stand: the current minute window, the current spend period, running streams, and the files
/// it holds where it has a limit on them.
/// </summary>
public sealed record LimitState
{
    public long Requests { get; init; }

    public long InputTokens { get; init; }

    public long OutputTokens { get; init; }

    public required DateTimeOffset WindowReset { get; init; }

    public string? SpendPeriod { get; init; }

    public decimal Spent { get; init; }

    /// <summary>Worst cases reserved by calls still running.</summary>
    public decimal Reserved { get; init; }

    public string? Currency { get; init; }

    public long ActiveStreams { get; init; }

    /// <summary>Files the key holds, when it has <c>maxFiles</c> or <c>maxFileBytes</c>.</summary>
    public long? FilesHeld { get; init; }

    /// <summary>Their bytes, likewise.</summary>
    public long? FileBytesHeld { get; init; }
}
