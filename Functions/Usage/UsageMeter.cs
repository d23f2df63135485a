using System.Text.Json;
using Qhaigc.Functions.Protocol.Sse;

namespace Qhaigc.Functions.Usage;

/// <summary>
/// Counts usage from what passes through, without re-serializing it: the usage of a whole message, or of a stream
/// from <c>message_start</c> and <c>message_delta</c> (docs/wire-contract.md#84-usage-in-a-stream). Only those events and <c>error</c> are parsed;
/// deltas are not looked at.
/// </summary>
public sealed class UsageMeter
{
    private string? _startUsage;
    private string? _deltaUsage;

    public TokenUsage Usage { get; } = new();

    public string? MessageId { get; private set; }

    public string? StopReason { get; private set; }

    public bool SawMessageStart { get; private set; }

    public bool SawMessageDelta { get; private set; }

    public bool SawMessageStop { get; private set; }

    /// <summary>Output text characters seen in deltas, for an estimate when a stream ends without a final count.</summary>
    public long OutputCharacters { get; private set; }

    public string? ErrorType { get; private set; }

    public string? ErrorMessage { get; private set; }

    /// <summary>Reads a non-streaming message body.</summary>
    public void ObserveMessage(ReadOnlySpan<byte> json)
    {
        try
        {
            var reader = new Utf8JsonReader(json);
            using var document = JsonDocument.ParseValue(ref reader);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return;
            }

            MessageId = GetString(root, "id");
            StopReason = GetString(root, "stop_reason");
            if (root.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object)
            {
                Apply(usage);
                Usage.Raw = usage.GetRawText();
            }
        }
        catch (JsonException)
        {
            // A body we cannot read is relayed as it is; the record then says the usage is unknown (zero).
        }
    }

    /// <summary>Looks at one SSE event; cheap for the events it does not need.</summary>
    public void ObserveEvent(string eventType, ReadOnlySpan<byte> data)
    {
        switch (eventType)
        {
            case EventNames.ContentBlockDelta:
                // Only a length: enough to estimate output when a stream is cut before message_delta.
                OutputCharacters += data.Length;
                return;
            case EventNames.MessageStart:
                SawMessageStart = true;
                Parse(data, static (meter, root) =>
                {
                    if (root.TryGetProperty("message", out var message) && message.ValueKind == JsonValueKind.Object)
                    {
                        meter.MessageId = GetString(message, "id");
                        if (message.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object)
                        {
                            meter.Apply(usage);
                            meter._startUsage = usage.GetRawText();
                        }
                    }
                });
                break;
            case EventNames.MessageDelta:
                SawMessageDelta = true;
                Parse(data, static (meter, root) =>
                {
                    if (root.TryGetProperty("delta", out var delta) && delta.ValueKind == JsonValueKind.Object)
                    {
                        meter.StopReason = GetString(delta, "stop_reason") ?? meter.StopReason;
                    }

                    if (root.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object)
                    {
                        // Cumulative: later values overwrite, never add (docs/wire-contract.md#84-usage-in-a-stream).
                        meter.Apply(usage);
                        meter._deltaUsage = usage.GetRawText();
                    }
                });
                break;
            case EventNames.MessageStop:
                SawMessageStop = true;
                return;
            case EventNames.Error:
                Parse(data, static (meter, root) =>
                {
                    if (root.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.Object)
                    {
                        meter.ErrorType = GetString(error, "type");
                        meter.ErrorMessage = GetString(error, "message");
                    }
                });
                ErrorType ??= Protocol.ErrorTypes.Api;
                break;
            default:
                return;
        }

        Usage.Raw = ComposeRaw();
    }

    /// <summary>
    /// For a stream that ended without its final <c>message_delta</c> (client gone, upstream cut): estimate output from
    /// the characters seen (about four per token) and mark the usage estimated (docs/wire-contract.md#84-usage-in-a-stream).
    /// </summary>
    public void EstimateIfIncomplete()
    {
        if (SawMessageDelta)
        {
            return;
        }

        Usage.OutputTokens = Math.Max(Usage.OutputTokens, (OutputCharacters + 3) / 4);
        Usage.Estimated = true;
    }

    private void Apply(JsonElement usage)
    {
        if (TryGetLong(usage, "input_tokens", out var input))
        {
            Usage.InputTokens = input;
        }

        if (TryGetLong(usage, "output_tokens", out var output))
        {
            Usage.OutputTokens = output;
        }

        if (TryGetLong(usage, "cache_creation_input_tokens", out var creation))
        {
            Usage.CacheCreationInputTokens = creation;
        }

        if (TryGetLong(usage, "cache_read_input_tokens", out var read))
        {
            Usage.CacheReadInputTokens = read;
        }

        if (usage.TryGetProperty("server_tool_use", out var tools) && tools.ValueKind == JsonValueKind.Object)
        {
            if (TryGetLong(tools, "web_search_requests", out var searches))
            {
                Usage.WebSearchRequests = searches;
            }

            if (TryGetLong(tools, "web_fetch_requests", out var fetches))
            {
                Usage.WebFetchRequests = fetches;
            }
        }

        Usage.ServiceTier = GetString(usage, "service_tier") ?? Usage.ServiceTier;
        Usage.Speed = GetString(usage, "speed") ?? Usage.Speed;
        Usage.InferenceGeo = GetString(usage, "inference_geo") ?? Usage.InferenceGeo;

        if (usage.TryGetProperty("cache_creation", out var split) && split.ValueKind == JsonValueKind.Object)
        {
            if (TryGetLong(split, "ephemeral_5m_input_tokens", out var fiveMinutes))
            {
                Usage.CacheCreation5mInputTokens = fiveMinutes;
            }

            if (TryGetLong(split, "ephemeral_1h_input_tokens", out var oneHour))
            {
                Usage.CacheCreation1hInputTokens = oneHour;
            }
        }
    }

    private string? ComposeRaw()
    {
        if (_startUsage is null && _deltaUsage is null)
        {
            return null;
        }

        // One allocation, the string itself (a builder grew through three buffers for it, twice per stream).
        return _startUsage is null ? string.Concat("{\"message_delta\":", _deltaUsage, "}")
            : _deltaUsage is null ? string.Concat("{\"message_start\":", _startUsage, "}")
            : string.Concat(["{\"message_start\":", _startUsage, ",\"message_delta\":", _deltaUsage, "}"]);
    }

    private void Parse(ReadOnlySpan<byte> data, Action<UsageMeter, JsonElement> read)
    {
        try
        {
            var reader = new Utf8JsonReader(data);
            using var document = JsonDocument.ParseValue(ref reader);
            if (document.RootElement.ValueKind == JsonValueKind.Object)
            {
                read(this, document.RootElement);
            }
        }
        catch (JsonException)
        {
            // Malformed event data is relayed untouched; it just does not count.
        }
    }

    private static string? GetString(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static bool TryGetLong(JsonElement element, string name, out long value)
    {
        value = 0;
        return element.TryGetProperty(name, out var property) && property.ValueKind == JsonValueKind.Number &&
               property.TryGetInt64(out value);
    }
}
