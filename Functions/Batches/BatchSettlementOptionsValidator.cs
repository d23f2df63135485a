using Microsoft.Extensions.Options;

namespace Qhaigc.Functions.Batches;

/// <summary>Checks <c>Gateway:Batches</c> at start-up, so a schedule that cannot run stops the host instead of never settling.</summary>
public sealed class BatchSettlementOptionsValidator : IValidateOptions<BatchSettlementOptions>
{
    public ValidateOptionsResult Validate(string? name, BatchSettlementOptions options)
    {
        var failures = new List<string>(2);
        if (SettleSchedule.Parse(options.SettleSchedule, out var error) is null)
        {
            failures.Add($"{BatchSettlementOptions.SettleScheduleSetting} {error}.");
        }

        if (options.HoldDuration < TimeSpan.FromDays(2))
        {
            failures.Add("Gateway:Batches:HoldDuration must be at least 2 days: a batch runs up to 24 hours before it can be settled.");
        }

        if (options.GoneAfter < TimeSpan.Zero || options.GoneAfter >= options.HoldDuration)
        {
            failures.Add("Gateway:Batches:GoneAfter must be from 0 to less than Gateway:Batches:HoldDuration: a batch must be billed before its hold is swept.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
