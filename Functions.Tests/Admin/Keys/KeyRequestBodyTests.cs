using Microsoft.AspNetCore.Http;
using Qhaigc.Functions.Admin.Keys;
using Qhaigc.Functions.Api;

namespace Qhaigc.Functions.Tests.Admin.Keys;

/// <summary>The JSON object every key call sends: what is refused before any field is read.</summary>
public sealed class KeyRequestBodyTests
{
    public static TheoryData<byte[], int, string> Refused => new()
    {
        { [.. "{\"name\":\""u8, 0xE2, 0x82, .. "x\"}"u8], 400, "There was an error parsing the body: the body is not valid UTF-8" },
        { [.. "{\""u8, 0xED, 0xA0, 0x80, .. "name\":\"x\"}"u8], 400, "There was an error parsing the body: the body is not valid UTF-8" },
        { "[]"u8.ToArray(), 400, "Input should be a valid dictionary" },
        { "{"u8.ToArray(), 400, "There was an error parsing the body" },
        { "{\"name\":\"x\"}"u8.ToArray().Concat(Enumerable.Repeat((byte)' ', KeyRequestBody.MaxBytes)).ToArray(), 413, "Request exceeds 65536 bytes." },
    };

    [Theory]
    [MemberData(nameof(Refused))]
    public async Task ReadAsync_AnswersTheError_WhenTheBodyIsNoJsonObject(byte[] body, int status, string message)
    {
        // Arrange
        var context = Context(body);

        // Act
        var (document, error) = await KeyRequestBody.ReadAsync(context);

        // Assert
        Assert.Null(document);
        var result = Assert.IsType<ErrorResult>(error);
        Assert.Equal(status, result.Error.Status);
        Assert.StartsWith(message, result.Error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ReadAsync_TellsAnEmptyBody_OnlyWhenAllowed(bool emptyAllowed)
    {
        // Arrange
        var context = Context([]);

        // Act
        var (document, error) = await KeyRequestBody.ReadAsync(context, emptyAllowed);

        // Assert: rotate takes no body at all; create and update need an object.
        Assert.Null(document);
        Assert.Equal(emptyAllowed, error is null);
    }

    [Fact]
    public async Task ReadAsync_ReturnsTheObject_WhenTheBodyIsOne()
    {
        // Arrange
        var context = Context("{\"name\":\"tëam\"}"u8.ToArray());

        // Act
        var (document, error) = await KeyRequestBody.ReadAsync(context);

        // Assert
        using (document)
        {
            Assert.Null(error);
            Assert.Equal("tëam", document!.RootElement.GetProperty("name").GetString());
        }
    }

    private static DefaultHttpContext Context(byte[] body)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = HttpMethods.Post;
        context.Request.Body = new MemoryStream(body);
        context.Request.ContentLength = body.Length;
        return context;
    }
}
