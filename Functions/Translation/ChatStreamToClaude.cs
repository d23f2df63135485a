using System.Net.ServerSentEvents;
using System.Text.Json;
using Qhaigc.Functions.Protocol;
using Qhaigc.Functions.Protocol.Sse;

namespace Qhaigc.Functions.Translation;

/// <summary>
/// OpenAI <c>chat.completion.chunk</c> events → Claude's SSE event sequence, chunk by chunk as they arrive
/// (docs/openai-compatibility.md#94-streams-openai-to-claude). <c>message_start</c> comes first; a block opens on its first non-empty delta and closes when the kind
/// changes (reasoning → text → tool) or a new tool-call index starts; each <c>arguments</c> fragment is passed on at
/// once as an <c>input_json_delta</c>. On <c>finish_reason</c> the open block closes and <c>message_delta</c> is held
/// until the usage chunk (<c>choices: []</c>) or the end of the stream; without usage the numbers are estimated.
/// Chunks after the final <c>message_delta</c> are dropped.
/// </summary>
public sealed class ChatStreamToClaude(ChatAnswerContext context)
{
    private readonly StopSequenceMatcher _stops = new(context.StopSequences);
    private readonly List<SseItem<ReadOnlyMemory<byte>>> _events = [];
    private readonly string _messageId = Ids.NewMessageId();
    private BlockKind _open = BlockKind.None;
    private int _blockIndex = -1;
    private int _toolIndex = -1;
    private int _lastToolIndex = -1;
    private string? _finishReason;
    private string? _reportedStop;
    private UsageNumbers? _usage;
    private long _outputTokens;

    private enum BlockKind
    {
        None,
        Thinking,
        Text,
        Tool,
    }

    public bool Started { get; private set; }

    /// <summary>True once <c>message_stop</c> (or an <c>error</c>) has been emitted: nothing more follows.</summary>
    public bool Finished { get; private set; }

    /// <summary>True when the usage in the final <c>message_delta</c> is the gateway's estimate.</summary>
    public bool UsageEstimated { get; private set; }

    /// <summary>Tool-call fragments for a call whose block had already closed (interleaved calls); they cannot be placed.</summary>
    public int DroppedFragments { get; private set; }

    /// <summary>The Claude events for one upstream SSE <c>data</c> payload (a chunk or <c>[DONE]</c>).</summary>
    public IReadOnlyList<SseItem<ReadOnlyMemory<byte>>> OnData(ReadOnlySpan<byte> data)
    {
        _events.Clear();
        if (Finished)
        {
            return _events;
        }

        if (data.Trim(" \r\n\t"u8).SequenceEqual("[DONE]"u8))
        {
            return CompleteCore(sawDone: true);
        }

        JsonDocument document;
        try
        {
            var reader = new Utf8JsonReader(data);
            document = JsonDocument.ParseValue(ref reader);
        }
        catch (JsonException)
        {
            // A line we cannot read (a keep-alive, say) carries nothing to translate.
            return _events;
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return _events;
            }

            if (root.TryGetProperty("error", out var error) && error.ValueKind != JsonValueKind.Null)
            {
                EmitError(error);
                return _events;
            }

            if (JsonValues.TryGet(root, "usage", JsonValueKind.Object, out var usage))
            {
                _usage = UsageNumbers.FromOpenAi(usage);
            }

            EnsureStarted();
            var hasChoices = JsonValues.TryGet(root, "choices", JsonValueKind.Array, out var choices) && choices.GetArrayLength() > 0;
            if (hasChoices)
            {
                foreach (var choice in choices.EnumerateArray())
                {
                    if ((JsonValues.GetLong(choice, "index") ?? 0) == 0)
                    {
                        OnChoice(choice);
                    }
                }
            }
            else if (_finishReason is not null && _usage is not null)
            {
                // The usage chunk after finish_reason: the held message_delta can go now.
                EmitEnd();
            }
        }

