using System.Text.Json;
using Qhaigc.Functions.Protocol;
using Qhaigc.Functions.Protocol.Sse;
using Qhaigc.Functions.Translation;

namespace Qhaigc.Functions.Tests.Translation;

/// <summary>
/// The Claude → OpenAI stream translator as it was before its hot path moved to <see cref="Utf8JsonReader"/>: every event
/// parsed into a <see cref="JsonDocument"/>, every chunk written anew. Kept verbatim as the oracle of the differential
/// tests; <see cref="ClaudeStreamToChat"/> must produce the same bytes for every event this one accepts.
/// </summary>
internal sealed class ReferenceClaudeStreamToChat(string completionId, long created, string model, bool includeUsage)
{
    public static readonly byte[] Done = "[DONE]"u8.ToArray();

    private readonly List<byte[]> _chunks = [];
    private readonly Dictionary<int, int> _toolByBlock = [];
    private UsageNumbers _usage;
    private int _tools;
    private bool _started;

    /// <summary>True after <c>[DONE]</c> or an error payload: the response ends here.</summary>
    public bool Finished { get; private set; }

    /// <summary>The OpenAI payloads (each one <c>data:</c> line) for one Claude event.</summary>
    public IReadOnlyList<byte[]> OnEvent(string eventType, ReadOnlySpan<byte> data)
    {
        _chunks.Clear();
        if (Finished)
        {
            return _chunks;
        }

        if (eventType is EventNames.Ping)
        {
            return _chunks;
        }

        using var document = ParseOrNull(data);
        var root = document?.RootElement ?? default;
        switch (eventType)
        {
            case EventNames.MessageStart:
                if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("message", out var message) &&
                    JsonValues.TryGet(message, "usage", JsonValueKind.Object, out var startUsage))
                {
                    _usage = UsageNumbers.FromClaude(startUsage);
                }

                EnsureStarted();
                break;
            case EventNames.ContentBlockStart:
                EnsureStarted();
                OnBlockStart(root);
                break;
            case EventNames.ContentBlockDelta:
                EnsureStarted();
                OnBlockDelta(root);
                break;
            case EventNames.MessageDelta:
                EnsureStarted();
                OnMessageDelta(root);
                break;
            case EventNames.MessageStop:
                EnsureStarted();
                if (includeUsage)
                {
                    _chunks.Add(JsonValues.Write(writer =>
                    {
                        WriteHead(writer);
                        writer.WriteStartArray("choices"u8);
                        writer.WriteEndArray();
                        _usage.WriteOpenAi(writer);
                        writer.WriteEndObject();
                    }));
                }

                _chunks.Add(Done);
                Finished = true;
                break;
            case EventNames.Error:
                var error = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("error", out var e) ? e : default;
                _chunks.Add(ErrorPayload(JsonValues.GetString(error, "type") ?? ErrorTypes.Api,
                    JsonValues.GetString(error, "message") ?? "The upstream failed."));
                Finished = true;
                break;
        }

