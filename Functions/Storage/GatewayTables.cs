using Azure;
using Azure.Core;
using Azure.Data.Tables;
using Azure.Identity;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using Qhaigc.Functions.Hosting;

namespace Qhaigc.Functions.Storage;

/// <summary>
/// The gateway's tables. They are created on first use. Key lookups and admissions use a client that gives up fast (a
/// call must not hang while storage is down); usage writes and settlements have their own retry loops.
/// </summary>
public sealed class GatewayTables
{
    /// <summary>One credential for every client: its token cache is shared, so one token serves them all.</summary>
    private static readonly Lazy<DefaultAzureCredential> Credential = new(static () => new DefaultAzureCredential());

    private readonly TableClient _keys;
    private readonly TableClient _usage;
    private readonly TableClient _limits;
    private readonly TableClient _limitsPatient;
    private readonly TableClient _objects;
    private readonly TableEnsurer _keysReady;
    private readonly TableEnsurer _usageReady;
    private readonly TableEnsurer _limitsReady;
    private readonly TableEnsurer _objectsReady;

    public GatewayTables(IOptions<GatewayOptions> options, IConfiguration configuration)
    {
        var storage = options.Value.Storage;
        var fast = CreateService(storage, configuration, fastFail: true);
        var patient = CreateService(storage, configuration, fastFail: false);
        _keys = fast.GetTableClient(storage.KeysTable);
        _usage = patient.GetTableClient(storage.UsageTable);
        _limits = fast.GetTableClient(storage.LimitsTable);
        _limitsPatient = patient.GetTableClient(storage.LimitsTable);
        _objects = fast.GetTableClient(storage.ObjectsTable);
        UsageBatch = CreateBatchClient(storage, configuration, storage.UsageTable);
        _keysReady = new TableEnsurer(_keys);
        _usageReady = new TableEnsurer(_usage);
        _limitsReady = new TableEnsurer(_limits);
        _objectsReady = new TableEnsurer(_objects);
        UsesDevelopmentStorage = IsDevelopmentStorage(storage, configuration);
    }

    /// <summary>
    /// Writes usage records a transaction at a time without the SDK's per-row objects (docs/performance.md); null where storage
    /// is reached in a way it does not sign (a shared access signature), and the SDK's transaction is used.
    /// </summary>
    public TableBatchClient? UsageBatch { get; }

    /// <summary>True when the tables are Azurite's (or another loopback emulator's).</summary>
    public bool UsesDevelopmentStorage { get; }

    public async ValueTask<TableClient> KeysAsync(CancellationToken cancellationToken)
    {
        await _keysReady.EnsureAsync(cancellationToken);
        return _keys;
    }

    public async ValueTask<TableClient> UsageAsync(CancellationToken cancellationToken)
    {
        await _usageReady.EnsureAsync(cancellationToken);
        return _usage;
    }

    /// <summary>The limits table, through the fast-failing client (admissions, on the request path).</summary>
    public async ValueTask<TableClient> LimitsAsync(CancellationToken cancellationToken)
    {
        await _limitsReady.EnsureAsync(cancellationToken);
        return _limits;
    }

    /// <summary>The limits table, through the patient client (settlements, after the response).</summary>
    public async ValueTask<TableClient> LimitsForSettlementAsync(CancellationToken cancellationToken)
    {
        await _limitsReady.EnsureAsync(cancellationToken);
        return _limitsPatient;
    }

    /// <summary>The objects table (which key owns each batch and file), through the fast-failing client.</summary>
    public async ValueTask<TableClient> ObjectsAsync(CancellationToken cancellationToken)
    {
        await _objectsReady.EnsureAsync(cancellationToken);
        return _objects;
    }

    /// <summary>Forgets that the objects table exists, so the next call recreates it.</summary>
    public void ObjectsTableMissing() => _objectsReady.Reset();

    /// <summary>Forgets that the limits table exists, so the next call recreates it.</summary>
    public void LimitsTableMissing() => _limitsReady.Reset();

    /// <summary>Forgets that the usage table exists (it was deleted, or storage was reset), so the next write recreates it.</summary>
    public void UsageTableMissing() => _usageReady.Reset();

