using Qhaigc.Functions.Hosting;
using Qhaigc.Functions.Upstreams;
using Qhaigc.Functions.Usage;

namespace Qhaigc.Functions.Governance;

/// <summary>
/// The input tokens a capped call reserves: never fewer than the upstream can bill it for
/// (docs/limits-and-prices.md#what-a-hard-cap-guarantees). Measured parts count at their hard bound (bytes and framing,
/// <see cref="InputBoundReader"/>), anything unmeasured at the model's whole context window (or at the upstream's own
/// count, with the estimate margin, when <c>count-first</c> got one), and each further sampling iteration a server
/// tool may run at one more context window. Never more than the context window per iteration: an upstream refuses a
/// longer prompt before it bills anything.
/// </summary>
public static class InputReservation
{
    /// <summary>The beta that gives a model a million-token window (anthropic-beta: context-1m-2025-08-07).</summary>
    public const string LongContextBeta = "context-1m";

    public static long Tokens(InputBound bound, long contextWindow, LimitsOptions options, long? counted)
    {
        var first = counted is { } exact
            ? (long)Math.Ceiling(exact * Math.Max(1, options.InputEstimateMargin))
            : bound.HasUnmeasured ? contextWindow : bound.MeasuredTokens;
        first = Math.Min(first, contextWindow);
        if (!bound.ServerLoop)
        {
            return first;
        }

        var iterations = Math.Min(bound.MaxUses ?? options.ServerToolIterations, options.ServerToolIterations);
        return first + (iterations * contextWindow);
    }

    /// <summary>The context window of a model: the long one with the <c>context-1m</c> beta, else the most specific configured pattern, else the default.</summary>
    public static long ContextWindow(LimitsOptions options, string model, string? anthropicBeta)
    {
        if (anthropicBeta is not null && anthropicBeta.Contains(LongContextBeta, StringComparison.OrdinalIgnoreCase))
        {
            return options.LongContextWindowTokens;
        }

        long? window = null;
        var best = -1;
        foreach (var (pattern, tokens) in options.ContextWindows)
        {
            if (pattern.Length > best && ModelPattern.IsMatch(pattern, model))
            {
                (window, best) = (tokens, pattern.Length);
            }
        }

        return window ?? options.ContextWindowTokens;
    }
}
