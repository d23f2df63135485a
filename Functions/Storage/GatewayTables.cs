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

    private readonly Lazy<TableServiceClient> _fast;
    private readonly Lazy<TableServiceClient> _patient;
    private readonly Lazy<TableBatchClient?> _usageBatch;
    private readonly LazyTable _keys;
    private readonly LazyTable _usage;
    private readonly LazyTable _limits;
    private readonly LazyTable _limitsPatient;
    private readonly LazyTable _objects;

    /// <summary>
    /// Nothing reaches storage or builds an SDK client here: a new instance starts serving before the first table is
    /// touched, and the clients are built by whatever needs them first (docs/performance.md#cold-start).
    /// </summary>
    public GatewayTables(IOptions<GatewayOptions> options, IConfiguration configuration)
    {
        var storage = options.Value.Storage;
        _fast = new(() => CreateService(storage, configuration, fastFail: true));
        _patient = new(() => CreateService(storage, configuration, fastFail: false));
        _usageBatch = new(() => CreateBatchClient(storage, configuration, storage.UsageTable));
        _keys = new(_fast, storage.KeysTable);
        _usage = new(_patient, storage.UsageTable);
        _limits = new(_fast, storage.LimitsTable);
        _limitsPatient = new(_patient, storage.LimitsTable);
        _objects = new(_fast, storage.ObjectsTable);
        UsesDevelopmentStorage = IsDevelopmentStorage(storage, configuration);
    }

    /// <summary>
    /// Writes usage records a transaction at a time without the SDK's per-row objects (docs/performance.md); null where storage
    /// is reached in a way it does not sign (a shared access signature), and the SDK's transaction is used.
    /// </summary>
    public TableBatchClient? UsageBatch => _usageBatch.Value;

    /// <summary>True when the tables are Azurite's (or another loopback emulator's).</summary>
    public bool UsesDevelopmentStorage { get; }

    public async ValueTask<TableClient> KeysAsync(CancellationToken cancellationToken)
    {
        await _keys.Ready.EnsureAsync(cancellationToken);
        return _keys.Client;
    }

    /// <summary>
    /// The keys table for a point read, without first making sure it exists: a read of a table that is not there finds
    /// nothing, so a new instance's first key lookup costs one round trip, not two.
    /// </summary>
    public TableClient KeysForReading() => _keys.Client;

    public async ValueTask<TableClient> UsageAsync(CancellationToken cancellationToken)
    {
        await _usage.Ready.EnsureAsync(cancellationToken);
        return _usage.Client;
    }

    /// <summary>The limits table, through the fast-failing client (admissions, on the request path).</summary>
    public async ValueTask<TableClient> LimitsAsync(CancellationToken cancellationToken)
    {
        await _limits.Ready.EnsureAsync(cancellationToken);
        return _limits.Client;
    }

    /// <summary>The limits table, through the patient client (settlements, after the response).</summary>
    public async ValueTask<TableClient> LimitsForSettlementAsync(CancellationToken cancellationToken)
    {
        await _limits.Ready.EnsureAsync(cancellationToken);
        return _limitsPatient.Client;
    }

    /// <summary>The objects table (which key owns each batch and file), through the fast-failing client.</summary>
    public async ValueTask<TableClient> ObjectsAsync(CancellationToken cancellationToken)
    {
        await _objects.Ready.EnsureAsync(cancellationToken);
        return _objects.Client;
    }

    /// <summary>Forgets that the objects table exists, so the next call recreates it.</summary>
    public void ObjectsTableMissing() => _objects.Ready.Reset();

    /// <summary>Forgets that the limits table exists, so the next call recreates it.</summary>
    public void LimitsTableMissing() => _limits.Ready.Reset();

    /// <summary>Forgets that the usage table exists (it was deleted, or storage was reset), so the next write recreates it.</summary>
    public void UsageTableMissing() => _usage.Ready.Reset();

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

    /// <summary>
    /// Whether the tables are local: Azurite's shortcut, or a table endpoint on a loopback address. Read from the
    /// connection string's own fields (https://learn.microsoft.com/azure/storage/common/storage-configure-connection-string):
    /// without a <c>TableEndpoint</c> the endpoint is the account's in the cloud, never local.
    /// </summary>
    public static bool IsDevelopmentStorage(StorageOptions storage, IConfiguration configuration)
    {
        if (storage.TableServiceUri is { } endpoint)
        {
            return endpoint.IsLoopback;
        }

        foreach (var part in ResolveConnectionString(storage, configuration)!.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var equals = part.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                continue;
            }

            var name = part[..equals].Trim();
            var value = part[(equals + 1)..].Trim();
            if (name.Equals("UseDevelopmentStorage", StringComparison.OrdinalIgnoreCase) && value.Equals("true", StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }

            if (name.Equals("TableEndpoint", StringComparison.OrdinalIgnoreCase))
            {
                return Uri.TryCreate(value, UriKind.Absolute, out var table) && table.IsLoopback;
            }
        }

        return false;
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

    /// <summary>A table's client, built with its service client when first asked for, and whether the table exists.</summary>
    private sealed class LazyTable
    {
        private readonly Lazy<TableClient> _client;

        public LazyTable(Lazy<TableServiceClient> service, string name)
        {
            _client = new(() => service.Value.GetTableClient(name));
            Ready = new TableEnsurer(_client);
        }

        public TableClient Client => _client.Value;

        public TableEnsurer Ready { get; }
    }

    /// <summary>Creates a table once; a failed attempt is forgotten so the next call tries again.</summary>
    private sealed class TableEnsurer(Lazy<TableClient> lazyTable)
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
            var table = lazyTable.Value;
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
