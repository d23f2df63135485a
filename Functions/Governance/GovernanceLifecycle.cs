using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Qhaigc.Functions.Governance;

/// <summary>
/// Governance's part of the host's start and stop: the lease timer runs while the host does; after the web server has
/// drained, the last settlements get their chance to finish. At start it says loudly when spend caps cannot work: no
/// model has a price (docs/limits-and-prices.md#the-default-price-table). The price table is built for that beside
/// the server's start, not before it (docs/performance.md#cold-start).
/// </summary>
public sealed partial class GovernanceLifecycle(
    ReservationRenewer renewer, SettlementService settlements, Func<PriceTable> prices, ILogger<GovernanceLifecycle> logger) : IHostedLifecycleService
{
    /// <summary>Completes once the price table is built and what it lacks is said.</summary>
    public Task PricesChecked { get; private set; } = Task.CompletedTask;

    public Task StartingAsync(CancellationToken cancellationToken)
    {
        PricesChecked = Task.Run(CheckPrices, CancellationToken.None);
        return Task.CompletedTask;
    }

    private void CheckPrices()
    {
        var table = prices();
        if (table.DefaultsSkippedForCurrency)
        {
            Log.DefaultsSkipped(logger, AnthropicListPrices.Currency, table.Currency, table.OperatorCount);
        }

        if (table.Count == 0)
        {
            Log.NoPrices(logger);
        }
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        renewer.Start();
        return Task.CompletedTask;
    }

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StoppedAsync(CancellationToken cancellationToken)
    {
        await renewer.StopAsync();
        await settlements.DrainAsync(cancellationToken);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 6201, Level = LogLevel.Warning, Message =
            "NO PRICES: no model has a price (Gateway:Prices has no entries and the default price table is off), so every " +
            "call of a key with a spend cap is refused and no call has a cost. Set Gateway:Prices entries, or Gateway:Prices:Defaults.")]
        public static partial void NoPrices(ILogger logger);

        [LoggerMessage(EventId = 6202, Level = LogLevel.Warning, Message =
            "The default price table is in {DefaultsCurrency} and Gateway:Prices:Currency is {Currency}: it is off, and only the " +
            "operator's {Entries} price entries price calls.")]
        public static partial void DefaultsSkipped(ILogger logger, string defaultsCurrency, string currency, int entries);
    }
}
