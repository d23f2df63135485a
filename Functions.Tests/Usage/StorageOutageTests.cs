using System.Net;
using Qhaigc.Functions.Tests.Infrastructure;
using Qhaigc.Functions.Usage;

namespace Qhaigc.Functions.Tests.Usage;

/// <summary>
/// Storage goes down while the gateway serves calls, then comes back: cached keys keep working, unknown keys get a
/// retryable 529, and every answered call has exactly one usage record once storage is back.
/// </summary>
public sealed class StorageOutageTests
{
    [Fact]
    public async Task StorageOutage_CachedKeysWork_UnknownKeysGet529_AndNoRecordIsLostOrDoubled()
    {
        // Arrange: an Azurite of our own, on disk, so it can be stopped and restarted with its data.
        var location = Directory.CreateTempSubdirectory("qhaigc-azurite-").FullName;
        var azurite = await AzuriteServer.StartAsync(location: location);
        var port = azurite.Port;
        try
        {
            var settings = new Dictionary<string, string?>
            {
                ["Gateway:Storage:ConnectionString"] = azurite.ConnectionString,
                ["Gateway:DevKey"] = "sk-qh-outage-test-key-000000000000000000000000000",
                ["Gateway:Usage:FirstRetryDelay"] = "00:00:00.100",
                ["Gateway:Usage:MaxRetryDelay"] = "00:00:00.500",
                ["Gateway:Usage:MaxAttempts"] = "200",
            };
            await using var host = await StandaloneGatewayHost.StartAsync(settings);
            using var http = RawClient.Create(host.BaseAddress);
            var key = settings["Gateway:DevKey"]!;
            using var warm = await http.SendAsync(RawClient.Messages(key, RawClient.Body("m", text: "before")));
            Assert.Equal(HttpStatusCode.OK, warm.StatusCode);

            // Act: storage goes down.
            await azurite.DisposeAsync();
            using var cached = await http.SendAsync(RawClient.Messages(key, RawClient.Body("m", text: "during the outage")));
            using var unknown = await http.SendAsync(RawClient.Messages("sk-qh-not-cached-00000000000000000000000000000000", RawClient.Body("m")));

            // ... and comes back.
            azurite = await AzuriteServer.StartAsync(port, location);
            var environment = new OutageUsageTable(azurite.ConnectionString);
            var keyId = Qhaigc.Functions.Keys.ApiKeyHasher.IdFromHash(Qhaigc.Functions.Keys.ApiKeyHasher.Hash(key));
            var duringId = RawClient.Header(cached, "request-id")!;
            var records = await environment.WaitForAsync(keyId, 2);

            // Assert
            Assert.Equal(HttpStatusCode.OK, cached.StatusCode);
            await GatewayAssert.ErrorAsync(unknown, 529, "overloaded_error");
            Assert.Equal("true", RawClient.Header(unknown, "x-should-retry"));
            Assert.True(records.Count == 2, $"{records.Count} records; gateway log:\n{host.CapturedLogs}");
            Assert.Single(records, r => r.RequestId == duringId);
            Assert.All(records, static r => Assert.Equal(UsageState.Complete, r.State));
        }
        finally
        {
            await azurite.DisposeAsync();
            Directory.Delete(location, recursive: true);
        }
    }

    /// <summary>Reads the default usage table of a storage account.</summary>
    private sealed class OutageUsageTable(string connectionString)
    {
        public async Task<List<UsageRecord>> WaitForAsync(string keyId, int count)
        {
            var table = new Azure.Data.Tables.TableClient(connectionString, "QhaigcUsage");
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (true)
            {
                var records = new List<UsageRecord>();
                try
                {
                    await foreach (var entity in table.QueryAsync<UsageEntity>(
                                       Azure.Data.Tables.TableClient.CreateQueryFilter($"PartitionKey eq {keyId} and RowKey lt {DailyUsageEntity.RowKeyPrefix}")))
                    {
                        records.Add(entity.ToRecord());
                    }
                }
                catch (Azure.RequestFailedException)
                {
                }

                if (records.Count >= count || DateTime.UtcNow > deadline)
                {
                    return records;
                }

                await Task.Delay(100);
            }
        }
    }
}
