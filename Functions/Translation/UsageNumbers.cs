using System.Text.Json;

namespace Qhaigc.Functions.Translation;

/// <summary>
/// Token counts in Claude's terms (input excludes both cache fields), with the conversions to and from OpenAI's
/// <c>usage</c> object (docs/openai-compatibility.md#7-usage).
/// </summary>
public readonly record struct UsageNumbers(long InputTokens, long OutputTokens, long CacheCreationInputTokens, long CacheReadInputTokens)
{
    /// <summary>Reads a Claude <c>usage</c> object; missing fields are zero.</summary>
    public static UsageNumbers FromClaude(JsonElement usage) => new(
        JsonValues.GetLong(usage, "input_tokens") ?? 0,
        JsonValues.GetLong(usage, "output_tokens") ?? 0,
        JsonValues.GetLong(usage, "cache_creation_input_tokens") ?? 0,
        JsonValues.GetLong(usage, "cache_read_input_tokens") ?? 0);

    /// <summary>
    /// Reads an OpenAI <c>usage</c> object: cached and cache-write tokens come out of <c>prompt_tokens</c>, and
    /// <c>completion_tokens</c> already includes reasoning tokens.
    /// </summary>
    public static UsageNumbers FromOpenAi(JsonElement usage)
    {
        var prompt = JsonValues.GetLong(usage, "prompt_tokens") ?? 0;
        long cached = 0, written = 0;
        if (usage.TryGetProperty("prompt_tokens_details", out var details) && details.ValueKind == JsonValueKind.Object)
        {
            cached = JsonValues.GetLong(details, "cached_tokens") ?? 0;
            written = JsonValues.GetLong(details, "cache_write_tokens") ?? 0;
        }

        return new UsageNumbers(Math.Max(prompt - cached - written, 0), JsonValues.GetLong(usage, "completion_tokens") ?? 0, written, cached);
    }

    /// <summary>Writes <c>"usage": {…}</c> in Claude's shape, both cache fields always present (docs/wire-contract.md#84-usage-in-a-stream).</summary>
    public void WriteClaude(Utf8JsonWriter writer)
    {
        writer.WriteStartObject("usage"u8);
        writer.WriteNumber("input_tokens"u8, InputTokens);
        writer.WriteNumber("cache_creation_input_tokens"u8, CacheCreationInputTokens);
        writer.WriteNumber("cache_read_input_tokens"u8, CacheReadInputTokens);
        writer.WriteNumber("output_tokens"u8, OutputTokens);
        writer.WriteEndObject();
    }

    /// <summary>Writes <c>"usage": {…}</c> in OpenAI's shape: prompt tokens include both cache fields.</summary>
    public void WriteOpenAi(Utf8JsonWriter writer)
    {
        var prompt = InputTokens + CacheReadInputTokens + CacheCreationInputTokens;
        writer.WriteStartObject("usage"u8);
        writer.WriteNumber("prompt_tokens"u8, prompt);
        writer.WriteNumber("completion_tokens"u8, OutputTokens);
        writer.WriteNumber("total_tokens"u8, prompt + OutputTokens);
        writer.WriteStartObject("prompt_tokens_details"u8);
        writer.WriteNumber("cached_tokens"u8, CacheReadInputTokens);
        writer.WriteNumber("cache_write_tokens"u8, CacheCreationInputTokens);
        writer.WriteEndObject();
        writer.WriteEndObject();
    }
}
