using System.Buffers;
using System.Collections.Frozen;
using System.IO.Pipelines;
using System.Text;

namespace Qhaigc.Functions.Protocol.Sse;

/// <summary>
/// Writes server-sent events straight into the response pipe: <c>event: name</c>, one <c>data:</c> line per data line,
/// a blank line. Known event names are cached as bytes, so passing an event through costs only its data bytes.
/// </summary>
public static class SseWriter
{
    private static readonly FrozenDictionary<string, byte[]> KnownNames = new[]
    {
        EventNames.MessageStart, EventNames.ContentBlockStart, EventNames.ContentBlockDelta, EventNames.ContentBlockStop,
        EventNames.MessageDelta, EventNames.MessageStop, EventNames.Ping, EventNames.Error,
    }.ToFrozenDictionary(static name => name, static name => Encoding.UTF8.GetBytes(name), StringComparer.Ordinal);

    public static ReadOnlySpan<byte> PingEvent => "event: ping\ndata: {\"type\": \"ping\"}\n\n"u8;

    /// <summary>Writes one event into the pipe (not flushed).</summary>
    public static void Write(PipeWriter writer, string eventType, ReadOnlySpan<byte> data)
    {
        // The usual event (a known name, one line of data) is copied into the pipe in one piece: one span asked for and
        // one advance, instead of five writes that each ask the server's pipe for memory (docs/performance.md).
        if (KnownNames.TryGetValue(eventType, out var name) && !data.Contains((byte)'\n'))
        {
            var length = "event: "u8.Length + name.Length + "\ndata: "u8.Length + data.Length + "\n\n"u8.Length;
            var span = writer.GetSpan(length);
            var at = Append(span, 0, "event: "u8);
            at = Append(span, at, name);
            at = Append(span, at, "\ndata: "u8);
            at = Append(span, at, data);
            writer.Advance(Append(span, at, "\n\n"u8));
            return;
        }

        writer.Write("event: "u8);
        if (name is not null)
        {
            writer.Write(name);
        }
        else
        {
            WriteSingleLine(writer, eventType);
        }

        // Data may hold several lines (SseParser joins data lines with \n); each goes out as its own data line.
        while (true)
        {
            writer.Write("\ndata: "u8);
            var newline = data.IndexOf((byte)'\n');
            if (newline < 0)
            {
                writer.Write(data);
                break;
            }

            writer.Write(data[..newline]);
            data = data[(newline + 1)..];
        }

        writer.Write("\n\n"u8);
    }

    private static int Append(Span<byte> span, int at, ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(span[at..]);
        return at + bytes.Length;
    }

    /// <summary>An event name is one line by definition; anything after a line break is dropped.</summary>
    private static void WriteSingleLine(PipeWriter writer, string value)
    {
        var end = value.AsSpan().IndexOfAny('\r', '\n');
        var line = end < 0 ? value : value[..end];
        var bytes = Encoding.UTF8.GetBytes(line);
        writer.Write(bytes);
    }
}
