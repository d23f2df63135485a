using System.Buffers;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using Qhaigc.Functions.Files;
using Qhaigc.Functions.Protocol;
using Qhaigc.Functions.Protocol.Sse;

namespace Qhaigc.Functions.Upstreams;

/// <summary>
/// The built-in development upstream, so a fresh checkout answers with no secrets. It is not a model: it echoes the
/// last user text, deterministically, one token per word. It honours <c>max_tokens</c> and <c>stop_sequences</c>,
/// streams Claude's complete event sequence, and reports plausible usage (about four characters a token of input).
/// With blob storage it also holds files (<see cref="LocalFiles"/>), and a document that cites one is echoed too: a
/// text file's text, a PDF's size and page count (docs/files.md#local-files).
/// </summary>
public sealed class LocalUpstream(string name = LocalUpstream.DefaultName, LocalFileStore? files = null, TimeProvider? time = null) : IFileUpstream
{
    public const string DefaultName = "local";

    /// <summary>The most of a cited text file the echo reads.</summary>
    public const int MaxCitedBytes = 64 * 1024;

    private const string EmptyReply = "Hello from the Qhaigc local upstream.";

    public string Name { get; } = name;

    public IUpstreamFiles? Files { get; } = files is null ? null : new LocalFiles(files, time ?? TimeProvider.System);

    public async Task<UpstreamResponse> SendMessagesAsync(MessagesRequest request, string upstreamModel, WaitClock? waits, CancellationToken cancellationToken)
    {
        var cited = request.ReferencesFiles && files is not null ? await ReadCitedAsync(request.Root, files, cancellationToken) : null;
        var reply = Compose(request, cited);
        return request.Stream
            ? UpstreamResponse.Stream(StreamAsync(reply, request.Model, cancellationToken).GetAsyncEnumerator(cancellationToken))
            : UpstreamResponse.Message(WriteMessage(reply, request.Model));
    }

    /// <summary>What the echo says of each file the request cites: a text file's text, a PDF's size and pages, another file's type and size.</summary>
    private static async Task<Dictionary<string, string>> ReadCitedAsync(JsonElement root, LocalFileStore files, CancellationToken cancellationToken)
    {
        var cited = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var idElement in FileSources.CollectAll(root))
        {
            if (idElement.ValueKind != JsonValueKind.String || idElement.GetString() is not { } id || cited.ContainsKey(id) ||
                !Ownership.OwnedObjectIds.IsValid(id))
            {
                continue;
            }

            (string, long, byte[])? read;
            try
            {
                read = await files.ReadHeadAsync(id, MaxCitedBytes, cancellationToken);
            }
            catch (Exception exception) when (exception is Azure.RequestFailedException or AggregateException && !cancellationToken.IsCancellationRequested)
            {
                cited[id] = $"[file {id} could not be read]";
                continue;
            }

            cited[id] = read switch
            {
                null => $"[file {id} not found]",
                var (type, size, head) when type.StartsWith("text/", StringComparison.OrdinalIgnoreCase) =>
                    Encoding.UTF8.GetString(head) + (size > head.Length ? " […]" : ""),
                var (type, size, head) when type.Equals("application/pdf", StringComparison.OrdinalIgnoreCase) =>
                    $"[PDF {id}: {size} bytes, {PdfPages(head, size)} pages]",
                var (type, size, _) => $"[{type} {id}: {size} bytes]",
            };
        }

