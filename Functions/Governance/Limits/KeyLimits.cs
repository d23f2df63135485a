using System.Text.Json;

namespace Qhaigc.Functions.Governance;

/// <summary>
/// A key's limits, as the operator sets them in its <c>limits</c> object. Every field is optional; a key without
/// any is never counted (no table access on its calls).
/// <code>
/// {"requestsPerMinute": 60, "tokensPerMinute": 100000, "inputTokensPerMinute": 80000, "outputTokensPerMinute": 20000,
///  "concurrentStreams": 4, "spendCap": 25.5, "spendPeriod": "month", "countTokensPerMinute": 60, "maxFiles": 500,
///  "maxFileBytes": 1073741824}
/// </code>
/// </summary>
public sealed record KeyLimits
{
    public const string RequestsPerMinuteName = "requestsPerMinute";
    public const string TokensPerMinuteName = "tokensPerMinute";
    public const string InputTokensPerMinuteName = "inputTokensPerMinute";
    public const string OutputTokensPerMinuteName = "outputTokensPerMinute";
    public const string ConcurrentStreamsName = "concurrentStreams";
    public const string SpendCapName = "spendCap";
    public const string SpendPeriodName = "spendPeriod";
    public const string CountTokensPerMinuteName = "countTokensPerMinute";
    public const string MaxFilesName = "maxFiles";
    public const string MaxFileBytesName = "maxFileBytes";

    /// <summary>Largest count limit; far beyond any real key, small enough that sums never overflow.</summary>
    public const long MaxCount = 1_000_000_000_000;

    /// <summary>Largest spend cap, in currency units.</summary>
    public const decimal MaxSpendCap = 1_000_000_000_000m;

    public static KeyLimits None { get; } = new();

    public long? RequestsPerMinute { get; init; }

    /// <summary>Input and output tokens together per minute.</summary>
    public long? TokensPerMinute { get; init; }

    public long? InputTokensPerMinute { get; init; }

    public long? OutputTokensPerMinute { get; init; }

    /// <summary>Streaming calls running at the same time.</summary>
    public long? ConcurrentStreams { get; init; }

    /// <summary>The spend cap in micro-units of the operator's currency.</summary>
    public long? SpendCapMicros { get; init; }

    public SpendPeriod SpendPeriod { get; init; } = SpendPeriod.Month;

    /// <summary>
    /// <c>count_tokens</c> calls per minute, counted apart from the Messages calls (docs/limits-and-prices.md#count_tokens-and-refused-calls);
    /// unset, the key's <see cref="RequestsPerMinute"/> applies to them as a limit of their own.
    /// </summary>
    public long? CountTokensPerMinute { get; init; }

    /// <summary>
    /// Files the key may hold at once (uploaded and not deleted), so that one tenant cannot fill the upstream account's
    /// file storage (docs/files.md#how-many-files-a-key-holds). Not a call limit: admission never reads it.
    /// </summary>
    public long? MaxFiles { get; init; }

    /// <summary>
    /// Bytes of files the key may hold at once, its files' sizes added up (docs/files.md#how-many-files-a-key-holds). Not
    /// a call limit either.
    /// </summary>
    public long? MaxFileBytes { get; init; }

    /// <summary>The <c>count_tokens</c> calls a minute allows: <see cref="CountTokensPerMinute"/>, else <see cref="RequestsPerMinute"/>; null for no limit.</summary>
    public long? CountTokensLimit => CountTokensPerMinute ?? RequestsPerMinute;

    /// <summary>True when some limit needs a per-minute window.</summary>
    public bool HasWindow => RequestsPerMinute is not null || TokensPerMinute is not null ||
                             InputTokensPerMinute is not null || OutputTokensPerMinute is not null;

    public bool HasTokenLimit => TokensPerMinute is not null || InputTokensPerMinute is not null || OutputTokensPerMinute is not null;

    /// <summary>True when calls of this key need no counting at all: the fast path.</summary>
    public bool IsEmpty => !HasWindow && ConcurrentStreams is null && SpendCapMicros is null;

