using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using Qhaigc.Functions.Protocol;
using Qhaigc.Functions.Protocol.Sse;

namespace Qhaigc.Functions.Translation;

/// <summary>
/// Claude SSE events → OpenAI <c>chat.completion.chunk</c> payloads, event by event (docs/openai-compatibility.md#5-streams-claude-to-openai): a first chunk with
/// the role, text and thinking deltas as <c>content</c> and <c>reasoning_content</c>, each <c>tool_use</c> block as
/// tool call <c>k</c> (counting tool blocks only), <c>message_delta</c> as the <c>finish_reason</c> chunk, the usage
/// chunk only when the client asked for it, then <c>[DONE]</c>. One id, <c>created</c> and model for every chunk.
/// </summary>
[SuppressMessage("Design", "CA1001:Types that own disposable fields should be disposable",
    Justification = "The reused Utf8JsonWriter holds no resource: Dispose would only flush, and every use flushes itself.")]
public sealed class ClaudeStreamToChat
{
    public static readonly byte[] Done = "[DONE]"u8.ToArray();

    private readonly string _completionId;
    private readonly long _created;
    private readonly string _model;
    private readonly bool _includeUsage;
    private readonly List<byte[]> _chunks = [];
    private readonly Dictionary<int, ToolCall> _toolByBlock = [];

    // The hot path (docs/openai-compatibility.md#5-streams-claude-to-openai: nearly every event of a long answer is a text delta): each delta chunk is these bytes,
    // written once per stream by the same code as every other chunk, around the one JSON string value that changes.
    private readonly byte[] _contentPrefix;
    private readonly byte[] _reasoningPrefix;
    private readonly byte[] _deltaSuffix;
    private readonly byte[] _argumentsSuffix;

    // Reused per event: the escaped value, and the unescaped text when the upstream escaped it.
    private readonly ArrayBufferWriter<byte> _value = new(256);
    private readonly Utf8JsonWriter _valueWriter;
    private byte[] _unescaped = [];

    private UsageNumbers _usage;
    private int _tools;
    private bool _started;

    // Set while WriteEvent runs: deltas go straight there, as data lines, instead of into a chunk array each.
    private IBufferWriter<byte>? _output;
    private int _written;

    public ClaudeStreamToChat(string completionId, long created, string model, bool includeUsage)
    {
        _completionId = completionId;
        _created = created;
        _model = model;
        _includeUsage = includeUsage;
        _valueWriter = new Utf8JsonWriter(_value);
        (_contentPrefix, _deltaSuffix) = SplitAroundValue(static writer => writer.WritePropertyName("content"u8), static _ => { });
        (_reasoningPrefix, _) = SplitAroundValue(static writer => writer.WritePropertyName("reasoning_content"u8), static _ => { });
        (_, _argumentsSuffix) = SplitAroundValue(static writer => OpenArguments(writer, 0), CloseArguments);
    }

    /// <summary>True after <c>[DONE]</c> or an error payload: the response ends here.</summary>
    public bool Finished { get; private set; }

    /// <summary>
    /// Writes what <see cref="OnEvent"/> returns for one Claude event straight to <paramref name="output"/>, each payload
    /// as one server-sent <c>data:</c> line, in the same order; a text, thinking or argument delta (nearly every event
    /// of a long answer) is written without an array of its own. Returns the bytes written.
    /// </summary>
    public int WriteEvent(string eventType, ReadOnlySpan<byte> data, IBufferWriter<byte> output)
    {
        _output = output;
        _written = 0;
        try
        {
            WriteChunks(OnEventCore(eventType, data));
        }
        finally
        {
            _output = null;
        }

        return _written;
    }

    /// <summary>One payload as a server-sent event: <c>data: payload</c> and a blank line (payloads are single-line JSON or <c>[DONE]</c>).</summary>
    public static int WriteDataLine(IBufferWriter<byte> output, ReadOnlySpan<byte> payload) => WriteDataLine(output, payload, default, default);

