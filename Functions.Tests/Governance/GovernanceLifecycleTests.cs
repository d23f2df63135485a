using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Qhaigc.Functions.Governance;
using Qhaigc.Functions.Hosting;
using Qhaigc.Functions.Tests.Infrastructure;

namespace Qhaigc.Functions.Tests.Governance;

/// <summary>What governance says at start-up about prices (docs/limits-and-prices.md#the-default-price-table).</summary>
public sealed class GovernanceLifecycleTests : IDisposable
{
    private readonly InMemoryGovernance _governance = new(DateTimeOffset.UtcNow);

    [Theory]
    [InlineData("none", "USD", 0, "NO PRICES")]
    [InlineData("anthropic-2026-12", "EUR", 0, "NO PRICES")]
    [InlineData("anthropic-2026-12", "EUR", 1, "The default price table is in USD and Gateway:Prices:Currency is EUR")]
    [InlineData("anthropic-2026-12", "USD", 0, null)]
    [InlineData("none", "USD", 1, null)]
    public async Task StartingAsync_WarnsLoudly_WhenNoModelHasAPrice(string defaults, string currency, int entries, string? warning)
    {
        // Arrange
        var settings = entries == 0 ? [] : new Dictionary<string, string?> { ["Gateway:Prices:m:Input"] = "1", ["Gateway:Prices:m:Output"] = "1" };
        var section = new ConfigurationBuilder().AddInMemoryCollection(settings).Build().GetSection("Gateway:Prices");
        var prices = PriceTable.Read(section, new PricesOptions { Defaults = defaults, Currency = currency });
        using var logs = new CapturingLoggerProvider();
        using var factory = LoggerFactory.Create(builder => builder.AddProvider(logs));
        var lifecycle = new GovernanceLifecycle(_governance.Renewer(_governance.Ledger), _governance.Settlements, () => prices, factory.CreateLogger<GovernanceLifecycle>());

        // Act
        await lifecycle.StartingAsync(CancellationToken.None);
        await lifecycle.PricesChecked;

        // Assert
        if (warning is null)
        {
            Assert.Equal("", logs.Text);
        }
        else
        {
            Assert.Contains(warning, logs.Text, StringComparison.Ordinal);
        }
    }

    public void Dispose() => _governance.Dispose();
}
