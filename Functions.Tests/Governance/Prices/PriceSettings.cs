using Microsoft.Extensions.Configuration;
using Qhaigc.Functions.Governance;
using Qhaigc.Functions.Hosting;
using Qhaigc.Functions.Usage;

namespace Qhaigc.Functions.Tests.Governance;

/// <summary>Price tables read from <c>Gateway:Prices</c> settings as the host reads them, and records to price.</summary>
public static class PriceSettings
{
    /// <summary>Reads entries given relative to <c>Gateway:Prices</c> (<c>"m:Input" = "1"</c>).</summary>
    public static PriceTable Read(Dictionary<string, string?> prices, PricesOptions options)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(prices.Select(static p => new KeyValuePair<string, string?>("Gateway:Prices:" + p.Key, p.Value)))
            .Build();
        return PriceTable.Read(configuration.GetSection("Gateway:Prices"), options);
    }

    /// <summary>A complete call's record with no tokens, served as <paramref name="upstreamModel"/>.</summary>
    public static UsageRecord Record(string model, string? upstreamModel) => new()
    {
        RequestId = "req_1",
        KeyId = "key_1",
        Endpoint = "messages",
        StartedAt = DateTimeOffset.UnixEpoch,
        State = UsageState.Complete,
        Model = model,
        UpstreamModel = upstreamModel,
    };
}
