using System.Text;
using System.Text.Json;

namespace Qhaigc.Functions.Usage;

/// <summary>
/// How the meter reads the few JSON objects it needs (a message, <c>message_start</c>, <c>message_delta</c>,
/// <c>error</c>): one forward pass with <see cref="Utf8JsonReader"/>, keeping only the members it counts, instead of a
/// <see cref="JsonDocument"/> per object (docs/performance.md#cpu-per-streamed-event). Where a name occurs twice in an
/// object the last occurrence decides, as <see cref="JsonElement.TryGetProperty(string, out JsonElement)"/> finds it.
/// </summary>
public sealed partial class UsageMeter
{
    /// <summary>The same depth a <see cref="JsonDocument"/> read by default allows.</summary>
    private const int MaxDepth = 64;

    /// <summary>
    /// The values most members read here take (object types, stop reasons, service tiers, speeds, regions), so that
    /// reading one allocates nothing: a stream's two usage events would otherwise make a new string of each.
    /// </summary>
    private static readonly string[] KnownValues =
    [
        "message_start", "message_delta", "message", "error", "end_turn", "max_tokens", "tool_use", "stop_sequence",
        "pause_turn", "refusal", "standard", "priority", "batch", "fast", "global", "us",
    ];

    private static readonly byte[][] KnownValuesUtf8 = [.. KnownValues.Select(static value => Encoding.UTF8.GetBytes(value))];

