using Qhaigc.Functions.Hosting;
using Qhaigc.Functions.Protocol;
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
        // Measured text is never cut to the configured window: a stale window setting must not under-reserve a prompt
        // the upstream does take.
        var first = counted is { } exact && bound.CountStandsForInput
            ? Math.Min((long)Math.Ceiling(exact * Math.Max(1, options.InputEstimateMargin)), contextWindow)
            : bound.HasUnmeasured ? Math.Max(contextWindow, bound.MeasuredTokens) : bound.MeasuredTokens;
        if (!bound.ServerLoop)
        {
            return first;
        }

        var iterations = Math.Clamp(bound.MaxUses ?? options.ServerToolIterations, 0, options.ServerToolIterations);
        return first + (iterations * contextWindow);
    }

    /// <summary>
    /// The input a call is billed for when its client left before any usage came back, though the upstream had the
    /// request: the tokenizer's estimate, or, when part of the input cannot be measured (a PDF or a document by URL, a
    /// server tool's results), the model's context window, the most the upstream can bill for it
    /// (docs/usage-records.md#abandoned-calls). Otherwise a client could send a large document by URL, leave at once,
    /// and be billed a flat estimate of a few thousand tokens, again and again.
    /// </summary>
    public static long AbandonedTokens(MessagesRequest sent, string? servedModel, LimitsOptions options)
    {
        var estimate = TokenEstimator.Shared.EstimateRequest(sent.Root);
        if (!InputBoundReader.Read(sent.Root).HasUnmeasured)
        {
            return estimate;
        }

        var window = ContextWindow(options, servedModel ?? sent.Model, sent.AnthropicBeta);
        return Math.Max(estimate, window);
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