        return _events;
    }

    /// <summary>The end of the upstream stream. Without <c>[DONE]</c> and <c>finish_reason</c> it was cut: no end events.</summary>
    public IReadOnlyList<SseItem<ReadOnlyMemory<byte>>> Complete(bool sawDone)
    {
        _events.Clear();
        return CompleteCore(sawDone);
    }

    private List<SseItem<ReadOnlyMemory<byte>>> CompleteCore(bool sawDone)
    {
        if (Finished || !Started || (!sawDone && _finishReason is null))
        {
            return _events;
        }

        EmitEnd();
        return _events;
    }

    private void OnChoice(JsonElement choice)
    {
        if (JsonValues.TryGet(choice, "delta", JsonValueKind.Object, out var delta))
        {
            var reasoning = JsonValues.GetString(delta, "reasoning_content") ?? JsonValues.GetString(delta, "reasoning");
            if (!string.IsNullOrEmpty(reasoning))
            {
                Open(BlockKind.Thinking);
                _outputTokens += context.CountTokens(reasoning);
                Emit(EventNames.ContentBlockDelta, writer =>
                {
                    writer.WriteNumber("index"u8, _blockIndex);
                    writer.WriteStartObject("delta"u8);
                    writer.WriteString("type"u8, "thinking_delta"u8);
                    writer.WriteString("thinking"u8, reasoning);
                    writer.WriteEndObject();
                });
            }

            var text = JsonValues.GetString(delta, "content") ?? JsonValues.GetString(delta, "refusal");
            if (!string.IsNullOrEmpty(text))
            {
                Open(BlockKind.Text);
                _stops.Append(text);
                _outputTokens += context.CountTokens(text);
                Emit(EventNames.ContentBlockDelta, writer =>
                {
                    writer.WriteNumber("index"u8, _blockIndex);
                    writer.WriteStartObject("delta"u8);
                    writer.WriteString("type"u8, "text_delta"u8);
                    writer.WriteString("text"u8, text);
                    writer.WriteEndObject();
                });
            }

            if (JsonValues.TryGet(delta, "tool_calls", JsonValueKind.Array, out var calls))
            {
                foreach (var call in calls.EnumerateArray())
                {
                    OnToolCall(call);
                }
            }
        }

        if (JsonValues.GetString(choice, "finish_reason") is { } finish)
        {
            Close();
            _finishReason = finish;
            _reportedStop = JsonValues.GetString(choice, "stop_reason");
        }
    }

    private void OnToolCall(JsonElement call)
    {
        var id = JsonValues.GetString(call, "id");
        call.TryGetProperty("function", out var function);
        var name = JsonValues.GetString(function, "name");
        var arguments = JsonValues.GetString(function, "arguments");

        // Servers that leave out the index: a call with an id is a new call, anything else continues the last one.
        var index = (int?)JsonValues.GetLong(call, "index") ?? (id is not null ? _lastToolIndex + 1 : Math.Max(_lastToolIndex, 0));
        if (_open != BlockKind.Tool || index != _toolIndex)
        {
            if (index <= _lastToolIndex)
            {
                DroppedFragments++;
                return;
            }

            Close();
            _open = BlockKind.Tool;
            _toolIndex = index;
            _lastToolIndex = index;
            _blockIndex++;
            var toolName = context.ToolNames.Restore(name ?? "");
            var toolId = ToolIds.Sanitize(id);
            _outputTokens += context.CountTokens(toolName);
            Emit(EventNames.ContentBlockStart, writer =>
            {
                writer.WriteNumber("index"u8, _blockIndex);
                writer.WriteStartObject("content_block"u8);
                writer.WriteString("type"u8, "tool_use"u8);
                writer.WriteString("id"u8, toolId);
                writer.WriteString("name"u8, toolName);
                writer.WriteStartObject("input"u8);
                writer.WriteEndObject();
                writer.WriteEndObject();
            });
        }

        if (!string.IsNullOrEmpty(arguments))
        {
            _outputTokens += context.CountTokens(arguments);
            Emit(EventNames.ContentBlockDelta, writer =>
            {
                writer.WriteNumber("index"u8, _blockIndex);
                writer.WriteStartObject("delta"u8);
                writer.WriteString("type"u8, "input_json_delta"u8);
                writer.WriteString("partial_json"u8, arguments);
                writer.WriteEndObject();
            });
        }
    }

    private void Open(BlockKind kind)
    {
        if (_open == kind)
        {
            return;
        }

        Close();
        _open = kind;
        _blockIndex++;
        Emit(EventNames.ContentBlockStart, writer =>
        {
            writer.WriteNumber("index"u8, _blockIndex);
            writer.WriteStartObject("content_block"u8);
            if (kind == BlockKind.Thinking)
            {
                writer.WriteString("type"u8, "thinking"u8);
                writer.WriteString("thinking"u8, ""u8);
                writer.WriteString("signature"u8, ""u8);
            }
            else
            {
                writer.WriteString("type"u8, "text"u8);
                writer.WriteString("text"u8, ""u8);
            }

            writer.WriteEndObject();
        });
    }

    private void Close()
    {
        if (_open == BlockKind.None)
        {
            return;
        }

        _open = BlockKind.None;
        _toolIndex = -1;
        Emit(EventNames.ContentBlockStop, writer => writer.WriteNumber("index"u8, _blockIndex));
    }

    private void EnsureStarted()
    {
        if (Started)
        {
            return;
        }

        Started = true;
        var input = _usage ?? default;
        Emit(EventNames.MessageStart, writer =>
        {
            writer.WriteStartObject("message"u8);
            writer.WriteString("id"u8, _messageId);
            writer.WriteString("type"u8, "message"u8);
            writer.WriteString("role"u8, "assistant"u8);
            writer.WriteString("model"u8, context.Model);
            writer.WriteStartArray("content"u8);
            writer.WriteEndArray();
            writer.WriteNull("stop_reason"u8);
            writer.WriteNull("stop_sequence"u8);
            (input with { OutputTokens = 1 }).WriteClaude(writer);
            writer.WriteEndObject();
        });
    }

    private void EmitEnd()
    {
        Close();
        var finish = _finishReason ?? "stop";
        var stopReason = StopReasons.ToStopReason(finish);
        var stopSequence = finish == "stop" ? _stops.Match(_reportedStop) : null;
        if (stopSequence is not null)
        {
            stopReason = "stop_sequence";
        }

        var usage = _usage ?? EstimatedUsage();
        Emit(EventNames.MessageDelta, writer =>
        {
            writer.WriteStartObject("delta"u8);
            writer.WriteString("stop_reason"u8, stopReason);
            if (stopSequence is null)
            {
                writer.WriteNull("stop_sequence"u8);
            }
            else
            {
                writer.WriteString("stop_sequence"u8, stopSequence);
            }

            writer.WriteEndObject();
            usage.WriteClaude(writer);
        });
        Emit(EventNames.MessageStop, static _ => { });
        Finished = true;
    }

    private UsageNumbers EstimatedUsage()
    {
        UsageEstimated = true;
        return new UsageNumbers(context.EstimateInputTokens(), Math.Max(1, _outputTokens), 0, 0);
    }

    private void EmitError(JsonElement error)
    {
        string? message;
        string? type = null;
        if (error.ValueKind == JsonValueKind.String)
        {
            message = error.GetString();
        }
        else
        {
            message = JsonValues.GetString(error, "message");
            type = JsonValues.GetString(error, "type");
        }

        // OpenAI-style types ("server_error"…) are not Claude's; keep only the ones Claude clients know.
        var claudeType = type is ErrorTypes.InvalidRequest or ErrorTypes.Authentication or ErrorTypes.Permission or ErrorTypes.NotFound
            or ErrorTypes.RateLimit or ErrorTypes.Overloaded or ErrorTypes.Timeout or ErrorTypes.Billing
            ? type
            : ErrorTypes.Api;
        Emit(EventNames.Error, writer =>
        {
            writer.WriteStartObject("error"u8);
            writer.WriteString("type"u8, claudeType);
            writer.WriteString("message"u8, message ?? "The upstream failed.");
            writer.WriteEndObject();
        });
        Finished = true;
    }

    private void Emit(string type, Action<Utf8JsonWriter> body)
    {
        var data = JsonValues.Write(writer =>
        {
            writer.WriteStartObject();
            writer.WriteString("type"u8, type);
            body(writer);
            writer.WriteEndObject();
        });
        _events.Add(new SseItem<ReadOnlyMemory<byte>>(data, type));
    }
}