    /// <summary>
    /// Reads <paramref name="json"/> as one JSON object; false when it is not one or is not well-formed (the event is
    /// then relayed as it came and does not count).
    /// </summary>
    private static bool TryReadObject(ReadOnlySpan<byte> json, out TopMembers members)
    {
        members = new TopMembers(new Members());
        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = MaxDepth });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return false;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("message"u8))
                {
                    reader.Read();
                    members.Message = reader.TokenType == JsonTokenType.StartObject ? ReadMembers(ref reader, json) : Skip<Members>(ref reader);
                }
                else if (reader.ValueTextEquals("delta"u8))
                {
                    reader.Read();
                    members.Delta = reader.TokenType == JsonTokenType.StartObject ? ReadMembers(ref reader, json) : Skip<Members>(ref reader);
                }
                else if (reader.ValueTextEquals("error"u8))
                {
                    reader.Read();
                    members.Error = reader.TokenType == JsonTokenType.StartObject ? ReadMembers(ref reader, json) : Skip<Members>(ref reader);
                }
                else if (!ReadMember(ref reader, json, members.Own))
                {
                    SkipValue(ref reader);
                }
            }

            return reader.TokenType == JsonTokenType.EndObject;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>Reads the object the reader is at (its start) and leaves the reader at its end.</summary>
    private static Members ReadMembers(ref Utf8JsonReader reader, ReadOnlySpan<byte> json)
    {
        var members = new Members();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (!ReadMember(ref reader, json, members))
            {
                SkipValue(ref reader);
            }
        }

        return members;
    }

    /// <summary>Reads the value of the member whose name the reader is at, if it is one the meter needs.</summary>
    private static bool ReadMember(ref Utf8JsonReader reader, ReadOnlySpan<byte> json, Members members)
    {
        if (reader.ValueTextEquals("id"u8))
        {
            members.Id = ReadString(ref reader);
        }
        else if (reader.ValueTextEquals("stop_reason"u8))
        {
            members.StopReason = ReadString(ref reader);
        }
        else if (reader.ValueTextEquals("type"u8))
        {
            members.Type = ReadString(ref reader);
        }
        else if (reader.ValueTextEquals("message"u8))
        {
            members.Message = ReadString(ref reader);
        }
        else if (reader.ValueTextEquals("usage"u8))
        {
            reader.Read();
            members.Usage = reader.TokenType == JsonTokenType.StartObject ? ReadUsage(ref reader, json) : Skip<UsageObject>(ref reader);
        }
        else
        {
            return false;
        }

        return true;
    }

    private static UsageObject ReadUsage(ref Utf8JsonReader reader, ReadOnlySpan<byte> json)
    {
        var start = (int)reader.TokenStartIndex;
        var usage = new UsageObject();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("input_tokens"u8))
            {
                usage.InputTokens = ReadLong(ref reader);
            }
            else if (reader.ValueTextEquals("output_tokens"u8))
            {
                usage.OutputTokens = ReadLong(ref reader);
            }
            else if (reader.ValueTextEquals("cache_creation_input_tokens"u8))
            {
                usage.CacheCreationInputTokens = ReadLong(ref reader);
            }
            else if (reader.ValueTextEquals("cache_read_input_tokens"u8))
            {
                usage.CacheReadInputTokens = ReadLong(ref reader);
            }
            else if (reader.ValueTextEquals("service_tier"u8))
            {
                usage.ServiceTier = ReadString(ref reader);
            }
            else if (reader.ValueTextEquals("speed"u8))
            {
                usage.Speed = ReadString(ref reader);
            }
            else if (reader.ValueTextEquals("inference_geo"u8))
            {
                usage.InferenceGeo = ReadString(ref reader);
            }
            else if (reader.ValueTextEquals("server_tool_use"u8))
            {
                (usage.WebSearchRequests, usage.WebFetchRequests) =
                    ReadPair(ref reader, "web_search_requests"u8, "web_fetch_requests"u8);
            }
            else if (reader.ValueTextEquals("cache_creation"u8))
            {
                (usage.CacheCreation5mInputTokens, usage.CacheCreation1hInputTokens) =
                    ReadPair(ref reader, "ephemeral_5m_input_tokens"u8, "ephemeral_1h_input_tokens"u8);
            }
            else
            {
                SkipValue(ref reader);
            }
        }

        // The object's text as it came, for the usage record's raw usage: its bytes, turned into text once, when the
        // record is made (a stream's two usage objects then make one string, not three).
        usage.Raw = json[start..(int)reader.BytesConsumed].ToArray();
        return usage;
    }

    /// <summary>Two counts of a nested object (its last occurrence); neither when that is not an object.</summary>
    private static (long? First, long? Second) ReadPair(ref Utf8JsonReader reader, ReadOnlySpan<byte> first, ReadOnlySpan<byte> second)
    {
        reader.Read();
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return default;
        }

        (long? First, long? Second) pair = default;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals(first))
            {
                pair.First = ReadLong(ref reader);
            }
            else if (reader.ValueTextEquals(second))
            {
                pair.Second = ReadLong(ref reader);
            }
            else
            {
                SkipValue(ref reader);
            }
        }

        return pair;
    }

    /// <summary>The member's value if it is a number that fits a long; otherwise none (and the value is skipped).</summary>
    private static long? ReadLong(ref Utf8JsonReader reader)
    {
        reader.Read();
        if (reader.TokenType == JsonTokenType.Number)
        {
            return reader.TryGetInt64(out var value) ? value : null;
        }

        reader.Skip();
        return null;
    }

    /// <summary>The member's value if it is a string; otherwise none (and the value is skipped).</summary>
    private static string? ReadString(ref Utf8JsonReader reader)
    {
        reader.Read();
        if (reader.TokenType != JsonTokenType.String)
        {
            reader.Skip();
            return null;
        }

        if (!reader.ValueIsEscaped && Known(reader.ValueSpan) is { } known)
        {
            return known;
        }

        try
        {
            return reader.GetString();
        }
        catch (InvalidOperationException)
        {
            // Not valid UTF-8: the value does not count; the rest of the object still does.
            return null;
        }
    }

    private static string? Known(ReadOnlySpan<byte> value)
    {
        for (var i = 0; i < KnownValuesUtf8.Length; i++)
        {
            if (value.SequenceEqual(KnownValuesUtf8[i]))
            {
                return KnownValues[i];
            }
        }

        return null;
    }

    /// <summary>Skips the value of the member whose name the reader is at.</summary>
    private static void SkipValue(ref Utf8JsonReader reader)
    {
        reader.Read();
        reader.Skip();
    }

    /// <summary>Skips the value the reader is at, one of the wrong kind: none.</summary>
    private static T? Skip<T>(ref Utf8JsonReader reader)
        where T : class
    {
        reader.Skip();
        return null;
    }

    /// <summary>The members of a top-level object: its own, and those of its <c>message</c>, <c>delta</c> or <c>error</c>.</summary>
    private struct TopMembers(Members own)
    {
        public readonly Members Own = own;
        public Members? Message;
        public Members? Delta;
        public Members? Error;
    }

    private sealed class Members
    {
        public string? Id;
        public string? StopReason;
        public string? Type;
        public string? Message;
        public UsageObject? Usage;
    }

    /// <summary>One usage object's fields; each null where the object does not carry it as a number (or string).</summary>
    private sealed class UsageObject
    {
        public long? InputTokens;
        public long? OutputTokens;
        public long? CacheCreationInputTokens;
        public long? CacheReadInputTokens;
        public long? WebSearchRequests;
        public long? WebFetchRequests;
        public long? CacheCreation5mInputTokens;
        public long? CacheCreation1hInputTokens;
        public string? ServiceTier;
        public string? Speed;
        public string? InferenceGeo;
        public byte[] Raw = [];
    }
}
