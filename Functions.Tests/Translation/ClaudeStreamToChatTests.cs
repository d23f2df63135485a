using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Qhaigc.Functions.Tests.TestDoubles;
using Qhaigc.Functions.Translation;

namespace Qhaigc.Functions.Tests.Translation;

/// <summary>
/// The Claude → OpenAI stream translator's <c>content_block_delta</c> fast path (Utf8JsonReader in, precomputed chunk
/// bytes out) against <see cref="ReferenceClaudeStreamToChat"/>, the JsonDocument implementation it replaced: byte for
/// byte the same chunks for every event the reference accepts, U+FFFD where the reference threw, and no more allocation
/// per text delta than the chunk it returns.
/// </summary>
public sealed class ClaudeStreamToChatTests
{
    private static readonly JsonSerializerOptions RelaxedOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Blocks 0 (text), 1 (tool_use, tool call 0), 2 (thinking), 3 (tool_use, tool call 1) are open.</summary>
    private static readonly (string Event, string Data)[] Opening =
    [
        ("message_start", """{"type":"message_start","message":{"id":"msg_1","model":"claude-sonnet-4-5","usage":{"input_tokens":3,"cache_read_input_tokens":2,"output_tokens":1}}}"""),
        ("content_block_start", """{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"""),
        ("content_block_start", """{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_1","name":"get_weather","input":{}}}"""),
        ("content_block_start", """{"type":"content_block_start","index":2,"content_block":{"type":"thinking","thinking":"","signature":""}}"""),
        ("content_block_start", """{"type":"content_block_start","index":3,"content_block":{"type":"tool_use","id":"toolu_2","name":"w\u00e9ather","input":{}}}"""),
    ];

    private static readonly (string Event, string Data)[] Closing =
    [
        ("content_block_stop", """{"type":"content_block_stop","index":0}"""),
        ("message_delta", """{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":9}}"""),
        ("message_stop", """{"type":"message_stop"}"""),
    ];