        return cited;
    }

    /// <summary>A PDF's page objects (<c>/Type /Page</c>, not <c>/Pages</c>) counted in what was read; "at least" when the file is longer.</summary>
    private static string PdfPages(byte[] head, long size)
    {
        var text = Encoding.Latin1.GetString(head);
        var pages = System.Text.RegularExpressions.Regex.Count(text, @"/Type\s*/Page(?![a-zA-Z])");
        return size > head.Length ? "at least " + pages.ToString(System.Globalization.CultureInfo.InvariantCulture) : pages.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>The reply the local upstream gives to a request; <paramref name="cited"/> is what it says of each cited file.</summary>
    public static LocalReply Compose(MessagesRequest request, IReadOnlyDictionary<string, string>? cited = null)
    {
        var root = request.Root;
        var text = LastUserText(root, cited);
        if (string.IsNullOrWhiteSpace(text))
        {
            text = EmptyReply;
        }

        var stopReason = "end_turn";
        string? stopSequence = null;
        if (root.TryGetProperty("stop_sequences", out var stops) && stops.ValueKind == JsonValueKind.Array)
        {
            var cut = -1;
            foreach (var stop in stops.EnumerateArray())
            {
                var value = stop.GetString();
                if (string.IsNullOrEmpty(value))
                {
                    continue;
                }

                var at = text.IndexOf(value, StringComparison.Ordinal);
                if (at >= 0 && (cut < 0 || at < cut))
                {
                    cut = at;
                    stopSequence = value;
                }
            }

            if (cut >= 0)
            {
                text = text[..cut];
                stopReason = "stop_sequence";
            }
        }

        var tokens = Tokenize(text);
        if (tokens.Count > request.MaxTokens)
        {
            tokens.RemoveRange(request.MaxTokens, tokens.Count - request.MaxTokens);
            stopReason = "max_tokens";
            stopSequence = null;
        }

        var inputTokens = Math.Max(1, (InputCharacters(root) + 3) / 4);
        return new LocalReply(Ids.NewMessageId(), tokens, stopReason, stopSequence, inputTokens, Math.Max(1, tokens.Count));
    }

    /// <summary>Words with the whitespace that follows them, so the pieces concatenate back to the text.</summary>
    public static List<string> Tokenize(string text)
    {
        var tokens = new List<string>();
        var start = 0;
        for (var i = 0; i < text.Length; i++)
        {
            if (char.IsWhiteSpace(text[i]) && (i + 1 == text.Length || !char.IsWhiteSpace(text[i + 1])))
            {
                tokens.Add(text[start..(i + 1)]);
                start = i + 1;
            }
        }

        if (start < text.Length)
        {
            tokens.Add(text[start..]);
        }

        return tokens;
    }

    private static string? LastUserText(JsonElement root, IReadOnlyDictionary<string, string>? cited)
    {
        string? last = null;
        foreach (var message in root.GetProperty("messages").EnumerateArray())
        {
            if (message.GetProperty("role").GetString() != "user")
            {
                continue;
            }

            var content = message.GetProperty("content");
            if (content.ValueKind == JsonValueKind.String)
            {
                last = content.GetString();
                continue;
            }

            var builder = new StringBuilder();
            foreach (var block in content.EnumerateArray())
            {
                if (block.TryGetProperty("type", out var type) && type.GetString() == "text")
                {
                    builder.Append(block.GetProperty("text").GetString());
                }
                else if (cited is not null && block.TryGetProperty("source", out var source) && source.ValueKind == JsonValueKind.Object &&
                         source.TryGetProperty("file_id", out var fileId) && fileId.ValueKind == JsonValueKind.String &&
                         cited.TryGetValue(fileId.GetString()!, out var said))
                {
                    builder.Append(said).Append(' ');
                }
            }

            last = builder.ToString();
        }

        return last;
    }

    private static int InputCharacters(JsonElement root)
    {
        var count = 0;
        if (root.TryGetProperty("system", out var system))
        {
            count += system.GetRawText().Length;
        }

        foreach (var message in root.GetProperty("messages").EnumerateArray())
        {
            count += message.GetProperty("content").GetRawText().Length;
        }

        return count;
    }

    /// <summary>The whole message the local upstream answers a request with (a Messages call, or a batch's result).</summary>
    public static byte[] WriteMessage(LocalReply reply, string model)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("id"u8, reply.Id);
            writer.WriteString("type"u8, "message"u8);
            writer.WriteString("role"u8, "assistant"u8);
            writer.WriteString("model"u8, model);
            writer.WriteStartArray("content"u8);
            writer.WriteStartObject();
            writer.WriteString("type"u8, "text"u8);
            writer.WriteString("text"u8, string.Concat(reply.Tokens));
            writer.WriteEndObject();
            writer.WriteEndArray();
            writer.WriteString("stop_reason"u8, reply.StopReason);
            WriteStopSequence(writer, reply.StopSequence);
            WriteUsage(writer, reply.InputTokens, reply.OutputTokens);
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static async IAsyncEnumerable<SseItem<ReadOnlyMemory<byte>>> StreamAsync(
        LocalReply reply, string model, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        yield return Event(EventNames.MessageStart, writer =>
        {
            writer.WriteStartObject("message"u8);
            writer.WriteString("id"u8, reply.Id);
            writer.WriteString("type"u8, "message"u8);
            writer.WriteString("role"u8, "assistant"u8);
            writer.WriteString("model"u8, model);
            writer.WriteStartArray("content"u8);
            writer.WriteEndArray();
            writer.WriteNull("stop_reason"u8);
            writer.WriteNull("stop_sequence"u8);
            WriteUsage(writer, reply.InputTokens, 1);
            writer.WriteEndObject();
        });
        yield return Event(EventNames.ContentBlockStart, static writer =>
        {
            writer.WriteNumber("index"u8, 0);
            writer.WriteStartObject("content_block"u8);
            writer.WriteString("type"u8, "text"u8);
            writer.WriteString("text"u8, ""u8);
            writer.WriteEndObject();
        });
        yield return Event(EventNames.Ping, static _ => { });
        foreach (var token in reply.Tokens)
        {
            cancellationToken.ThrowIfCancellationRequested();
            await Task.Yield();
            yield return Event(EventNames.ContentBlockDelta, writer =>
            {
                writer.WriteNumber("index"u8, 0);
                writer.WriteStartObject("delta"u8);
                writer.WriteString("type"u8, "text_delta"u8);
                writer.WriteString("text"u8, token);
                writer.WriteEndObject();
            });
        }

        yield return Event(EventNames.ContentBlockStop, static writer => writer.WriteNumber("index"u8, 0));
        yield return Event(EventNames.MessageDelta, writer =>
        {
            writer.WriteStartObject("delta"u8);
            writer.WriteString("stop_reason"u8, reply.StopReason);
            WriteStopSequence(writer, reply.StopSequence);
            writer.WriteEndObject();
            WriteUsage(writer, reply.InputTokens, reply.OutputTokens);
        });
        yield return Event(EventNames.MessageStop, static _ => { });
    }

    private static SseItem<ReadOnlyMemory<byte>> Event(string type, Action<Utf8JsonWriter> writeBody)
    {
        var buffer = new ArrayBufferWriter<byte>(128);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("type"u8, type);
            writeBody(writer);
            writer.WriteEndObject();
        }

        return new SseItem<ReadOnlyMemory<byte>>(buffer.WrittenSpan.ToArray(), type);
    }

    private static void WriteStopSequence(Utf8JsonWriter writer, string? stopSequence)
    {
        if (stopSequence is null)
        {
            writer.WriteNull("stop_sequence"u8);
        }
        else
        {
            writer.WriteString("stop_sequence"u8, stopSequence);
        }
    }

    private static void WriteUsage(Utf8JsonWriter writer, int inputTokens, int outputTokens)
    {
        writer.WriteStartObject("usage"u8);
        writer.WriteNumber("input_tokens"u8, inputTokens);
        writer.WriteNumber("cache_creation_input_tokens"u8, 0);
        writer.WriteNumber("cache_read_input_tokens"u8, 0);
        writer.WriteNumber("output_tokens"u8, outputTokens);
        writer.WriteEndObject();
    }
}

/// <summary>What the local upstream answers: the text as tokens, why it stopped, and its usage.</summary>
public sealed record LocalReply(string Id, IReadOnlyList<string> Tokens, string StopReason, string? StopSequence, int InputTokens, int OutputTokens);
