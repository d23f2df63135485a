using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Qhaigc.Functions.Keys;
using Qhaigc.Functions.Storage;

namespace Qhaigc.Functions.Hosting;

/// <summary>
/// Makes sure the development key (<c>Gateway:DevKey</c>) exists, so the README's examples work on a fresh machine.
/// Only against local development storage: a well-known key must never be created in a real deployment.
/// </summary>
public sealed partial class DevKeySeeder(
    IApiKeyStore store, GatewayTables tables, TimeProvider time, IOptions<GatewayOptions> options, ILogger<DevKeySeeder> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var secret = options.Value.DevKey;
        if (string.IsNullOrWhiteSpace(secret))
        {
            return;
        }

        if (!tables.UsesDevelopmentStorage)
        {
            Log.Refused(logger);
            return;
        }

        var hash = ApiKeyHasher.Hash(secret);
        try
        {
            if (await store.FindByHashAsync(hash, cancellationToken) is null)
            {
                await store.CreateAsync(new ApiKey
                {
                    Id = ApiKeyHasher.IdFromHash(hash),
                    Name = "development key",
                    Hash = hash,
                    Hint = ApiKeyHasher.Hint(secret),
                    CreatedAt = time.GetUtcNow(),
                }, cancellationToken);
            }

            Log.Ready(logger, ApiKeyHasher.IdFromHash(hash));
        }
        catch (StorageUnavailableException exception)
        {
            // Start anyway: the gateway answers 529 for unknown keys until storage is reachable.
            Log.StorageUnavailable(logger, exception);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private static partial class Log
    {
        [LoggerMessage(EventId = 6001, Level = LogLevel.Warning,
            Message = "Gateway:DevKey is set but storage is not local development storage; the development key was not created")]
        public static partial void Refused(ILogger logger);

        [LoggerMessage(EventId = 6002, Level = LogLevel.Information, Message = "Development key {KeyId} is ready")]
        public static partial void Ready(ILogger logger, string keyId);

        [LoggerMessage(EventId = 6003, Level = LogLevel.Warning, Message = "Could not create the development key: storage unavailable")]
        public static partial void StorageUnavailable(ILogger logger, Exception exception);
    }
}
