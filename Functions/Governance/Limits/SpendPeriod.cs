namespace Qhaigc.Functions.Governance;

/// <summary>What a spend cap covers: a UTC calendar month, or the key's whole life (prepaid keys).</summary>
public enum SpendPeriod
{
    Month,
    Lifetime,
}
