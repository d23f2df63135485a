using System.Text;
using Qhaigc.Functions.Admin.Usage;

namespace Qhaigc.Functions.Tests.Admin.Usage;

/// <summary>The usage cursor: opaque, signed, and refused whole when anything in it is not what the gateway wrote.</summary>
public sealed class UsageCursorTests
{
    private static readonly byte[] Key = Encoding.UTF8.GetBytes("cursor-key-for-tests-0123456789ab");

    private static readonly UsageCursor Cursor = new(
        "key_00000000000000aa",
        new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero),
        new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero),
        "key_00000000000000aa",
        "1!28!a2V5XzAwMDAwMDAwMDAwMDAwYWE- 1!48!MDYzOTAwMTAwMDAwMDAwMDAwMF9yZXFfMDAx");

    [Fact]
    public void TryRead_ReturnsTheCursor_WhenItIsAsWritten()
    {
        // Arrange
        var text = Cursor.Write(Key);

        // Act
        var read = UsageCursor.TryRead(text, Key, out var cursor);

        // Assert: URL-safe as it stands, and every field back.
        Assert.True(read);
        Assert.Equal(Cursor, cursor);
        Assert.Equal(Uri.EscapeDataString(text), text);
    }

    [Fact]
    public void TryRead_KeepsNullFilterAndToken_WhenTheCursorHasNone()
    {
        // Arrange
        var start = Cursor with { KeyIdFilter = null, Token = null };

        // Act
        var read = UsageCursor.TryRead(start.Write(Key), Key, out var cursor);

        // Assert
        Assert.True(read);
        Assert.Equal(start, cursor);
    }

    [Fact]
    public void TryRead_IsFalse_WhenAnyCharacterChanges()
    {
        // Arrange
        var text = Cursor.Write(Key);

        // Act & Assert: no position of the text can be changed without the cursor being refused.
        for (var i = 0; i < text.Length; i++)
        {
            var changed = text[..i] + (text[i] == 'A' ? 'B' : 'A') + text[(i + 1)..];
            Assert.False(UsageCursor.TryRead(changed, Key, out _), $"position {i}");
        }
    }

    [Theory]
    [InlineData("")]
    [InlineData("100")]
    [InlineData("%%%")]
    [InlineData("eyJwayI6IngifQ")]
    [InlineData("AQAAAAAAAAAAAAAAAAAAAAAAa2V5")]
    public void TryRead_IsFalse_WhenTheTextIsNoCursor(string text)
    {
        // Act
        var read = UsageCursor.TryRead(text, Key, out var cursor);

        // Assert
        Assert.False(read);
        Assert.Null(cursor);
    }

    [Fact]
    public void TryRead_IsFalse_WhenSignedWithAnotherKey_OrTooLong()
    {
        // Arrange
        var otherKey = Encoding.UTF8.GetBytes("another-admin-key-derived-secret!");
        var text = Cursor.Write(Key);

        // Act & Assert
        Assert.False(UsageCursor.TryRead(text, otherKey, out _));
        Assert.False(UsageCursor.TryRead(new string('A', UsageCursor.MaxLength + 1), Key, out _));
    }

    [Theory]
    [InlineData("key_00000000000000aa", 0, 0, true)]
    [InlineData(null, 0, 0, false)]
    [InlineData("key_00000000000000bb", 0, 0, false)]
    [InlineData("key_00000000000000aa", -1, 0, false)]
    [InlineData("key_00000000000000aa", 0, 1, false)]
    public void Continues_IsTrue_OnlyForTheSameKeyFilterAndRange(string? keyIdFilter, int fromShiftDays, int toShiftDays, bool expected)
    {
        // Act
        var continues = Cursor.Continues(keyIdFilter, Cursor.From.AddDays(fromShiftDays), Cursor.To.AddDays(toShiftDays));

        // Assert
        Assert.Equal(expected, continues);
    }
}