    /// <summary>content_block_delta data: plain, escaped, odd in shape, malformed. Each must translate as the reference does.</summary>
    public static TheoryData<string> Deltas => new(
        // Text: plain, every escape JSON has, characters the default encoder escapes, non-ASCII raw and escaped.
        """{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello"}}""",
        """{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":""}}""",
        """{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":" "}}""",
        """{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"say \"hi\" \\ back\/slash"}}""",
        """{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"\b\f\n\r\t"}}""",
        """{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"\u0000\u0001\u001f\u007f\u0080\u009f"}}""",
        """{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"<script>&amp;'+`=%"}}""",
        """{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"ünïcödé — ✓ 日本語 😀👍🏽"}}""",
        """{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"\u00fc\u00FC\u2713\ud83d\ude00\uD83D\uDC4D"}}""",
        """{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"\u2028\u2029\ufeff\ufffd\uffff"}}""",
        """{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"mixed ü \u00fc 😀 \ud83d\ude00 \" \\"}}""",
        """{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"\\u0041 is not an escape"}}""",
        // Thinking and tool arguments take the same path with their own prefix.
        """{"type":"content_block_delta","index":2,"delta":{"type":"thinking_delta","thinking":"Let me think:\n\n1. 27 * 453"}}""",
        """{"type":"content_block_delta","index":2,"delta":{"type":"thinking_delta","thinking":""}}""",
        """{"type":"content_block_delta","index":2,"delta":{"type":"signature_delta","signature":"EqQBCgIYAhIM"}}""",
        """{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":""}}""",
        """{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"location\": \"San Francisco, CA\", \"unit\": \"fah"}}""",
        """{"type":"content_block_delta","index":3,"delta":{"type":"input_json_delta","partial_json":"{\"city\":\"Z\u00fcrich \\\"Z\\\"\"}"}}""",
        """{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{}"}}""",
        """{"type":"content_block_delta","index":7,"delta":{"type":"input_json_delta","partial_json":"{}"}}""",
        """{"type":"content_block_delta","index":"1","delta":{"type":"input_json_delta","partial_json":"{}"}}""",
        """{"type":"content_block_delta","index":1.0,"delta":{"type":"input_json_delta","partial_json":"{}"}}""",
        """{"type":"content_block_delta","index":4294967297,"delta":{"type":"input_json_delta","partial_json":"{}"}}""",
        """{"type":"content_block_delta","index":-1,"delta":{"type":"input_json_delta","partial_json":"{}"}}""",
        """{"type":"content_block_delta","delta":{"type":"input_json_delta","partial_json":"{}"}}""",
        // Shapes: reordered, escaped names and values, extra fields, wrong types, unknown types.
        """{"delta":{"text":"late type","type":"text_delta"},"index":0,"type":"content_block_delta"}""",
        """{"type":"content_block_delta","index":0,"delta":{"t\u0079pe":"text\u005fdelta","t\u0065xt":"escaped names"}}""",
        """{"type":"content_block_delta","index":0,"extra":{"a":[1,{"b":null}]},"delta":{"type":"text_delta","citations":[{"x":"y"}],"text":"extras","more":true}}""",
        """  {"type" : "content_block_delta" , "index" : 0 , "delta" : { "type" : "text_delta" , "text" : "spaced" } }  """,
        """{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":42}}""",
        """{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":null}}""",
        """{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":{"nested":"no"}}}""",
        """{"type":"content_block_delta","index":0,"delta":{"type":"text_delta"}}""",
        """{"type":"content_block_delta","index":0,"delta":{"type":1,"text":"untyped"}}""",
        """{"type":"content_block_delta","index":0,"delta":{"type":"citations_delta","citation":{"cited_text":"x"}}}""",
        """{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","thinking":"wrong field"}}""",
        """{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","text":"wrong field"}}""",
        """{"type":"content_block_delta","index":0,"delta":null}""",
        """{"type":"content_block_delta","index":0,"delta":["text_delta"]}""",
        """{"type":"content_block_delta","index":0,"delta":"text_delta"}""",
        """{"type":"content_block_delta","index":0}""",
        """{}""",
        // Repeated fields: the fast path declines and the reference's rules decide.
        """{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"","text":"last"}}""",
        """{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"first","text":""}}""",
        """{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","type":"text_delta","text":"t","thinking":"h"}}""",
        """{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"a"},"delta":{"type":"text_delta","text":"b"}}""",
        """{"type":"content_block_delta","index":1,"index":3,"delta":{"type":"input_json_delta","partial_json":"{}"}}""",
        // Not an object, not JSON, or more than one value.
        """[{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"array"}}]""",
        "\"text_delta\"",
        "42",
        "null",
        "",
        " ",
        """{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"cut""",
        """{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"trailing comma",}}""",
        """{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"raw	tab"}}""",
        """{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"bad \x escape"}}""",
        """{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"after"}} trailing""",
        """{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"two"}}{"more":1}""",
        """{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"comment"}} // note""",
        """{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"deep"},"x":""" + new string('[', 70) + new string(']', 70) + "}");

    [Theory]
    [MemberData(nameof(Deltas))]
    public void OnEvent_MatchesReference_ForContentBlockDelta(string data)
    {
        foreach (var includeUsage in (bool[])[true, false])
        {
            // Arrange
            var events = Stream([("content_block_delta", Encoding.UTF8.GetBytes(data))]);

            // Act
            var (actual, expected) = Both(events, includeUsage);

            // Assert
            Assert.Equal(expected, actual);
        }
    }

