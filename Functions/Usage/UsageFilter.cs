namespace Qhaigc.Functions.Usage;

/// <summary>Which records of a range a query keeps (docs/admin-api.md): by model, final state and HTTP status; null keeps any.</summary>
public sealed record UsageFilter(string? Model = null, UsageState? State = null, int? Status = null)
{
    public static readonly UsageFilter None = new();

    public bool IsEmpty => Model is null && State is null && Status is null;

    public bool Keeps(UsageRecord record) =>
        (Model is null || string.Equals(record.Model, Model, StringComparison.Ordinal)) &&
        (State is null || record.State == State) &&
        (Status is null || record.Status == Status);
}
