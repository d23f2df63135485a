using System.IO.Pipelines;
using System.Net.ServerSentEvents;
using Qhaigc.Functions.Protocol;

namespace Qhaigc.Functions.Api;

/// <summary>
/// The part of relaying an answer that differs by what the client asked for: Claude's format
/// (<see cref="ClaudeAnswerFormat"/>, passthrough bytes) or OpenAI's (<see cref="ChatAnswerFormat"/>, translated
/// chunks). <see cref="MessageResult"/> and <see cref="StreamRelay"/> do the rest once, for both
/// (docs/architecture.md).
/// </summary>
public abstract class AnswerFormat
{
    /// <summary>The shape errors are answered in before the answer starts.</summary>
    public abstract ErrorFormat Errors { get; }

    /// <summary>What a stream writes to keep a silent connection alive.</summary>
    public abstract ReadOnlySpan<byte> KeepAlive { get; }

    /// <summary>True once the stream's last event has been written (no later event is read).</summary>
    public abstract bool Finished { get; }

    /// <summary>A whole Claude message in this format; null when the upstream's body is not one.</summary>
    public abstract byte[]? Message(byte[] claudeMessage);

    /// <summary>Writes one upstream event (unflushed) and returns how many bytes it wrote.</summary>
    public abstract int WriteEvent(SseItem<ReadOnlyMemory<byte>> item, PipeWriter writer, string requestId);

    /// <summary>Writes the error that ends a stream already started.</summary>
    public abstract void WriteError(PipeWriter writer, ApiError failure, string requestId);
}
