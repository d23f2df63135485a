namespace Qhaigc.Functions.Usage;

/// <summary>Takes finished calls' records. Never blocks the response; the sink owns retries and durability.</summary>
public interface IUsageSink
{
    void Submit(UsageRecord record);
}
