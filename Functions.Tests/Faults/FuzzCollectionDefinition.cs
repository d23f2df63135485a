namespace Qhaigc.Functions.Tests.Faults;

/// <summary>
/// The fuzz test counts what the whole test process allocates during a pass: it runs alone, after the parallel tests,
/// so another test's allocations are not counted as the gateway's.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class FuzzCollectionDefinition
{
    public const string Name = "Fuzz";
}
