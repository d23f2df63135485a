namespace Qhaigc.Functions.Usage;

/// <summary>The usage ledger. Writes are idempotent per request id.</summary>
public interface IUsageStore
{
    Task WriteAsync(UsageRecord record, CancellationToken cancellationToken);

    /// <summary>Records of one key that started in [since, until), oldest first.</summary>
    IAsyncEnumerable<UsageRecord> QueryAsync(string keyId, DateTimeOffset since, DateTimeOffset until, CancellationToken cancellationToken);
}
