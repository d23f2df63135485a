using Qhaigc.Functions.Telemetry;
using Qhaigc.Functions.Usage;

namespace Qhaigc.Functions.Governance;

/// <summary>
/// Sits in front of the usage writer: every record gets its cost and the price table's version, and a record that
/// ends a call with a reservation settles it. CallRecorder.Finish is where every call's final usage is known
/// (complete, truncated by the upstream or cancelled by the client), so settling here covers every way a call ends.
/// </summary>
public sealed class GovernedUsageSink(IUsageSink inner, PriceTable prices, SettlementService settlements) : IUsageSink
{
    public void Submit(UsageRecord record)
    {
        var priced = prices.Price(record);
        inner.Submit(priced);
        CallTelemetry.Priced(priced);
        settlements.Settle(priced);
    }
}
