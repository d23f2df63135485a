namespace Qhaigc.Functions.Governance;

/// <summary>
/// The admission rule, free of storage so it can be tested alone: a call is admitted when, after adding it, no limit is
/// exceeded. Requests and tokens count per fixed UTC minute; a call's tokens count at their estimate until it ends.
/// </summary>
public static class AdmissionPolicy
{
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(1);

    /// <summary>The start of the fixed minute window that holds <paramref name="now"/>.</summary>
    public static DateTimeOffset WindowStart(DateTimeOffset now)
    {
        var utc = now.ToUniversalTime();
        return new DateTimeOffset(utc.Ticks - (utc.Ticks % Window.Ticks), TimeSpan.Zero);
    }

    /// <summary>
    /// The tokens a call reserves in the window: its estimate, but never more than a limit itself, so that a call bigger
    /// than a whole window is still admitted, alone, into an empty one (rather than refused for ever).
    /// </summary>
    public static WindowCharge Charge(KeyLimits limits, CallEstimate estimate)
    {
        if (!limits.HasTokenLimit)
        {
            return default;
        }

        var input = Math.Min(estimate.InputTokens, limits.InputTokensPerMinute ?? long.MaxValue);
        var output = Math.Min(estimate.OutputTokens, limits.OutputTokensPerMinute ?? long.MaxValue);
        if (limits.TokensPerMinute is { } total && input + output > total)
        {
            input = Math.Min(input, total);
            output = total - input;
        }

        return new WindowCharge(input, output);
    }

    /// <summary>
    /// What the call reserves if it is admitted: its window charge (in the window of its time, when the key has a token
    /// limit), its worst-case cost in the current spend period (when the key has a cap and the model a price) and a
    /// stream slot (when it streams and the key limits streams). Every limit ledger admits with this.
    /// </summary>
    public static Reserved Reserve(AdmissionRequest request)
    {
        var (limits, estimate) = (request.Limits, request.Estimate);
        var charge = Charge(limits, estimate);
        var spendPeriod = limits.SpendCapMicros is not null && estimate.WorstCostMicros is not null
            ? SpendPeriods.Key(limits.SpendPeriod, request.Now)
            : null;
        return new Reserved
        {
            KeyId = request.KeyId,
            RequestId = request.RequestId,
            WindowStart = limits.HasTokenLimit ? WindowStart(request.Now) : null,
            InputTokens = charge.InputTokens,
            OutputTokens = charge.OutputTokens,
            SpendPeriod = spendPeriod,
            ReservedMicros = spendPeriod is null ? 0 : estimate.WorstCostMicros!.Value,
            Stream = estimate.Stream && limits.ConcurrentStreams is not null,
        };
    }

    /// <summary>The first limit the call would exceed, or <see cref="LimitKind.None"/>.</summary>
    public static LimitKind Check(KeyLimits limits, LimitUsage usage, CallEstimate estimate, WindowCharge charge)
    {
        // Compared without adding to the worst case: a worst case near long.MaxValue (a tenant's huge max_uses) must
        // not wrap the sum below the cap.
        if (limits.SpendCapMicros is { } cap && estimate.WorstCostMicros is { } worst &&
            (worst < 0 || worst > cap - usage.SpentMicros - usage.ReservedMicros))
        {
            return LimitKind.Spend;
        }

        if (limits.RequestsPerMinute is { } requests && usage.Requests + 1 > requests)
        {
            return LimitKind.Requests;
        }

        if (limits.TokensPerMinute is { } tokens && usage.Tokens + charge.InputTokens + charge.OutputTokens > tokens)
        {
            return LimitKind.Tokens;
        }

        if (limits.InputTokensPerMinute is { } input && usage.InputTokens + charge.InputTokens > input)
        {
            return LimitKind.InputTokens;
        }

        if (limits.OutputTokensPerMinute is { } output && usage.OutputTokens + charge.OutputTokens > output)
        {
            return LimitKind.OutputTokens;
        }

        if (estimate.Stream && limits.ConcurrentStreams is { } streams && usage.ActiveStreams + 1 > streams)
        {
            return LimitKind.Streams;
        }

        return LimitKind.None;
    }

    /// <summary>The counters after the call is admitted.</summary>
    public static LimitUsage Add(KeyLimits limits, LimitUsage usage, CallEstimate estimate, WindowCharge charge) => usage with
    {
        Requests = usage.Requests + (limits.HasWindow ? 1 : 0),
        InputTokens = usage.InputTokens + charge.InputTokens,
        OutputTokens = usage.OutputTokens + charge.OutputTokens,
        ReservedMicros = usage.ReservedMicros + (limits.SpendCapMicros is not null ? estimate.WorstCostMicros ?? 0 : 0),
        ActiveStreams = usage.ActiveStreams + (estimate.Stream && limits.ConcurrentStreams is not null ? 1 : 0),
    };
}
