using System.IO.Pipelines;
using System.Net.ServerSentEvents;
using System.Text.Json;
using Qhaigc.Functions.Protocol;
using Qhaigc.Functions.Protocol.Sse;
using Qhaigc.Functions.Translation;
using Qhaigc.Functions.Upstreams;

namespace Qhaigc.Functions.Api;

/// <summary>
/// OpenAI's format, as <c>/v1/chat/completions</c> answers: a whole message becomes a <c>chat.completion</c>, a stream's
/// Claude events become <c>chat.completion.chunk</c> data lines written straight into the response, an SSE comment
/// keeps a silent stream alive, and an error ends it as one <c>data: {"error":…}</c> line. See
/// docs/openai-compatibility.md.
/// </summary>
public sealed class ChatAnswerFormat : AnswerFormat
{
    private readonly string _model;
    private readonly TimeProvider _time;
    private readonly ClaudeStreamToChat? _translator;

    public ChatAnswerFormat(string model, bool stream, bool includeUsage, TimeProvider time)
    {
        _model = model;
        _time = time;
        _translator = stream ? new ClaudeStreamToChat(ChatCompletionIds.New(), time.GetUtcNow().ToUnixTimeSeconds(), model, includeUsage) : null;
    }

    /// <summary>An SSE comment: every SSE reader skips it, and it keeps proxies from cutting an idle response.</summary>
    public static ReadOnlySpan<byte> Comment => ": ping\n\n"u8;

    public override ErrorFormat Errors => ErrorFormat.OpenAi;

    public override ReadOnlySpan<byte> KeepAlive => Comment;

    public override bool Finished => _translator!.Finished;

    public override byte[]? Message(byte[] claudeMessage) =>
        ClaudeMessageToChat.Translate(claudeMessage, ChatCompletionIds.New(), _time.GetUtcNow().ToUnixTimeSeconds(), _model);

    public override int WriteEvent(SseItem<ReadOnlyMemory<byte>> item, PipeWriter writer, string requestId)
    {
        try
        {
            var data = item.EventType == EventNames.Error
                ? ErrorEnvelope.Claude(UpstreamErrorText.FromErrorEvent(item.Data.Span), requestId)
                : item.Data;
            return _translator!.WriteEvent(item.EventType, data.Span, writer);
        }
        catch (Exception exception) when (exception is JsonException or InvalidOperationException or ArgumentException)
        {
            // Text the translator cannot carry over (invalid UTF-8, say): the stream ends with an error event, not
            // with a response cut short that a client would take for a network failure.
            throw new UpstreamProtocolException("The upstream sent an event that could not be translated.", exception);
        }
    }

    public override void WriteError(PipeWriter writer, ApiError failure, string requestId) =>
        ClaudeStreamToChat.WriteDataLine(writer, ClaudeStreamToChat.ErrorPayload(failure.Type, failure.Message));
}
