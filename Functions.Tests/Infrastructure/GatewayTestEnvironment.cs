using Azure.Data.Tables;
using Microsoft.Extensions.Options;
using Qhaigc.Functions.Hosting;
using Qhaigc.Functions.Keys;
using Qhaigc.Functions.Ownership;
using Qhaigc.Functions.Storage;
using Qhaigc.Functions.Usage;

namespace Qhaigc.Functions.Tests.Infrastructure;

/// <summary>
/// One test's storage: a shared Azurite, tables of its own (random names), an admin key, and helpers to create
/// client keys and read the usage table exactly as the gateway wrote it.
/// </summary>
public sealed class GatewayTestEnvironment
{
    public const string AdminKey = "test-admin-key";

    private GatewayTestEnvironment(AzuriteServer azurite)
    {
        Azurite = azurite;
        var suffix = Guid.NewGuid().ToString("N")[..12];
        KeysTable = "keys" + suffix;
        UsageTable = "usage" + suffix;
        LimitsTable = "limits" + suffix;
        ObjectsTable = "objects" + suffix;
        var options = Options.Create(new GatewayOptions
        {
            Storage = new StorageOptions
            {
                ConnectionString = azurite.ConnectionString, KeysTable = KeysTable, UsageTable = UsageTable, LimitsTable = LimitsTable,
                ObjectsTable = ObjectsTable,
            },
        });
        Tables = new GatewayTables(options, new Microsoft.Extensions.Configuration.ConfigurationBuilder().Build());
        Keys = new TableApiKeyStore(Tables);
        Usage = new TableUsageStore(Tables);
        Objects = new TableOwnedObjectStore(Tables);
    }

    public AzuriteServer Azurite { get; }

    public string KeysTable { get; }

    public string UsageTable { get; }

    public string LimitsTable { get; }

    public string ObjectsTable { get; }

    public GatewayTables Tables { get; }

    public IApiKeyStore Keys { get; }

    public IUsageStore Usage { get; }

    /// <summary>Which key owns each batch and file, in this environment's objects table.</summary>
    public IOwnedObjectStore Objects { get; }

    public static async Task<GatewayTestEnvironment> CreateAsync() => new(await AzuriteServer.SharedAsync());

    /// <summary>Tables of their own on a given Azurite (one a test stops and restarts on the same port and location).</summary>
    public static GatewayTestEnvironment On(AzuriteServer azurite) => new(azurite);

    /// <summary>Settings for a gateway on these tables; add upstreams and more with <paramref name="extra"/>.</summary>
    public Dictionary<string, string?> Settings(IEnumerable<KeyValuePair<string, string?>>? extra = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Gateway:Storage:ConnectionString"] = Azurite.ConnectionString,
            ["Gateway:Storage:KeysTable"] = KeysTable,
            ["Gateway:Storage:UsageTable"] = UsageTable,
            ["Gateway:Storage:LimitsTable"] = LimitsTable,
            ["Gateway:Storage:ObjectsTable"] = ObjectsTable,
            ["Gateway:AdminKey"] = AdminKey,
            ["Gateway:Usage:FirstRetryDelay"] = "00:00:00.200",
        };
        foreach (var (key, value) in extra ?? [])
        {
            settings[key] = value;
        }

        return settings;
    }

    /// <summary>Creates a client key straight in the key table; returns the secret and the stored key.</summary>
    public async Task<(string Secret, ApiKey Key)> CreateKeyAsync(
        string name = "test", IReadOnlyList<string>? models = null, DateTimeOffset? expiresAt = null, bool disabled = false,
        string? limits = null)
    {
        var secret = ApiKeyHasher.NewSecret();
        KnownSecrets.Register(secret);
        var hash = ApiKeyHasher.Hash(secret);
        var key = new ApiKey
        {
            Id = ApiKeyHasher.IdFromHash(hash),
            Name = name,
            Hash = hash,
            Hint = ApiKeyHasher.Hint(secret),
            CreatedAt = DateTimeOffset.UtcNow,
            ExpiresAt = expiresAt,
            Disabled = disabled,
            Models = models ?? [],
            LimitsJson = limits,
        };
        Assert.True(await Keys.CreateAsync(key, CancellationToken.None));
        return (secret, key);
    }

    /// <summary>Polls the usage table until the record of a request exists (written after the response, asynchronously).</summary>
    public async Task<UsageRecord> WaitForUsageAsync(string keyId, string requestId, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(15));
        while (true)
        {
            var record = await FindUsageAsync(keyId, requestId);
            if (record is not null)
            {
                return record;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"No usage record for {requestId} within the timeout.");
            }

            await Task.Delay(50);
        }
    }

    public async Task<UsageRecord?> FindUsageAsync(string keyId, string requestId)
    {
        await foreach (var record in Usage.QueryAsync(keyId, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1), CancellationToken.None))
        {
            if (record.RequestId == requestId)
            {
                return record;
            }
        }

        return null;
    }

    /// <summary>Every usage record of a key, read straight from the table (its daily aggregates, rows of their own, left out).</summary>
    public async Task<List<UsageRecord>> AllUsageAsync(string keyId)
    {
        var records = new List<UsageRecord>();
        var table = new TableClient(Azurite.ConnectionString, UsageTable);
        try
        {
            var filter = TableClient.CreateQueryFilter($"PartitionKey eq {keyId} and RowKey lt {DailyUsageEntity.RowKeyPrefix}");
            await foreach (var entity in table.QueryAsync<UsageEntity>(filter))
            {
                records.Add(entity.ToRecord());
            }
        }
        catch (Azure.RequestFailedException exception) when (exception.Status == 404)
        {
            // The gateway creates the table with its first record; until then there is nothing to read.
        }

        return records;
    }
}
