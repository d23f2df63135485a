using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Qhaigc.Functions.Batches;
using Qhaigc.Functions.Hosting;

namespace Qhaigc.Functions.Tests.Batches;

/// <summary>Which mode runs settlement: the timer function in the Functions mode, a hosted service in the standalone mode only.</summary>
public sealed class BatchSettlementHostingTests
{
    private static readonly Dictionary<string, string?> Storage = new() { ["Gateway:Storage:ConnectionString"] = "UseDevelopmentStorage=true" };

    [Fact]
    public async Task StandaloneHost_RunsTheSettlementLoop_OnTheConfiguredSchedule()
    {
        // Arrange
        await using var app = StandaloneHost.Build([], static builder => builder.Configuration.AddInMemoryCollection(
            new Dictionary<string, string?>(Storage) { ["Gateway:Batches:SettleSchedule"] = "0 */5 * * * *" }));

        // Act
        var loops = app.Services.GetServices<IHostedService>().OfType<BatchSettlementLoop>().ToArray();
        var options = app.Services.GetRequiredService<IOptions<BatchSettlementOptions>>().Value;

        // Assert
        Assert.Single(loops);
        Assert.Equal("0 */5 * * * *", options.SettleSchedule);
        Assert.NotNull(app.Services.GetRequiredService<BatchSettlement>());
    }

    [Fact]
    public void FunctionsHost_LeavesSettlementToItsTimer_AndStopsOnABadSchedule()
    {
        // Arrange
        var builder = FunctionsHost.CreateBuilder([]);
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>(Storage) { ["Gateway:Batches:SettleSchedule"] = "every minute" });

        // Act
        var loops = builder.Services.Where(static d => d.ServiceType == typeof(IHostedService) && d.ImplementationType == typeof(BatchSettlementLoop));
        using var host = builder.Build();
        var failure = Record.Exception(() => host.Services.GetRequiredService<IOptions<BatchSettlementOptions>>().Value);

        // Assert
        Assert.Empty(loops);
        Assert.IsType<OptionsValidationException>(failure);
        Assert.Contains("Gateway:Batches:SettleSchedule", failure.Message, StringComparison.Ordinal);
    }
}
