using Azure;
using Azure.Data.Tables;
using Qhaigc.Functions.Storage;
using Qhaigc.Functions.Tests.Infrastructure;
using Qhaigc.Functions.Usage;

namespace Qhaigc.Functions.Tests.Storage;

/// <summary>
/// The hand-built table transaction that writes usage records, against a real Azurite: what it stores must be what the
/// Azure SDK stores for the same entity, property by property and type by type.
/// </summary>
public sealed class TableBatchClientTests
{
    private static readonly string[] SystemProperties = ["odata.etag", "Timestamp"];

    [Fact]
    public async Task UpsertAsync_StoresEveryPropertyWithTheSdksTypes_WhenEveryFieldIsSet()
    {
        // Arrange: every nullable field set, a whole-number double, text that JSON must escape.
        var azurite = await AzuriteServer.SharedAsync();
        var entity = UsageEntity.From(UsageRecords.Full("req_full"));
        var (sdkTable, batchTable) = await TwoTablesAsync(azurite);

        // Act
        await sdkTable.UpsertEntityAsync(entity, TableUpdateMode.Replace);
        await BatchClient(azurite, batchTable.Name).UpsertAsync([entity], CancellationToken.None);

        // Assert
        var bySdk = await ReadAsync(sdkTable, entity);
        var byBatch = await ReadAsync(batchTable, entity);
        var written = typeof(UsageEntity).GetProperties().Select(static p => p.Name).Except(["ETag", "Timestamp"]).Order();
        Assert.Equal(written, bySdk.Keys.Order());
        AssertSameRow(bySdk, byBatch);
    }

    [Fact]
    public async Task UpsertAsync_LeavesOutNullFields_AsTheSdkDoes()
    {
        // Arrange
        var azurite = await AzuriteServer.SharedAsync();
        var record = UsageRecords.Full("req_sparse") with
        {
            UpstreamRequestId = null, ErrorType = null, CacheCreation5mInputTokens = null, CacheCreation1hInputTokens = null,
            RawUsage = null, TimeToFirstByteMs = null, ClientRetryCount = null, ClientSessionId = null, Cost = null, Currency = null,
            PriceVersion = null, UpstreamAttempts = null,
        };
        var entity = UsageEntity.From(record);
        var (sdkTable, batchTable) = await TwoTablesAsync(azurite);

        // Act
        await sdkTable.UpsertEntityAsync(entity, TableUpdateMode.Replace);
        await BatchClient(azurite, batchTable.Name).UpsertAsync([entity], CancellationToken.None);

        // Assert
        AssertSameRow(await ReadAsync(sdkTable, entity), await ReadAsync(batchTable, entity));
    }

    [Fact]
    public async Task UpsertAsync_WritesAHundredRows_AndWritingThemAgainReplacesThem()
    {
        // Arrange
        var azurite = await AzuriteServer.SharedAsync();
        var (_, table) = await TwoTablesAsync(azurite);
        var client = BatchClient(azurite, table.Name);
        var rows = Enumerable.Range(0, 100).Select(i => UsageEntity.From(UsageRecords.Full($"req_{i:D3}"))).ToList();

        // Act
        await client.UpsertAsync(rows, CancellationToken.None);
        rows = rows.ConvertAll(static row => { row.OutputTokens = 7; return row; });
        await client.UpsertAsync(rows, CancellationToken.None);

        // Assert
        var stored = new List<UsageEntity>();
        await foreach (var row in table.QueryAsync<UsageEntity>())
        {
            stored.Add(row);
        }

        Assert.Equal(rows.Select(static r => r.RowKey).Order(), stored.Select(static r => r.RowKey).Order());
        Assert.All(stored, static row => Assert.Equal(7, row.OutputTokens));
        Assert.Equal(rows[42].ToRecord(), stored.Single(r => r.RowKey == rows[42].RowKey).ToRecord());
    }

