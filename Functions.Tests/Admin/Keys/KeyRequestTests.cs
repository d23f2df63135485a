using System.Text.Json;
using Qhaigc.Functions.Admin.Keys;
using Qhaigc.Functions.Keys;

namespace Qhaigc.Functions.Tests.Admin.Keys;

/// <summary>One schema for creating and updating a key: the same field rules, the differences named by the mode.</summary>
public sealed class KeyRequestTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);

    private static readonly ApiKey Existing = new()
    {
        Id = "key_00000000000000aa",
        Name = "before",
        Hash = "hash",
        Hint = "sk-qh-…abcd",
        CreatedAt = Now.AddDays(-10),
        ExpiresAt = Now.AddDays(10),
        Models = ["claude-*"],
        LimitsJson = """{"requestsPerMinute":5}""",
    };

    [Theory]
    [InlineData("""{"name":5}""", "name: Input should be a valid string")]
    [InlineData("""{"name":"   "}""", "name: String should have at least 1 character")]
    [InlineData("""{"name":"k","models":"claude-*"}""", "models: Input should be a valid list of strings")]
    [InlineData("""{"name":"k","models":[1]}""", "models: Input should be a valid list of strings")]
    [InlineData("""{"name":"k","expiresAt":"tomorrow"}""", "expiresAt: Input should be a valid ISO 8601 date and time")]
    [InlineData("""{"name":"k","limits":"none"}""", "limits: Input should be a valid dictionary")]
    [InlineData("""{"name":"k","limits":{"requestsPerMinute":0}}""", "limits.requestsPerMinute: Input should be an integer from 1 to 1000000000000")]
    public void Read_NamesTheField_WhenAFieldBreaksItsRule_InEitherMode(string json, string message)
    {
        // Arrange
        using var body = JsonDocument.Parse(json);

        // Act & Assert: the same rule and message whether the key is new or updated.
        foreach (var mode in new[] { KeyRequestMode.Create, KeyRequestMode.Update })
        {
            Assert.Null(KeyRequest.Read(body.RootElement, mode, Now, out var error));
            Assert.Equal(message, error);
        }
    }

    [Theory]
    [InlineData("""{"models":[]}""", "name: Field required")]
    [InlineData("""{"name":"k","expiresAt":"2026-11-25T12:00:00Z"}""", "expiresAt: must be in the future")]
    public void Read_RefusesACreate_WithoutNameOrWithAPastExpiry(string json, string message)
    {
        // Arrange
        using var body = JsonDocument.Parse(json);

        // Act
        var request = KeyRequest.Read(body.RootElement, KeyRequestMode.Create, Now, out var error);

        // Assert
        Assert.Null(request);
        Assert.Equal(message, error);
    }

    [Fact]
    public void Read_RefusesANameOver200Characters_InEitherMode()
    {
        // Arrange: PATCH used to take names of any length (5,000 characters and more).
        using var body = JsonDocument.Parse($$"""{"name":"{{new string('n', 201)}}"}""");

        // Act & Assert
        foreach (var mode in new[] { KeyRequestMode.Create, KeyRequestMode.Update })
        {
            Assert.Null(KeyRequest.Read(body.RootElement, mode, Now, out var error));
            Assert.Equal("name: String should have at most 200 characters", error);
        }
    }

    [Fact]
    public void Read_RefusesUnknownFields_AndHonoursDisabled_InEitherMode()
    {
        // Arrange: a new key used to ignore both, so "disabled": true made an enabled key.
        using var disabled = JsonDocument.Parse("""{"Name":" team ","disabled":true}""");
        using var badDisabled = JsonDocument.Parse("""{"name":"team","disabled":"yes"}""");
        using var unknown = JsonDocument.Parse("""{"name":"team","secret":"x"}""");

        foreach (var mode in new[] { KeyRequestMode.Create, KeyRequestMode.Update })
        {
            // Act
            var request = KeyRequest.Read(disabled.RootElement, mode, Now, out var error);
            var bad = KeyRequest.Read(badDisabled.RootElement, mode, Now, out var badError);
            var refused = KeyRequest.Read(unknown.RootElement, mode, Now, out var unknownError);

            // Assert
            Assert.Null(error);
            Assert.Equal("team", request!.Name);
            Assert.True(request.Disabled);
            Assert.Null(bad);
            Assert.Equal("disabled: Input should be a valid boolean", badError);
            Assert.Null(refused);
            Assert.Equal("secret: unknown field (known: name, disabled, models, expiresAt, limits)", unknownError);
        }
    }

    [Theory]
    [InlineData("""{"name":"a","name":"b"}""", "name: field given more than once")]
    [InlineData("""{"name":"a","disabled":false,"Disabled":true}""", "Disabled: field given more than once")]
    public void Read_RefusesAFieldGivenTwice_InEitherMode(string json, string message)
    {
        // Arrange: last-wins would let one reader see another value than the next.
        using var body = JsonDocument.Parse(json);

        // Act & Assert
        foreach (var mode in new[] { KeyRequestMode.Create, KeyRequestMode.Update })
        {
            Assert.Null(KeyRequest.Read(body.RootElement, mode, Now, out var error));
            Assert.Equal(message, error);
        }
    }

    [Theory]
    [InlineData("""{"name":"k","models":["claude-haiku*,*"]}""", "models: a pattern may not contain a comma ('claude-haiku*,*'); give each pattern as its own list item")]
    [InlineData("""{"name":"k","models":[","]}""", "models: a pattern may not contain a comma (','); give each pattern as its own list item")]
    public void Read_RefusesAPatternWithAComma_InEitherMode(string json, string message)
    {
        // Arrange: patterns are stored comma-separated; "claude-haiku*,*" came back from storage as "claude-haiku*" and "*".
        using var body = JsonDocument.Parse(json);

        // Act & Assert
        foreach (var mode in new[] { KeyRequestMode.Create, KeyRequestMode.Update })
        {
            Assert.Null(KeyRequest.Read(body.RootElement, mode, Now, out var error));
            Assert.Equal(message, error);
        }
    }

    [Fact]
    public void Read_RefusesTooManyOrTooLongPatterns_InEitherMode()
    {
        // Arrange
        var many = JsonSerializer.Serialize(new { models = Enumerable.Range(0, KeyRequest.MaxModels + 1).Select(static i => $"m{i}") });
        var longOne = JsonSerializer.Serialize(new { models = new[] { new string('m', KeyRequest.MaxModelPatternLength + 1) } });
        using var manyBody = JsonDocument.Parse(many);
        using var longBody = JsonDocument.Parse(longOne);

        // Act & Assert
        foreach (var mode in new[] { KeyRequestMode.Create, KeyRequestMode.Update })
        {
            Assert.Null(KeyRequest.Read(manyBody.RootElement, mode, Now, out var manyError));
            Assert.Equal("models: List should have at most 100 items", manyError);
            Assert.Null(KeyRequest.Read(longBody.RootElement, mode, Now, out var longError));
            Assert.Equal("models: a pattern should have at most 256 characters", longError);
        }
    }

    [Fact]
    public void ApplyTo_ChangesOnlyThePresentFields_AndNullClears()
    {
        // Arrange
        using var body = JsonDocument.Parse("""{"disabled":true,"expiresAt":null,"limits":null,"models":[" a ","A",null,"b",""]}""");

        // Act
        var request = KeyRequest.Read(body.RootElement, KeyRequestMode.Update, Now, out var error);
        var key = request!.ApplyTo(Existing);

        // Assert
        Assert.Null(error);
        Assert.Equal("before", key.Name);
        Assert.True(key.Disabled);
        Assert.Null(key.ExpiresAt);
        Assert.Null(key.LimitsJson);
        Assert.Equal(["a", "b"], key.Models);
        Assert.Equal(Existing.CreatedAt, key.CreatedAt);
    }

    [Fact]
    public void ApplyTo_KeepsTheKey_WhenTheBodyIsEmpty()
    {
        // Arrange
        using var body = JsonDocument.Parse("{}");

        // Act
        var request = KeyRequest.Read(body.RootElement, KeyRequestMode.Update, Now, out _);

        // Assert
        Assert.Equal(Existing, request!.ApplyTo(Existing));
    }

    [Fact]
    public void Read_TakesLimitsAndExpiry_WhenCreating()
    {
        // Arrange
        using var body = JsonDocument.Parse("""{"name":"k","models":null,"expiresAt":"2027-01-01T00:00:00Z","limits":{"spendCap":10}}""");

        // Act
        var request = KeyRequest.Read(body.RootElement, KeyRequestMode.Create, Now, out var error);

        // Assert
        Assert.Null(error);
        Assert.Equal(new DateTimeOffset(2027, 1, 1, 0, 0, 0, TimeSpan.Zero), request!.ExpiresAt);
        Assert.Equal("""{"spendCap":10}""", request.LimitsJson);
        Assert.Equal([], request.Models!);
    }
}
