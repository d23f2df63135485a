namespace Qhaigc.Functions.Tests.Faults;

/// <summary>
/// The soak measures the whole test process's heap and threads: it runs alone, after the parallel tests, so another
/// test's large bodies (the fuzz corpus sends 32 MB ones) are not counted as the gateway's.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SoakCollectionDefinition
{
    public const string Name = "Soak";
}
