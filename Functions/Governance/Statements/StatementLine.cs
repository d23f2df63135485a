namespace Qhaigc.Functions.Governance;

/// <summary>One model on one UTC day in a statement: the sum of that day's usage records of the model.</summary>
public sealed record StatementLine
{
    public required string Day { get; init; }

    public required string Model { get; init; }

    /// <summary>The currency of <see cref="Cost"/>; null for a line of calls without a price.</summary>
    public string? Currency { get; init; }

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

    public decimal Cost { get; init; }

    /// <summary>Calls whose model had no price: counted, not costed.</summary>
    public long UnpricedCalls { get; init; }

    /// <summary>Calls whose token counts are partly the gateway's estimate.</summary>
    public long EstimatedCalls { get; init; }
}
