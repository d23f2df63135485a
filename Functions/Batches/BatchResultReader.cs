using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text.Json;
using Qhaigc.Functions.Usage;

namespace Qhaigc.Functions.Batches;

/// <summary>
/// Reads a batch's results as they stream in (JSON Lines, one result per line: Anthropic's
/// https://docs.anthropic.com/en/api/retrieving-message-batch-results), one line in memory at a time, never the file
/// whole. A line that is not a result object is still a result (counted, of type <c>errored</c>), so that indexes stay
/// the same on every read.
/// </summary>
public static class BatchResultReader
{
    public static async IAsyncEnumerable<BatchResult> ReadAsync(Stream results, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var reader = PipeReader.Create(results, new StreamPipeReaderOptions(leaveOpen: true));
        var index = 0;
        try
        {
            while (true)
            {
                var read = await reader.ReadAsync(cancellationToken);
                var buffer = read.Buffer;
                while (TryReadLine(ref buffer, out var line))
                {
                    if (!IsBlank(line))
                    {
                        yield return Parse(index++, line);
                    }
                }

                if (read.IsCompleted)
                {
                    if (!IsBlank(buffer))
                    {
                        yield return Parse(index++, buffer);
                    }

                    yield break;
                }

                reader.AdvanceTo(buffer.Start, buffer.End);
            }
        }
        finally
        {
            await reader.CompleteAsync();
        }
    }

    /// <summary>One result line, read for its type, model, usage and error type only.</summary>
    public static BatchResult Parse(int index, ReadOnlySequence<byte> line)
    {
        try
        {
            using var document = JsonDocument.Parse(line);
            if (!document.RootElement.TryGetProperty("result", out var result) || result.ValueKind != JsonValueKind.Object)
            {
                return Unreadable(index);
            }

            var type = Text(result, "type") ?? BatchResult.Errored;
            if (type == BatchResult.Succeeded && result.TryGetProperty("message", out var message) && message.ValueKind == JsonValueKind.Object)
            {
                var meter = new UsageMeter();
                meter.ObserveMessage(JsonMarshal.GetRawUtf8Value(message));
                return new BatchResult(index, type, Text(message, "model"), meter.MessageId, meter.Usage, null);
            }

            if (type == BatchResult.Errored)
            {
                // {"type": "errored", "error": {"type": "error", "error": {"type": "invalid_request_error", ...}}}
                var error = result.TryGetProperty("error", out var outer) && outer.ValueKind == JsonValueKind.Object ? outer : default;
                var inner = error.ValueKind == JsonValueKind.Object && error.TryGetProperty("error", out var nested) && nested.ValueKind == JsonValueKind.Object
                    ? nested
                    : error;
                return new BatchResult(index, type, null, null, null, inner.ValueKind == JsonValueKind.Object ? Text(inner, "type") : null);
            }

            return new BatchResult(index, type, null, null, null, null);
        }
        catch (JsonException)
        {
            return Unreadable(index);
        }
    }

    private static BatchResult Unreadable(int index) => new(index, BatchResult.Errored, null, null, null, Protocol.ErrorTypes.Api);

    private static bool TryReadLine(ref ReadOnlySequence<byte> buffer, out ReadOnlySequence<byte> line)
    {
        if (buffer.PositionOf((byte)'\n') is not { } end)
        {
            line = default;
            return false;
        }

        line = buffer.Slice(0, end);
        buffer = buffer.Slice(buffer.GetPosition(1, end));
        return true;
    }

    private static bool IsBlank(ReadOnlySequence<byte> line)
    {
        foreach (var segment in line)
        {
            if (segment.Span.IndexOfAnyExcept(" \t\r"u8) >= 0)
            {
                return false;
            }
        }

        return true;
    }

    private static string? Text(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