    private static int WriteDataLine(IBufferWriter<byte> output, ReadOnlySpan<byte> first, ReadOnlySpan<byte> second, ReadOnlySpan<byte> third)
    {
        var length = "data: "u8.Length + first.Length + second.Length + third.Length + "\n\n"u8.Length;
        var span = output.GetSpan(length);
        "data: "u8.CopyTo(span);
        var at = "data: "u8.Length;
        first.CopyTo(span[at..]);
        at += first.Length;
        second.CopyTo(span[at..]);
        at += second.Length;
        third.CopyTo(span[at..]);
        at += third.Length;
        "\n\n"u8.CopyTo(span[at..]);
        output.Advance(length);
        return length;
    }

    /// <summary>Writes the chunks gathered so far to the output, so that a delta written straight after them keeps its place.</summary>
    private void WriteChunks(List<byte[]> chunks)
    {
        for (var i = 0; i < chunks.Count; i++)
        {
            _written += WriteDataLine(_output!, chunks[i]);
        }

        chunks.Clear();
    }

    /// <summary>The OpenAI payloads (each one <c>data:</c> line) for one Claude event.</summary>
    public IReadOnlyList<byte[]> OnEvent(string eventType, ReadOnlySpan<byte> data) => OnEventCore(eventType, data);

    private List<byte[]> OnEventCore(string eventType, ReadOnlySpan<byte> data)
    {
        _chunks.Clear();
        if (Finished)
        {
            return _chunks;
        }

        switch (eventType)
        {
            case EventNames.ContentBlockDelta:
                EnsureStarted();
                if (!TryBlockDelta(data))
                {
                    using var delta = ParseOrNull(data);
                    OnBlockDelta(delta?.RootElement ?? default);
                }

                return _chunks;
            case EventNames.MessageStop:
                EnsureStarted();
                if (_includeUsage)
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
                return _chunks;
            case EventNames.MessageStart or EventNames.ContentBlockStart or EventNames.MessageDelta or EventNames.Error:
                break;
            default:
                // ping, content_block_stop and event types this translator does not know yet: nothing to parse or send.
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
            case EventNames.MessageDelta:
                EnsureStarted();
                OnMessageDelta(root);
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
                _toolByBlock[index] = new ToolCall(k, SplitAroundValue(writer => OpenArguments(writer, k), CloseArguments).Prefix);
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
                                         _toolByBlock.TryGetValue((int)(JsonValues.GetLong(root, "index") ?? 0), out var tool):
                AddDelta(writer =>
                {
                    OpenArguments(writer, tool.Index);
                    writer.WriteStringValue(json);
                    CloseArguments(writer);
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

    private void AddDelta(Action<Utf8JsonWriter> writeDelta) => _chunks.Add(JsonValues.Write(writer => WriteDeltaChunk(writer, writeDelta)));

    private void WriteDeltaChunk(Utf8JsonWriter writer, Action<Utf8JsonWriter> writeDelta)
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
    }

    /// <summary>
    /// A delta chunk split around its one string value: <paramref name="open"/> writes up to the property name, then an
    /// empty string stands in for the value, then <paramref name="close"/> ends what <paramref name="open"/> began. The
    /// bytes before and after that value are what <see cref="AddDeltaValue"/> copies around each text.
    /// </summary>
    private (byte[] Prefix, byte[] Suffix) SplitAroundValue(Action<Utf8JsonWriter> open, Action<Utf8JsonWriter> close)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        int valueStart = 0, valueEnd = 0;
        using (var writer = new Utf8JsonWriter(buffer))
        {
            WriteDeltaChunk(writer, writer =>
            {
                open(writer);
                writer.Flush();
                valueStart = buffer.WrittenCount;
                writer.WriteStringValue(""u8);
                writer.Flush();
                valueEnd = buffer.WrittenCount;
                close(writer);
            });
        }

        return (buffer.WrittenSpan[..valueStart].ToArray(), buffer.WrittenSpan[valueEnd..].ToArray());
    }

    /// <summary><c>"tool_calls":[{"index":k,"function":{"arguments":</c>, the start of an <c>input_json_delta</c>'s delta.</summary>
    private static void OpenArguments(Utf8JsonWriter writer, int index)
    {
        writer.WriteStartArray("tool_calls"u8);
        writer.WriteStartObject();
        writer.WriteNumber("index"u8, index);
        writer.WriteStartObject("function"u8);
        writer.WritePropertyName("arguments"u8);
    }

    private static void CloseArguments(Utf8JsonWriter writer)
    {
        writer.WriteEndObject();
        writer.WriteEndObject();
        writer.WriteEndArray();
    }

    private void WriteHead(Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        writer.WriteString("id"u8, _completionId);
        writer.WriteString("object"u8, "chat.completion.chunk"u8);
        writer.WriteNumber("created"u8, _created);
        writer.WriteString("model"u8, _model);
    }

    /// <summary>With <c>include_usage</c>, every chunk but the last carries <c>usage: null</c> (docs/openai-compatibility.md#5-streams-claude-to-openai).</summary>
    private void WriteNullUsage(Utf8JsonWriter writer)
    {
        if (_includeUsage)
        {
            writer.WriteNull("usage"u8);
        }
    }

    /// <summary>
    /// The hot path: a <c>content_block_delta</c> read with <see cref="Utf8JsonReader"/> and its chunk copied around
    /// the escaped text, no <see cref="JsonDocument"/> and no strings. It decides exactly as <see cref="OnBlockDelta"/>
    /// does, and declines (false) what it does not read the same way for certain: JSON that does not parse, a root that
    /// is not an object, a repeated <c>index</c>, <c>delta</c> or field of the delta. Those go the
    /// <see cref="JsonDocument"/> way.
    /// </summary>
    private bool TryBlockDelta(ReadOnlySpan<byte> data)
    {
        var reader = new Utf8JsonReader(data);
        long index = 0;
        var kind = DeltaKind.None;
        StringToken text = default, thinking = default, partialJson = default;
        var seen = Fields.None;
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return false;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var field = reader.ValueTextEquals("index"u8) ? Fields.Index : reader.ValueTextEquals("delta"u8) ? Fields.Delta : Fields.None;
                if (!See(ref seen, field))
                {
                    return false;
                }

                reader.Read();
                if (field == Fields.Index)
                {
                    // As JsonValues.GetLong: anything but an integer is index 0.
                    index = reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var number) ? number : 0;
                }
                else if (field == Fields.Delta && reader.TokenType == JsonTokenType.StartObject)
                {
                    // A delta that is not an object has no type, and gives no chunk.
                    while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                    {
                        field = reader.ValueTextEquals("type"u8) ? Fields.Type
                            : reader.ValueTextEquals("text"u8) ? Fields.Text
                            : reader.ValueTextEquals("thinking"u8) ? Fields.Thinking
                            : reader.ValueTextEquals("partial_json"u8) ? Fields.PartialJson
                            : Fields.None;
                        if (!See(ref seen, field))
                        {
                            return false;
                        }

                        reader.Read();
                        switch (field)
                        {
                            case Fields.Type:
                                kind = reader.TokenType != JsonTokenType.String ? DeltaKind.None
                                    : reader.ValueTextEquals("text_delta"u8) ? DeltaKind.Text
                                    : reader.ValueTextEquals("thinking_delta"u8) ? DeltaKind.Thinking
                                    : reader.ValueTextEquals("input_json_delta"u8) ? DeltaKind.InputJson
                                    : DeltaKind.None;
                                break;
                            case Fields.Text:
                                text = StringToken.From(ref reader);
                                break;
                            case Fields.Thinking:
                                thinking = StringToken.From(ref reader);
                                break;
                            case Fields.PartialJson:
                                partialJson = StringToken.From(ref reader);
                                break;
                        }

                        reader.Skip();
                    }

                    continue;
                }

                reader.Skip();
            }
        }
        catch (JsonException)
        {
            // Malformed: the JsonDocument way parses nothing either and sends nothing, as before.
            return false;
        }

