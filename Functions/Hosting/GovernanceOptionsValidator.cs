using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using Qhaigc.Functions.Governance;

namespace Qhaigc.Functions.Hosting;

/// <summary>Checks <c>Gateway:Prices</c> and <c>Gateway:Limits</c> at start-up, so a bad price stops the host instead of mispricing calls.</summary>
public sealed class GovernanceOptionsValidator(IConfiguration pricesSection) : IValidateOptions<GatewayOptions>
{
    public ValidateOptionsResult Validate(string? name, GatewayOptions options)
    {
        // The operator's entries and settings only: the shipped default table is checked by tests, not at every start.
        var failures = new List<string>(PriceTable.Read(pricesSection, options.Prices, withDefaults: false).Errors);
        var limits = options.Limits;
        if (limits.LeaseDuration < TimeSpan.FromSeconds(3))
        {
            failures.Add("Gateway:Limits:LeaseDuration must be at least 3 seconds.");
        }

        if (double.IsNaN(limits.InputEstimateMargin) || limits.InputEstimateMargin is < 1 or > 10)
        {
            failures.Add("Gateway:Limits:InputEstimateMargin must be from 1 to 10.");
        }

        if (!UnmeasuredInputModes.IsKnown(limits.UnmeasuredInput))
        {
            failures.Add($"Gateway:Limits:UnmeasuredInput must be {UnmeasuredInputModes.ReserveWorstCase} or {UnmeasuredInputModes.CountFirst}.");
        }

        if (limits.ContextWindowTokens < 1 || limits.LongContextWindowTokens < 1 || limits.ContextWindows.Values.Any(static w => w < 1) ||
            limits.ServerToolIterations < 1)
        {
            failures.Add("Gateway:Limits:ContextWindowTokens, LongContextWindowTokens, ContextWindows and ServerToolIterations must be at least 1.");
        }

        if (limits.MaxConflictRetries < 1 || limits.SettleAttempts < 1)
        {
            failures.Add("Gateway:Limits:MaxConflictRetries and SettleAttempts must be at least 1.");
        }

        if (string.IsNullOrWhiteSpace(options.Storage.LimitsTable))
        {
            failures.Add("Gateway:Storage:LimitsTable must name a table.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
