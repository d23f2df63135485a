using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Qhaigc.Functions.Keys;
using Qhaigc.Functions.Storage;

namespace Qhaigc.Functions.Hosting;

/// <summary>
/// Makes sure the development key (<c>Gateway:DevKey</c>) exists, so the README's examples work on a fresh machine.
/// Only against local development storage: a well-known key must never be created in a real deployment. The table
/// round trip runs beside the server's start, not before it (docs/performance.md#cold-start); a call with the
/// development key that arrives first waits for it (<see cref="Seeded"/>).
/// </summary>
public sealed partial class DevKeySeeder(
    IApiKeyStore store, GatewayTables tables, TimeProvider time, IOptions<GatewayOptions> options, ILogger<DevKeySeeder> logger) : IHostedService
{
    private Task? _seeding;

    /// <summary>Completes once the development key exists or could not be created; at once when there is nothing to do.</summary>
    public Task Seeded => _seeding ?? Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var secret = options.Value.DevKey;
        if (string.IsNullOrWhiteSpace(secret))
        {
            return Task.CompletedTask;
        }

        if (!tables.UsesDevelopmentStorage)
        {
            Log.Refused(logger);
            return Task.CompletedTask;
        }

        _seeding = Task.Run(() => SeedAsync(secret), CancellationToken.None);
        return Task.CompletedTask;
    }

    private async Task SeedAsync(string secret)
    {
        var hash = ApiKeyHasher.Hash(secret);
        try
        {
            if (await store.FindByHashAsync(hash, CancellationToken.None) is null)
            {
                await store.CreateAsync(new ApiKey
                {
                    Id = ApiKeyHasher.IdFromHash(hash),
                    Name = "development key",
                    Hash = hash,
                    Hint = ApiKeyHasher.Hint(secret),
                    CreatedAt = time.GetUtcNow(),
                }, CancellationToken.None);
            }

            Log.Ready(logger, ApiKeyHasher.IdFromHash(hash));
        }
        catch (Exception exception)
        {
            // Serve anyway (nothing waits on this but calls with the development key): while storage is unreachable
            // the gateway answers 529 for keys it has not seen, and the key is created by the next start.
            Log.NotCreated(logger, exception);
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        // The seeding does not outlive the host, unless the host stops waiting for it.
        try
        {
            await Seeded.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 6001, Level = LogLevel.Warning,
            Message = "Gateway:DevKey is set but storage is not local development storage; the development key was not created")]
        public static partial void Refused(ILogger logger);

        [LoggerMessage(EventId = 6002, Level = LogLevel.Information, Message = "Development key {KeyId} is ready")]
        public static partial void Ready(ILogger logger, string keyId);

        [LoggerMessage(EventId = 6003, Level = LogLevel.Warning, Message = "Could not create the development key")]
        public static partial void NotCreated(ILogger logger, Exception exception);
    }
}