        // As OnBlockDelta: an empty text sends nothing, arguments only for a block that started as a tool call.
        switch (kind)
        {
            case DeltaKind.Text when text.Length > 0:
                AddDeltaValue(_contentPrefix, data, text, _deltaSuffix);
                break;
            case DeltaKind.Thinking when thinking.Length > 0:
                AddDeltaValue(_reasoningPrefix, data, thinking, _deltaSuffix);
                break;
            case DeltaKind.InputJson when partialJson.Length > 0 && _toolByBlock.TryGetValue((int)index, out var tool):
                AddDeltaValue(tool.ArgumentsPrefix, data, partialJson, _argumentsSuffix);
                break;
        }

        return true;
    }

    /// <summary>
    /// One delta chunk: the precomputed prefix, the text as a JSON string written by <see cref="Utf8JsonWriter"/> (so it
    /// is escaped exactly as every other chunk's strings), the suffix. One allocation, the chunk itself.
    /// </summary>
    private void AddDeltaValue(ReadOnlySpan<byte> prefix, ReadOnlySpan<byte> data, StringToken text, ReadOnlySpan<byte> suffix)
    {
        var utf8 = text.Escaped ? Unescape(text.Quoted(data)) : text.Content(data);
        _value.ResetWrittenCount();
        _valueWriter.Reset(_value);
        // Invalid UTF-8 becomes U+FFFD here (the JsonDocument way would throw, and end the response without an error).
        _valueWriter.WriteStringValue(utf8);
        _valueWriter.Flush();
        var value = _value.WrittenSpan;
        if (_output is { } output)
        {
            WriteChunks(_chunks);
            _written += WriteDataLine(output, prefix, value, suffix);
            return;
        }

        var chunk = GC.AllocateUninitializedArray<byte>(prefix.Length + value.Length + suffix.Length);
        prefix.CopyTo(chunk);
        value.CopyTo(chunk.AsSpan(prefix.Length));
        suffix.CopyTo(chunk.AsSpan(prefix.Length + value.Length));
        _chunks.Add(chunk);
    }

    /// <summary>The text of an escaped JSON string (never longer than the token), in a buffer reused per event.</summary>
    private ReadOnlySpan<byte> Unescape(ReadOnlySpan<byte> quoted)
    {
        if (_unescaped.Length < quoted.Length)
        {
            _unescaped = new byte[Math.Max(quoted.Length, 256)];
        }

        return _unescaped.AsSpan(0, JsonValues.UnescapeString(quoted, _unescaped));
    }

    /// <summary>Marks a field read; false when it was read before (any other property may repeat).</summary>
    private static bool See(ref Fields seen, Fields field)
    {
        if (field == Fields.None)
        {
            return true;
        }

        if ((seen & field) != 0)
        {
            return false;
        }

        seen |= field;
        return true;
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

    /// <summary>A tool_use block as OpenAI tool call <c>k</c>, with the bytes that start each of its argument chunks.</summary>
    private sealed record ToolCall(int Index, byte[] ArgumentsPrefix);

    /// <summary>Where a JSON string value lies in the event's bytes (between its quotes), if the value was a string.</summary>
    private readonly record struct StringToken(int Start, int Length, bool Escaped)
    {
        /// <summary>The string at the reader; a value of another type reads as absent (length 0), as JsonValues.GetString.</summary>
        public static StringToken From(ref Utf8JsonReader reader) =>
            reader.TokenType == JsonTokenType.String
                ? new StringToken((int)reader.TokenStartIndex + 1, reader.ValueSpan.Length, reader.ValueIsEscaped)
                : default;

        public ReadOnlySpan<byte> Content(ReadOnlySpan<byte> data) => data.Slice(Start, Length);

        public ReadOnlySpan<byte> Quoted(ReadOnlySpan<byte> data) => data.Slice(Start - 1, Length + 2);
    }

    private enum DeltaKind
    {
        None,
        Text,
        Thinking,
        InputJson,
    }

    [Flags]
    private enum Fields
    {
        None = 0,
        Index = 1,
        Delta = 2,
        Type = 4,
        Text = 8,
        Thinking = 16,
        PartialJson = 32,
    }
}
