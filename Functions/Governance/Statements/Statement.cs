namespace Qhaigc.Functions.Governance;

/// <summary>A key's statement for a time range: calls, tokens by kind and cost per UTC day and model, summed from its usage records.</summary>
public sealed record Statement
{
    public required string KeyId { get; init; }

    public required DateTimeOffset From { get; init; }

    public required DateTimeOffset To { get; init; }

    /// <summary>Price table versions the records were costed with.</summary>
    public required IReadOnlyList<string> PriceVersions { get; init; }

    public required IReadOnlyList<StatementLine> Lines { get; init; }

    public required StatementTotals Totals { get; init; }
}
