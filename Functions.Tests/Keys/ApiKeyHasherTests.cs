using Qhaigc.Functions.Keys;

namespace Qhaigc.Functions.Tests.Keys;

public sealed class ApiKeyHasherTests
{
    [Fact]
    public void NewSecret_HasPrefixAnd32RandomBytes_AndNeverRepeats()
    {
        // Act
        var secrets = Enumerable.Range(0, 100).Select(static _ => ApiKeyHasher.NewSecret()).ToArray();

        // Assert
        Assert.All(secrets, static s =>
        {
            Assert.StartsWith("sk-qh-", s, StringComparison.Ordinal);
            Assert.Equal(6 + 43, s.Length);
            Assert.Matches("^sk-qh-[A-Za-z0-9_-]{43}$", s);
        });
        Assert.Equal(secrets.Length, secrets.Distinct().Count());
    }

    [Fact]
    public void Hash_IsLowerHexSha256_OfTheSecret()
    {
        // Known vector: SHA-256("abc").
        Assert.Equal("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", ApiKeyHasher.Hash("abc"));
    }

    [Fact]
    public void IdAndPartition_AreDerivedFromTheHash_AndRoundTrip()
    {
        // Arrange
        var hash = ApiKeyHasher.Hash(ApiKeyHasher.NewSecret());

        // Act
        var id = ApiKeyHasher.IdFromHash(hash);

        // Assert
        Assert.Equal("key_" + hash[..16], id);
        Assert.Equal(hash[..16], ApiKeyHasher.PartitionFromId(id));
        Assert.Equal(ApiKeyHasher.PartitionFromHash(hash), ApiKeyHasher.PartitionFromId(id));
    }

    [Theory]
    [InlineData("")]
    [InlineData("key_")]
    [InlineData("key_0123456789ABCDEF")]
    [InlineData("key_0123456789abcdeg")]
    [InlineData("key_0123456789abcdef0")]
    [InlineData("abc_0123456789abcdef")]
    [InlineData("key_0123456789abcde' or 'a'='a")]
    public void PartitionFromId_RejectsAnythingButOurIds(string id) => Assert.Null(ApiKeyHasher.PartitionFromId(id));

    [Fact]
    public void Hint_ShowsStartAndLastFourOnly()
    {
        Assert.Equal("sk-qh-abcd…wxyz", ApiKeyHasher.Hint("sk-qh-abcdefghijklmnopqrstuvwxyz"));
    }
}