    /// <summary>The connection string in force: the gateway's own, else <c>AzureWebJobsStorage</c>, else Azurite.</summary>
    public static string? ResolveConnectionString(StorageOptions storage, IConfiguration configuration)
    {
        if (storage.TableServiceUri is not null)
        {
            return null;
        }

        if (!string.IsNullOrWhiteSpace(storage.ConnectionString))
        {
            return storage.ConnectionString;
        }

        var webJobs = configuration["AzureWebJobsStorage"];
        return string.IsNullOrWhiteSpace(webJobs) ? "UseDevelopmentStorage=true" : webJobs;
    }

    public static bool IsDevelopmentStorage(StorageOptions storage, IConfiguration configuration)
    {
        var endpoint = storage.TableServiceUri;
        if (endpoint is null)
        {
            var connectionString = ResolveConnectionString(storage, configuration)!;
            if (connectionString.Contains("UseDevelopmentStorage=true", StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }

            endpoint = new TableServiceClient(connectionString).Uri;
        }

        return endpoint.IsLoopback;
    }

    private static TableBatchClient? CreateBatchClient(StorageOptions storage, IConfiguration configuration, string table)
    {
        var clientOptions = ClientOptions(fastFail: false);
        return storage.TableServiceUri is { } uri
            ? TableBatchClient.ForToken(uri, Credential.Value, table, clientOptions)
            : TableBatchClient.ForConnectionString(ResolveConnectionString(storage, configuration)!, table, clientOptions);
    }

    private static TableServiceClient CreateService(StorageOptions storage, IConfiguration configuration, bool fastFail)
    {
        var clientOptions = ClientOptions(fastFail);
        if (storage.TableServiceUri is { } uri)
        {
            return new TableServiceClient(uri, Credential.Value, clientOptions);
        }

        return new TableServiceClient(ResolveConnectionString(storage, configuration), clientOptions);
    }

    private static TableClientOptions ClientOptions(bool fastFail)
    {
        var clientOptions = new TableClientOptions();
        if (fastFail)
        {
            clientOptions.Retry.MaxRetries = 1;
            clientOptions.Retry.Delay = TimeSpan.FromMilliseconds(100);
            clientOptions.Retry.Mode = RetryMode.Fixed;
            clientOptions.Retry.NetworkTimeout = TimeSpan.FromSeconds(5);
        }
        else
        {
            clientOptions.Retry.MaxRetries = 2;
            clientOptions.Retry.NetworkTimeout = TimeSpan.FromSeconds(15);
        }

        return clientOptions;
    }

    /// <summary>Creates a table once; a failed attempt is forgotten so the next call tries again.</summary>
    private sealed class TableEnsurer(TableClient table)
    {
        private Task? _ready;

        public Task EnsureAsync(CancellationToken cancellationToken)
        {
            var ready = _ready;
            if (ready is { IsCompletedSuccessfully: true })
            {
                return Task.CompletedTask;
            }

            if (ready is null || ready.IsFaulted || ready.IsCanceled)
            {
                var attempt = CreateAsync();
                ready = Interlocked.CompareExchange(ref _ready, attempt, ready) == ready ? attempt : _ready!;
            }

            return ready.WaitAsync(cancellationToken);
        }

        public void Reset() => Volatile.Write(ref _ready, null);

        private async Task CreateAsync()
        {
            try
            {
                await table.CreateIfNotExistsAsync(CancellationToken.None);
            }
            catch (Exception exception) when (StorageErrors.IsUnavailable(exception, CancellationToken.None))
            {
                throw new StorageUnavailableException($"Table '{table.Name}' could not be reached.", exception);
            }
        }
    }
}

/// <summary>Which storage failures mean "storage is down" rather than a bug or a client cancellation.</summary>
public static class StorageErrors
{
    public static bool IsUnavailable(Exception exception, CancellationToken cancellationToken) => exception switch
    {
        StorageUnavailableException => true,
        RequestFailedException failed => failed.Status is 0 or 408 or 429 or >= 500,
        AggregateException aggregate => aggregate.InnerExceptions.All(e => IsUnavailable(e, cancellationToken)),
        HttpRequestException or IOException or TimeoutException => true,
        OperationCanceledException => !cancellationToken.IsCancellationRequested,
        _ => false,
    };
}
