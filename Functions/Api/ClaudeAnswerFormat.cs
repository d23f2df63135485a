using System.IO.Pipelines;
using System.Net.ServerSentEvents;
using Qhaigc.Functions.Protocol;
using Qhaigc.Functions.Protocol.Sse;
using Qhaigc.Functions.Upstreams;

namespace Qhaigc.Functions.Api;

/// <summary>
/// Claude's format, as <c>/v1/messages</c> answers: the upstream's message or events as they came, with the model
/// name the client asked for put back where the upstream knew it by another, and an <c>error</c> event rewritten in
/// the gateway's envelope (with its request id). See docs/wire-contract.md.
/// </summary>
public sealed class ClaudeAnswerFormat(string? modelToRestore) : AnswerFormat
{
    /// <summary>"event: ", "data: " and the three line ends around an event's name and data.</summary>
    private const int SseFramingBytes = 16;

    private bool _finished;

    public override ErrorFormat Errors => ErrorFormat.Claude;

    public override ReadOnlySpan<byte> KeepAlive => SseWriter.PingEvent;

    public override bool Finished => _finished;

    public override byte[] Message(byte[] claudeMessage) =>
        modelToRestore is null ? claudeMessage : JsonRewriter.WithMessageModel(claudeMessage, modelToRestore);

    public override int WriteEvent(SseItem<ReadOnlyMemory<byte>> item, PipeWriter writer, string requestId)
    {
        var data = item.Data;
        switch (item.EventType)
        {
            case EventNames.MessageStart when modelToRestore is not null:
                data = JsonRewriter.WithMessageModel(data.Span, modelToRestore);
                break;
            case EventNames.Error:
                data = ErrorEnvelope.Claude(UpstreamErrorText.FromErrorEvent(data.Span), requestId);
                _finished = true;
                break;
            case EventNames.MessageStop:
                _finished = true;
                break;
        }

        SseWriter.Write(writer, item.EventType, data.Span);
        return data.Length + item.EventType.Length + SseFramingBytes;
    }

    public override void WriteError(PipeWriter writer, ApiError failure, string requestId) =>
        SseWriter.Write(writer, EventNames.Error, ErrorEnvelope.Claude(failure, requestId));
}
