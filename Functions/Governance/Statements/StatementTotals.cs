namespace Qhaigc.Functions.Governance;

/// <summary>A statement's totals: the sum of its lines (and so of its usage records). Costs are summed per currency.</summary>
public sealed record StatementTotals
{
    public long Calls { get; init; }

    public long InputTokens { get; init; }

    public long OutputTokens { get; init; }

    public long CacheWrite5mTokens { get; init; }

    public long CacheWrite1hTokens { get; init; }

    public long CacheReadTokens { get; init; }

    /// <summary>Web searches the upstream ran (each priced per search, in <c>cost</c>).</summary>
    public long WebSearchRequests { get; init; }

    /// <summary>Web fetches the upstream ran.</summary>
    public long WebFetchRequests { get; init; }

    /// <summary>Cost per currency code, e.g. <c>{"USD": 12.345678}</c> (one currency unless the operator changed it).</summary>
    public required IReadOnlyDictionary<string, decimal> Cost { get; init; }

    public long UnpricedCalls { get; init; }

    public long EstimatedCalls { get; init; }
}