        return _chunks;
    }

    /// <summary>The mid-stream error payload: <c>{"error":{message,type,param,code}}</c> (docs/openai-compatibility.md#5-streams-claude-to-openai).</summary>
    public static byte[] ErrorPayload(string type, string message) => JsonValues.Write(writer =>
    {
        writer.WriteStartObject();
        writer.WriteStartObject("error"u8);
        writer.WriteString("message"u8, message);
        writer.WriteString("type"u8, type);
        writer.WriteNull("param"u8);
        writer.WriteNull("code"u8);
        writer.WriteEndObject();
        writer.WriteEndObject();
    });

    private void OnBlockStart(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("content_block", out var block))
        {
            return;
        }

        var index = (int)(JsonValues.GetLong(root, "index") ?? 0);
        switch (JsonValues.GetString(block, "type"))
        {
            case "tool_use":
                var k = _tools++;
                _toolByBlock[index] = k;
                var id = JsonValues.GetString(block, "id") ?? "";
                var name = JsonValues.GetString(block, "name") ?? "";
                AddDelta(writer =>
                {
                    writer.WriteStartArray("tool_calls"u8);
                    writer.WriteStartObject();
                    writer.WriteNumber("index"u8, k);
                    writer.WriteString("id"u8, id);
                    writer.WriteString("type"u8, "function"u8);
                    writer.WriteStartObject("function"u8);
                    writer.WriteString("name"u8, name);
                    writer.WriteString("arguments"u8, ""u8);
                    writer.WriteEndObject();
                    writer.WriteEndObject();
                    writer.WriteEndArray();
                });
                break;
            case "text" when JsonValues.GetString(block, "text") is { Length: > 0 } text:
                AddDelta(writer => writer.WriteString("content"u8, text));
                break;
            case "thinking" when JsonValues.GetString(block, "thinking") is { Length: > 0 } thinking:
                AddDelta(writer => writer.WriteString("reasoning_content"u8, thinking));
                break;
        }
    }

    private void OnBlockDelta(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("delta", out var delta))
        {
            return;
        }

        switch (JsonValues.GetString(delta, "type"))
        {
            case "text_delta" when JsonValues.GetString(delta, "text") is { Length: > 0 } text:
                AddDelta(writer => writer.WriteString("content"u8, text));
                break;
            case "thinking_delta" when JsonValues.GetString(delta, "thinking") is { Length: > 0 } thinking:
                AddDelta(writer => writer.WriteString("reasoning_content"u8, thinking));
                break;
            case "input_json_delta" when JsonValues.GetString(delta, "partial_json") is { Length: > 0 } json &&
                                         _toolByBlock.TryGetValue((int)(JsonValues.GetLong(root, "index") ?? 0), out var k):
                AddDelta(writer =>
                {
                    writer.WriteStartArray("tool_calls"u8);
                    writer.WriteStartObject();
                    writer.WriteNumber("index"u8, k);
                    writer.WriteStartObject("function"u8);
                    writer.WriteString("arguments"u8, json);
                    writer.WriteEndObject();
                    writer.WriteEndObject();
                    writer.WriteEndArray();
                });
                break;
        }
    }

    private void OnMessageDelta(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        if (JsonValues.TryGet(root, "usage", JsonValueKind.Object, out var usage))
        {
            // Cumulative: present fields overwrite (docs/wire-contract.md#84-usage-in-a-stream).
            _usage = new UsageNumbers(
                JsonValues.GetLong(usage, "input_tokens") ?? _usage.InputTokens,
                JsonValues.GetLong(usage, "output_tokens") ?? _usage.OutputTokens,
                JsonValues.GetLong(usage, "cache_creation_input_tokens") ?? _usage.CacheCreationInputTokens,
                JsonValues.GetLong(usage, "cache_read_input_tokens") ?? _usage.CacheReadInputTokens);
        }

        if (!root.TryGetProperty("delta", out var delta) || JsonValues.GetString(delta, "stop_reason") is not { } stopReason)
        {
            return;
        }

        var finish = StopReasons.ToFinishReason(stopReason);
        _chunks.Add(JsonValues.Write(writer =>
        {
            WriteHead(writer);
            writer.WriteStartArray("choices"u8);
            writer.WriteStartObject();
            writer.WriteNumber("index"u8, 0);
            writer.WriteStartObject("delta"u8);
            writer.WriteEndObject();
            writer.WriteNull("logprobs"u8);
            writer.WriteString("finish_reason"u8, finish);
            writer.WriteEndObject();
            writer.WriteEndArray();
            WriteNullUsage(writer);
            writer.WriteEndObject();
        }));
    }

    private void EnsureStarted()
    {
        if (_started)
        {
            return;
        }

        _started = true;
        AddDelta(static writer =>
        {
            writer.WriteString("role"u8, "assistant"u8);
            writer.WriteString("content"u8, ""u8);
        });
    }

    private void AddDelta(Action<Utf8JsonWriter> writeDelta)
    {
        _chunks.Add(JsonValues.Write(writer =>
        {
            WriteHead(writer);
            writer.WriteStartArray("choices"u8);
            writer.WriteStartObject();
            writer.WriteNumber("index"u8, 0);
            writer.WriteStartObject("delta"u8);
            writeDelta(writer);
            writer.WriteEndObject();
            writer.WriteNull("logprobs"u8);
            writer.WriteNull("finish_reason"u8);
            writer.WriteEndObject();
            writer.WriteEndArray();
            WriteNullUsage(writer);
            writer.WriteEndObject();
        }));
    }

    private void WriteHead(Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        writer.WriteString("id"u8, completionId);
        writer.WriteString("object"u8, "chat.completion.chunk"u8);
        writer.WriteNumber("created"u8, created);
        writer.WriteString("model"u8, model);
    }

    /// <summary>With <c>include_usage</c>, every chunk but the last carries <c>usage: null</c> (docs/openai-compatibility.md#5-streams-claude-to-openai).</summary>
    private void WriteNullUsage(Utf8JsonWriter writer)
    {
        if (includeUsage)
        {
            writer.WriteNull("usage"u8);
        }
    }

    private static JsonDocument? ParseOrNull(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty)
        {
            return null;
        }

        try
        {
            var reader = new Utf8JsonReader(data);
            return JsonDocument.ParseValue(ref reader);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