    [Fact]
    public async Task UpsertAsync_Throws400AndWritesNothing_WhenTheServiceRefusesOneRow()
    {
        // Arrange: the same row twice is not allowed in one transaction.
        var azurite = await AzuriteServer.SharedAsync();
        var (_, table) = await TwoTablesAsync(azurite);
        var good = UsageEntity.From(UsageRecords.Full("req_good"));
        var twice = UsageEntity.From(UsageRecords.Full("req_twice"));

        // Act
        var refused = await Assert.ThrowsAsync<RequestFailedException>(
            () => BatchClient(azurite, table.Name).UpsertAsync([good, twice, twice], CancellationToken.None));

        // Assert
        Assert.Equal(400, refused.Status);
        Assert.Empty(await table.QueryAsync<TableEntity>().ToListAsync());
    }

    [Fact]
    public async Task UpsertAsync_Throws404_WhenTheTableDoesNotExist()
    {
        // Arrange
        var azurite = await AzuriteServer.SharedAsync();

        // Act
        var refused = await Assert.ThrowsAsync<RequestFailedException>(() =>
            BatchClient(azurite, "missing" + Guid.NewGuid().ToString("N")[..12]).UpsertAsync([UsageEntity.From(UsageRecords.Full("req_x"))], CancellationToken.None));

        // Assert: the usage store recreates its table on a 404.
        Assert.Equal(404, refused.Status);
    }

    [Fact]
    public async Task UpsertAsync_Throws403_WhenTheAccountKeyIsWrong()
    {
        // Arrange
        var azurite = await AzuriteServer.SharedAsync();
        var (_, table) = await TwoTablesAsync(azurite);
        var wrongKey = azurite.ConnectionString.Replace(AzuriteServer.AccountKey, Convert.ToBase64String(new byte[64]), StringComparison.Ordinal);
        var client = TableBatchClient.ForConnectionString(wrongKey, table.Name, new TableClientOptions())!;

        // Act
        var refused = await Assert.ThrowsAsync<RequestFailedException>(() => client.UpsertAsync([UsageEntity.From(UsageRecords.Full("req_y"))], CancellationToken.None));

        // Assert
        Assert.Equal(403, refused.Status);
    }

    [Theory]
    [InlineData("UseDevelopmentStorage=true", true)]
    [InlineData("DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=a2V5;EndpointSuffix=core.windows.net", true)]
    [InlineData("TableEndpoint=https://acct.table.core.windows.net/;SharedAccessSignature=sv=2019-02-02&sig=abc", false)]
    public void ForConnectionString_SignsWithAnAccountKeyOnly(string connectionString, bool signsItself)
    {
        // Act
        var client = TableBatchClient.ForConnectionString(connectionString, "usage", new TableClientOptions());

        // Assert: a shared access signature is left to the SDK.
        Assert.Equal(signsItself, client is not null);
    }

    private static TableBatchClient BatchClient(AzuriteServer azurite, string table) =>
        TableBatchClient.ForConnectionString(azurite.ConnectionString, table, new TableClientOptions())
        ?? throw new InvalidOperationException("Azurite's connection string holds an account key.");

    private static async Task<(TableClient Sdk, TableClient Batch)> TwoTablesAsync(AzuriteServer azurite)
    {
        var suffix = Guid.NewGuid().ToString("N")[..12];
        var sdk = new TableClient(azurite.ConnectionString, "bysdk" + suffix);
        var batch = new TableClient(azurite.ConnectionString, "bybatch" + suffix);
        await sdk.CreateIfNotExistsAsync();
        await batch.CreateIfNotExistsAsync();
        return (sdk, batch);
    }

    private static async Task<Dictionary<string, object>> ReadAsync(TableClient table, UsageEntity entity)
    {
        var row = (await table.GetEntityAsync<TableEntity>(entity.PartitionKey, entity.RowKey)).Value;
        return row.Keys.Except(SystemProperties).ToDictionary(static k => k, k => row[k]);
    }

    private static void AssertSameRow(Dictionary<string, object> expected, Dictionary<string, object> actual)
    {
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach (var (name, value) in expected)
        {
            Assert.True(value.GetType() == actual[name].GetType(), $"{name}: {value.GetType().Name} by the SDK, {actual[name].GetType().Name} by the batch");
            Assert.True(Equals(value, actual[name]), $"{name}: {value} by the SDK, {actual[name]} by the batch");
        }
    }
}
