namespace Qhaigc.Functions.Protocol.Sse;

/// <summary>Claude's SSE event names (docs/wire-contract.md#82-event-order); <c>data.type</c> equals the name.</summary>
public static class EventNames
{
    public const string MessageStart = "message_start";
    public const string ContentBlockStart = "content_block_start";
    public const string ContentBlockDelta = "content_block_delta";
    public const string ContentBlockStop = "content_block_stop";
    public const string MessageDelta = "message_delta";
    public const string MessageStop = "message_stop";
    public const string Ping = "ping";
    public const string Error = "error";
}
