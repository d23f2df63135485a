namespace Qhaigc.Functions.Tests.Faults;

/// <summary>
/// The storage-pause test bounds each call's latency: it runs alone, after the parallel tests, so a busy machine's
/// other tests do not stretch the calls it times.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class StoragePauseCollectionDefinition
{
    public const string Name = "StoragePause";
}
