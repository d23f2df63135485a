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
    public void Read_RefusesANameOver200Characters_OnlyWhenCreating()
    {
        // Arrange: PATCH never had the limit; it keeps accepting what it accepted.
        using var body = JsonDocument.Parse($$"""{"name":"{{new string('n', 201)}}"}""");

        // Act
        var created = KeyRequest.Read(body.RootElement, KeyRequestMode.Create, Now, out var error);
        var updated = KeyRequest.Read(body.RootElement, KeyRequestMode.Update, Now, out _);

        // Assert
        Assert.Null(created);
        Assert.Equal("name: String should have at most 200 characters", error);
        Assert.NotNull(updated);
    }

    [Fact]
    public void Read_IgnoresFieldsANewKeyDoesNotTake_ButAnUpdateRefusesUnknownOnes()
    {
        // Arrange
        using var body = JsonDocument.Parse("""{"Name":" team ","disabled":"yes","secret":"x"}""");

        // Act
        var created = KeyRequest.Read(body.RootElement, KeyRequestMode.Create, Now, out var createError);
        var updated = KeyRequest.Read(body.RootElement, KeyRequestMode.Update, Now, out var updateError);

        // Assert
        Assert.Null(createError);
        Assert.Equal("team", created!.Name);
        Assert.Null(created.Disabled);
        Assert.Null(updated);
        Assert.Equal("disabled: Input should be a valid boolean", updateError);
        using var unknown = JsonDocument.Parse("""{"secret":"x"}""");
        Assert.Null(KeyRequest.Read(unknown.RootElement, KeyRequestMode.Update, Now, out var unknownError));
        Assert.Equal("secret: unknown field (updatable: name, disabled, models, expiresAt, limits)", unknownError);
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