    /// <summary>Reads a stored <c>limits</c> object. Null text means no limits; unknown fields are an error, like bad values.</summary>
    public static KeyLimits? Parse(string? json, out string? error)
    {
        error = null;
        if (string.IsNullOrWhiteSpace(json))
        {
            return None;
        }

        try
        {
            using var document = JsonDocument.Parse(json);
            return Parse(document.RootElement, out error);
        }
        catch (JsonException)
        {
            error = "limits: not valid JSON";
            return null;
        }
    }

    /// <summary>Reads and checks a <c>limits</c> object; on failure the error names the field, in the API's <c>path: problem</c> form.</summary>
    public static KeyLimits? Parse(JsonElement element, out string? error)
    {
        error = null;
        if (element.ValueKind == JsonValueKind.Null)
        {
            return None;
        }

        if (element.ValueKind != JsonValueKind.Object)
        {
            error = "limits: Input should be a valid dictionary";
            return null;
        }

        var limits = new KeyLimits();
        foreach (var property in element.EnumerateObject())
        {
            var value = property.Value;
            var path = "limits." + property.Name;
            if (value.ValueKind == JsonValueKind.Null)
            {
                continue;
            }

            switch (property.Name)
            {
                case RequestsPerMinuteName:
                    limits = limits with { RequestsPerMinute = Count(value, path, ref error) };
                    break;
                case TokensPerMinuteName:
                    limits = limits with { TokensPerMinute = Count(value, path, ref error) };
                    break;
                case InputTokensPerMinuteName:
                    limits = limits with { InputTokensPerMinute = Count(value, path, ref error) };
                    break;
                case OutputTokensPerMinuteName:
                    limits = limits with { OutputTokensPerMinute = Count(value, path, ref error) };
                    break;
                case ConcurrentStreamsName:
                    limits = limits with { ConcurrentStreams = Count(value, path, ref error) };
                    break;
                case CountTokensPerMinuteName:
                    limits = limits with { CountTokensPerMinute = Count(value, path, ref error) };
                    break;
                case MaxFilesName:
                    limits = limits with { MaxFiles = Count(value, path, ref error) };
                    break;
                case MaxFileBytesName:
                    limits = limits with { MaxFileBytes = Count(value, path, ref error) };
                    break;
                case SpendCapName:
                    if (value.ValueKind != JsonValueKind.Number || !value.TryGetDecimal(out var cap) || cap < 0 || cap > MaxSpendCap ||
                        decimal.Round(cap, 6) != cap)
                    {
                        error ??= $"{path}: Input should be a number from 0 to {MaxSpendCap} with at most 6 decimals (the operator's currency)";
                        break;
                    }

                    limits = limits with { SpendCapMicros = Money.ToMicros(cap) };
                    break;
                case SpendPeriodName:
                    var period = value.ValueKind == JsonValueKind.String ? value.GetString() : null;
                    if (string.Equals(period, "month", StringComparison.OrdinalIgnoreCase))
                    {
                        limits = limits with { SpendPeriod = SpendPeriod.Month };
                    }
                    else if (string.Equals(period, "lifetime", StringComparison.OrdinalIgnoreCase))
                    {
                        limits = limits with { SpendPeriod = SpendPeriod.Lifetime };
                    }
                    else
                    {
                        error ??= $"{path}: Input should be 'month' or 'lifetime'";
                    }

                    break;
                default:
                    error ??= $"{path}: unknown limit (known: {RequestsPerMinuteName}, {TokensPerMinuteName}, {InputTokensPerMinuteName}, " +
                              $"{OutputTokensPerMinuteName}, {ConcurrentStreamsName}, {SpendCapName}, {SpendPeriodName}, {CountTokensPerMinuteName}, {MaxFilesName}, " +
                              $"{MaxFileBytesName})";
                    break;
            }
        }

        return error is null ? limits : null;
    }

    private static long? Count(JsonElement value, string path, ref string? error)
    {
        if (value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var count) && count is >= 1 and <= MaxCount)
        {
            return count;
        }

        error ??= $"{path}: Input should be an integer from 1 to {MaxCount}";
        return null;
    }
}
