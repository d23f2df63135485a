using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Qhaigc.Functions.Keys;
using Qhaigc.Functions.Storage;

namespace Qhaigc.Functions.Hosting;

/// <summary>
/// Looks up one key that does not exist beside the server's start, so that a new instance's first call finds the
/// storage client built and the lookup's code already run, instead of paying for both before it is answered
/// (docs/performance.md#cold-start). Where the development key is seeded, the seeding does the same. A failed read is
/// ignored: the first real lookup reports storage that cannot be reached.
/// </summary>
public sealed class KeyStoreWarmup(IApiKeyStore store, GatewayTables tables, IOptions<GatewayOptions> options) : IHostedService
{
    /// <summary>The hash looked up: of a string that is no key's secret.</summary>
    private static readonly string NoKey = ApiKeyHasher.Hash("qhaigc-warm-up");

    /// <summary>Completes once the read is done, whatever its outcome; at once when there is none.</summary>
    public Task Warmed { get; private set; } = Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(options.Value.DevKey) || !tables.UsesDevelopmentStorage)
        {
            Warmed = Task.Run(WarmAsync, CancellationToken.None);
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private async Task WarmAsync()
    {
        try
        {
            await store.FindByHashAsync(NoKey, CancellationToken.None);
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            // Nothing to do: the first call that needs storage meets the same fault and answers for it.
        }
    }
}