    [Fact]
    public void OnEvent_MatchesReference_ForDeltaBeforeAnyOtherEvent()
    {
        // Arrange: the role chunk comes first even when a delta opens the stream.
        var events = new[] { ("content_block_delta", """{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"first"}}"""u8.ToArray()) };

        // Act
        var (actual, expected) = Both(events, includeUsage: true);

        // Assert
        Assert.Equal(2, actual.Count);
        Assert.Equal(expected, actual);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void OnEvent_MatchesReference_ForRandomTextInEveryEscaping(int seed)
    {
        // Arrange: random text from awkward characters, sent raw, with the relaxed encoder's escapes and with every
        // character escaped as \uXXXX, as text, thinking and tool arguments.
        var random = new Random(seed);
        string[] pieces = ["a", "Z", " ", "\"", "\\", "/", "\b", "\f", "\n", "\r", "\t", "\u0000", "\u001f", "\u007f", "<", ">", "&", "'", "+", "`",
            "é", "ü", "—", "✓", "日", "\u2028", "\u2029", "\ufeff", "\ufffd", "😀", "👍🏽", "𝄞", "\u00a0", "\u0300"];
        var events = new List<(string, byte[])>();
        for (var i = 0; i < 300; i++)
        {
            var text = string.Concat(Enumerable.Range(0, random.Next(0, 12)).Select(_ => pieces[random.Next(pieces.Length)]));
            var literal = (i % 3) switch
            {
                0 => JsonSerializer.Serialize(text, RelaxedOptions),
                1 => JsonSerializer.Serialize(text),
                _ => "\"" + string.Concat(text.Select(static c => $"\\u{(int)c:x4}")) + "\"",
            };
            var (index, type, field) = (i % 4) switch
            {
                0 or 1 => (0, "text_delta", "text"),
                2 => (2, "thinking_delta", "thinking"),
                _ => (1, "input_json_delta", "partial_json"),
            };
            events.Add(("content_block_delta", Encoding.UTF8.GetBytes(
                $$$"""{"type":"content_block_delta","index":{{{index}}},"delta":{"type":"{{{type}}}","{{{field}}}":{{{literal}}}}}""")));
        }

        // Act
        var (actual, expected) = Both(Stream(events), includeUsage: true);

        // Assert
        Assert.Equal(expected, actual);
    }

    [Theory]
    [InlineData("Anthropic/text.sse")]
    [InlineData("Anthropic/tool_use.sse")]
    [InlineData("Anthropic/thinking.sse")]
    [InlineData("Anthropic/midstream_error.sse")]
    public void OnEvent_MatchesReference_ForRecordedStreams(string fixture)
    {
        foreach (var includeUsage in (bool[])[true, false])
        {
            // Arrange
            var events = Fixtures.Events(fixture).Select(static e => (e.Event, Encoding.UTF8.GetBytes(e.Data))).ToList();

            // Act
            var (actual, expected) = Both(events, includeUsage);

            // Assert
            Assert.Equal(expected, actual);
        }
    }

    [Fact]
    public void OnEvent_SendsNothing_ForPingUnknownEventsAndBlockStop()
    {
        // Arrange
        var translator = Started();

        // Act + Assert
        Assert.Empty(translator.OnEvent("ping", """{"type": "ping"}"""u8));
        Assert.Empty(translator.OnEvent("ping", default));
        Assert.Empty(translator.OnEvent("content_block_stop", """{"type":"content_block_stop","index":0}"""u8));
        Assert.Empty(translator.OnEvent("future_event", """{"type":"future_event","delta":{"type":"text_delta","text":"no"}}"""u8));
        Assert.Empty(translator.OnEvent("future_event", "not json"u8));
        Assert.False(translator.Finished);
    }

    [Fact]
    public void OnEvent_EndsWithErrorPayload_ForErrorMidStream_AndIgnoresLaterEvents()
    {
        // Arrange
        var translator = Started();
        var events = Stream([]).Take(Opening.Length).Concat([
            ("content_block_delta", """{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Partial"}}"""u8.ToArray()),
            ("ping", """{"type":"ping"}"""u8.ToArray()),
            ("error", """{"type":"error","error":{"type":"overloaded_error","message":"Overloaded \"now\""}}"""u8.ToArray()),
            ("content_block_delta", """{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"late"}}"""u8.ToArray()),
            ("message_stop", """{"type":"message_stop"}"""u8.ToArray())]).ToList();

        // Act
        var (actual, expected) = Both(events, includeUsage: true);
        var error = translator.OnEvent("error", """{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"""u8).Single();
        var late = translator.OnEvent("content_block_delta", """{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"late"}}"""u8);

        // Assert
        Assert.Equal(expected, actual);
        Assert.Equal("""{"error":{"message":"Overloaded","type":"overloaded_error","param":null,"code":null}}""", Encoding.UTF8.GetString(error));
        Assert.Empty(late);
        Assert.True(translator.Finished);
    }

    [Fact]
    public void OnEvent_WritesExactChunk_ForTextDelta()
    {
        // Arrange
        var translator = Started();

        // Act
        var chunk = translator.OnEvent("content_block_delta", """{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi \"ü\" 😀\n"}}"""u8).Single();

        // Assert: the default encoder's escapes, as every other chunk.
        Assert.Equal(
            """{"id":"chatcmpl-x","object":"chat.completion.chunk","created":1700000000,"model":"client-model","choices":[{"index":0,"delta":{"content":"Hi \u0022\u00FC\u0022 \uD83D\uDE00\n"},"logprobs":null,"finish_reason":null}],"usage":null}""",
            Encoding.UTF8.GetString(chunk));
    }

    /// <summary>
    /// Text the reference cannot read (invalid UTF-8, a lone surrogate escape) made it throw from <c>OnEvent</c>, which
    /// ended the response with neither an error payload nor <c>[DONE]</c>. The fast path sends U+FFFD in its place.
    /// </summary>
    [Theory]
    [InlineData("61FF62", "a\uFFFDb")]
    [InlineData("61C3", "a\uFFFD")]
    [InlineData("61C080", "a\uFFFD\uFFFD")]
    [InlineData("61EDA080", "a\uFFFD\uFFFD\uFFFD")]
    [InlineData("F09F98", "\uFFFD")]
    public void OnEvent_ReplacesInvalidUtf8_WhereReferenceThrew(string textHex, string expected)
    {
        // Arrange
        var data = Encoding.UTF8.GetBytes("""{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"!"}}""");
        var bang = Array.IndexOf(data, (byte)'!');
        data = [.. data[..bang], .. Convert.FromHexString(textHex), .. data[(bang + 1)..]];

        // Act + Assert
        AssertReplaced(data, expected, "content");
    }

    [Theory]
    [InlineData("""x\ud83dy""", "x\uFFFDy")]
    [InlineData("""x\ude00y""", "x\uFFFDy")]
    [InlineData("""\ud83d""", "\uFFFD")]
    [InlineData("""\ud83d\u0041""", "\uFFFDA")]
    [InlineData("""\ud83d\ud83d\ude00""", "\uFFFD😀")]
    [InlineData("""\ude00\ud83d \" \\ \/ \b\f\n\r\t \u00fc ü""", "\uFFFD\uFFFD \" \\ / \b\f\n\r\t ü ü")]
    public void OnEvent_ReplacesLoneSurrogateEscapes_WhereReferenceThrew(string literal, string expected)
    {
        foreach (var (type, field, index, property) in (ValueTuple<string, string, int, string>[])[
            ("text_delta", "text", 0, "content"), ("thinking_delta", "thinking", 2, "reasoning_content"), ("input_json_delta", "partial_json", 1, "arguments")])
        {
            // Arrange
            var data = Encoding.UTF8.GetBytes($$$"""{"type":"content_block_delta","index":{{{index}}},"delta":{"type":"{{{type}}}","{{{field}}}":"{{{literal}}}"}}""");

            // Act + Assert
            AssertReplaced(data, expected, property);
        }
    }

    [Fact]
    public void OnEvent_AllocatesOnlyTheChunk_PerTextDelta()
    {
        // Arrange: one-word deltas as a long answer sends them, some escaped, and pings between them.
        const int Events = 2000;
        string[] words = ["The", " quick", " brown", " fox", " jumps", " \"over\"", " the", " lazy", " dög", ".\n\n", " 😀", " \\u0041"];
        var deltas = words.Select(static w => Encoding.UTF8.GetBytes(
            $$$"""{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":{{{JsonSerializer.Serialize(w, RelaxedOptions)}}}}}""")).ToArray();
        var ping = """{"type": "ping"}"""u8.ToArray();
        var translator = Started();
        for (var i = 0; i < deltas.Length * 2; i++)
        {
            translator.OnEvent("content_block_delta", deltas[i % deltas.Length]);
            translator.OnEvent("ping", ping);
        }

        // Act
        long chunkBytes = 0;
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < Events; i++)
        {
            var chunks = translator.OnEvent("content_block_delta", deltas[i % deltas.Length]);
            for (var c = 0; c < chunks.Count; c++)
            {
                chunkBytes += chunks[c].Length;
            }

            translator.OnEvent("ping", ping);
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        // Assert: per event, the chunk's own bytes plus a byte array's header (24 bytes on 64-bit) and some slack.
        Assert.InRange(chunkBytes / Events, 150, 300);
        Assert.True(allocated <= chunkBytes + (Events * 32L),
            $"{allocated / (double)Events:F1} bytes allocated per text delta for chunks of {chunkBytes / (double)Events:F1} bytes.");
    }

    [Fact]
    public void WriteEvent_AllocatesNothing_PerTextDelta()
    {
        // Arrange: as OnEvent_AllocatesOnlyTheChunk_PerTextDelta, written the way the relay writes them.
        const int Events = 2000;
        string[] words = ["The", " quick", " brown", " fox", " jumps", " \"over\"", " the", " lazy", " dög", ".\n\n", " 😀", " \\u0041"];
        var deltas = words.Select(static w => Encoding.UTF8.GetBytes(
            $$$"""{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":{{{JsonSerializer.Serialize(w, RelaxedOptions)}}}}}""")).ToArray();
        var translator = Started();
        var output = new ArrayBufferWriter<byte>(64 * 1024);
        for (var i = 0; i < deltas.Length * 2; i++)
        {
            output.ResetWrittenCount();
            translator.WriteEvent("content_block_delta", deltas[i % deltas.Length], output);
        }

        // Act
        long written = 0;
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < Events; i++)
        {
            output.ResetWrittenCount();
            written += translator.WriteEvent("content_block_delta", deltas[i % deltas.Length], output);
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        // Assert: every delta written, and no allocation per event (some slack for the runtime's own).
        Assert.InRange(written / Events, 150, 300);
        Assert.True(allocated <= Events * 4L, $"{allocated / (double)Events:F1} bytes allocated per text delta.");
    }

    private static void AssertReplaced(byte[] data, string expected, string property)
    {
        var reference = new ReferenceClaudeStreamToChat("chatcmpl-x", 1700000000, "client-model", includeUsage: true);
        foreach (var (name, opening) in Opening)
        {
            reference.OnEvent(name, Encoding.UTF8.GetBytes(opening));
        }

        var translator = Started();

        // Act
        var chunk = translator.OnEvent("content_block_delta", data).Single();

        // Assert
        Assert.Throws<InvalidOperationException>(() => reference.OnEvent("content_block_delta", data));
        var delta = JsonDocument.Parse(chunk).RootElement.GetProperty("choices")[0].GetProperty("delta");
        var value = property == "arguments" ? delta.GetProperty("tool_calls")[0].GetProperty("function").GetProperty("arguments") : delta.GetProperty(property);
        Assert.Equal(expected, value.GetString());
    }

    /// <summary>A translator that has seen <see cref="Opening"/>, so the next delta gives one chunk.</summary>
    private static ClaudeStreamToChat Started()
    {
        var translator = new ClaudeStreamToChat("chatcmpl-x", 1700000000, "client-model", includeUsage: true);
        foreach (var (name, data) in Opening)
        {
            translator.OnEvent(name, Encoding.UTF8.GetBytes(data));
        }

        return translator;
    }

    private static List<(string Event, byte[] Data)> Stream(IEnumerable<(string Event, byte[] Data)> middle) =>
    [
        .. Opening.Select(static e => (e.Event, Encoding.UTF8.GetBytes(e.Data))),
        .. middle,
        .. Closing.Select(static e => (e.Event, Encoding.UTF8.GetBytes(e.Data))),
    ];

    /// <summary>Every payload of both translators over the same events, one string per payload.</summary>
    private static (List<string> Actual, List<string> Expected) Both(IEnumerable<(string Event, byte[] Data)> events, bool includeUsage)
    {
        var translator = new ClaudeStreamToChat("chatcmpl-x", 1700000000, "client-model", includeUsage);
        var reference = new ReferenceClaudeStreamToChat("chatcmpl-x", 1700000000, "client-model", includeUsage);
        // The relay's way: every event written straight to the response as data lines, which must be the same payloads.
        var direct = new ClaudeStreamToChat("chatcmpl-x", 1700000000, "client-model", includeUsage);
        var output = new ArrayBufferWriter<byte>();
        List<string> actual = [], expected = [];
        foreach (var (name, data) in events)
        {
            var payloads = translator.OnEvent(name, data).Select(static p => Encoding.UTF8.GetString(p)).ToList();
            actual.AddRange(payloads);
            expected.AddRange(reference.OnEvent(name, data).Select(static p => Encoding.UTF8.GetString(p)));
            Assert.Equal(reference.Finished, translator.Finished);

            output.ResetWrittenCount();
            var written = direct.WriteEvent(name, data, output);
            Assert.Equal(string.Concat(payloads.Select(static p => "data: " + p + "\n\n")), Encoding.UTF8.GetString(output.WrittenSpan));
            Assert.Equal(output.WrittenCount, written);
            Assert.Equal(translator.Finished, direct.Finished);
        }

        return (actual, expected);
    }
}
