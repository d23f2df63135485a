namespace Qhaigc.Functions.Ownership;

/// <summary>The kinds of owned object.</summary>
public static class OwnedKinds
{
    public const string Batch = "batch";

    public const string File = "file";
}
