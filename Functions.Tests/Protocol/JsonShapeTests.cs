using System.Text;
using System.Text.Json;
using Qhaigc.Functions.Protocol;

namespace Qhaigc.Functions.Tests.Protocol;

/// <summary>The check that an upstream's event is one JSON object, and its fast path for compact deltas.</summary>
public sealed class JsonShapeTests
{
    public static TheoryData<string> CompactDeltas => new()
    {
        """{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello"}}""",
        """{"type":"content_block_delta","index":12,"delta":{"type":"input_json_delta","partial_json":"{\"city\": \"Par"}}""",
        """{"type":"content_block_delta","index":1,"delta":{"type":"thinking_delta","thinking":"Let me think\n\tabout \u00e9 and \\ \/ \b\f\r"}}""",
        """{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":""}}""",
        "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"héllo wörld 日本 🙂\"}}",
    };

    public static TheoryData<string> NotCompactDeltas => new()
    {
        """{"type":"content_block_delta","index":01,"delta":{"type":"text_delta","text":"a"}}""",
        """{"type":"content_block_delta","index":-1,"delta":{"type":"text_delta","text":"a"}}""",
        """{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"a"}} """,
        """{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"a"}}}""",
        """{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"a\q"}}""",
        """{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"a\u12G4"}}""",
        """{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"a\u12"}}""",
        """{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"a"}""",
        """{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"a""",
        """{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"a\"}}""",
        """{"type":"content_block_delta","index":0,"delta":{"type":"Text","text":"a"}}""",
        """{"type":"content_block_delta","index":0,"delta":{"type":"","text":"a"}}""",
        """{"type":"content_block_delta","index":0,"delta":{"type":"citations_delta","citation":{"type":"char_location"}}}""",
        """{"type": "content_block_delta","index":0,"delta":{"type":"text_delta","text":"a"}}""",
        "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"a\u0001b\"}}",
        "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"a\nb\"}}",
        """{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":5}}""",
        "",
        "{",
    };

    [Theory]
    [MemberData(nameof(CompactDeltas))]
    public void IsCompactDelta_TakesTheFormAnthropicStreamsDeltasIn(string json)
    {
        // Act
        var compact = JsonShape.IsCompactDelta(Encoding.UTF8.GetBytes(json));

        // Assert: and the full reading agrees it is one object.
        Assert.True(compact);
        Assert.True(ReadsAsOneObject(Encoding.UTF8.GetBytes(json)));
    }

    [Theory]
    [MemberData(nameof(NotCompactDeltas))]
    public void IsCompactDelta_LeavesEverythingElseToTheFullReading(string json)
    {
        // Act
        var bytes = Encoding.UTF8.GetBytes(json);

        // Assert: never a yes the full reading would not give; and IsObject answers as the full reading does.
        Assert.False(JsonShape.IsCompactDelta(bytes));
        Assert.Equal(ReadsAsOneObject(bytes), JsonShape.IsObject(bytes));
    }

    [Fact]
    public void IsCompactDelta_RefusesInvalidUtf8InTheText()
    {
        // Arrange: a lone continuation byte and a truncated two-byte sequence inside the text.
        var prefix = """{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"a"""u8.ToArray();
        var suffix = "\"}}"u8.ToArray();

        // Act
        var loneContinuation = JsonShape.IsCompactDelta([.. prefix, 0x80, .. suffix]);
        var truncated = JsonShape.IsCompactDelta([.. prefix, 0xC3, .. suffix]);

        // Assert
        Assert.False(loneContinuation);
        Assert.False(truncated);
    }

    [Fact]
    public void IsCompactDelta_NeverSaysYesWhereTheFullReadingSaysNo_ForEveryCutAndOneByteChange()
    {
        // Arrange: every prefix of a delta with escapes, and every single-byte change to it.
        var delta = Encoding.UTF8.GetBytes("""{"type":"content_block_delta","index":3,"delta":{"type":"text_delta","text":"a\"b\\c\u00e9d\ne"}}""");
        var alphabet = "\"\\{}:,0123456789abcnu \n\u0001"u8.ToArray();
        var disagreements = new List<string>();

        // Act
        for (var cut = 0; cut <= delta.Length; cut++)
        {
            Check(delta[..cut]);
        }

        for (var at = 0; at < delta.Length; at++)
        {
            foreach (var replacement in alphabet)
            {
                var changed = (byte[])delta.Clone();
                changed[at] = replacement;
                Check(changed);
            }
        }

        // Assert
        Assert.Empty(disagreements);

        void Check(byte[] bytes)
        {
            if (JsonShape.IsCompactDelta(bytes) && !ReadsAsOneObject(bytes))
            {
                disagreements.Add(Encoding.UTF8.GetString(bytes));
            }
        }
    }

    [Theory]
    [InlineData("""{"type":"ping"}""", true)]
    [InlineData(""" {"a":[1,2,{"b":null}]} """, true)]
    [InlineData("""{"a":1}{"b":2}""", false)]
    [InlineData("""[1]""", false)]
    [InlineData("""{"a":tru}""", false)]
    [InlineData("""not json""", false)]
    public void IsObject_IsTrueForExactlyOneObject(string json, bool expected)
    {
        // Act
        var isObject = JsonShape.IsObject(Encoding.UTF8.GetBytes(json));

        // Assert
        Assert.Equal(expected, isObject);
    }

    private static bool ReadsAsOneObject(byte[] json)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            return document.RootElement.ValueKind == JsonValueKind.Object;
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
