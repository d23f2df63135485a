using Qhaigc.Functions.Keys;
using Qhaigc.Functions.Tests.Infrastructure;

namespace Qhaigc.Functions.Tests.Keys;

/// <summary>The key store against a real Azurite.</summary>
public sealed class TableApiKeyStoreTests
{
    [Fact]
    public async Task KeyStore_CreatesFindsUpdatesAndDeletes_ByHashAndId()
    {
        // Arrange
        var environment = await GatewayTestEnvironment.CreateAsync();
        var store = environment.Keys;
        var (secret, key) = await environment.CreateKeyAsync("first", models: ["claude-*"]);

        // Act
        var byHash = await store.FindByHashAsync(ApiKeyHasher.Hash(secret), CancellationToken.None);
        var byId = await store.GetAsync(key.Id, CancellationToken.None);
        var duplicate = await store.CreateAsync(key, CancellationToken.None);
        var updated = await store.UpdateAsync(key with { Disabled = true, Name = "renamed" }, CancellationToken.None);
        var afterUpdate = await store.GetAsync(key.Id, CancellationToken.None);
        var (_, second) = await environment.CreateKeyAsync("second");
        var listed = await store.ListAsync(CancellationToken.None);
        var deleted = await store.DeleteAsync(key.Id, CancellationToken.None);
        var deletedAgain = await store.DeleteAsync(key.Id, CancellationToken.None);
        var gone = await store.FindByHashAsync(key.Hash, CancellationToken.None);

        // Assert
        Assert.Equal(key with { CreatedAt = byHash!.CreatedAt, Models = byHash.Models }, byHash);
        Assert.Equal(key.Models, byHash.Models);
        Assert.Equal(["claude-*"], byId!.Models);
        Assert.False(duplicate);
        Assert.True(updated);
        Assert.True(afterUpdate!.Disabled);
        Assert.Equal("renamed", afterUpdate.Name);
        Assert.Equal([second.Id, key.Id], listed.Select(static k => k.Id));
        Assert.True(deleted);
        Assert.False(deletedAgain);
        Assert.Null(gone);
    }

    [Fact]
    public async Task KeyStore_TreatsUnknownOrMalformedIds_AsNotFound_WhenOtherKeysExist()
    {
        // Arrange: keys in the table, so a lookup that ignored the id, or let it widen the filter, would find one.
        var environment = await GatewayTestEnvironment.CreateAsync();
        var store = environment.Keys;
        var (secret, key) = await environment.CreateKeyAsync("present");
        var (_, other) = await environment.CreateKeyAsync("other");
        var unknown = new ApiKey
        {
            Id = "key_0000000000000000",
            Name = "x",
            Hash = new string('0', 64),
            Hint = "x",
            CreatedAt = DateTimeOffset.UtcNow,
        };

        // Act: ids go through validation before any filter is built.
        var unknownId = await store.GetAsync("key_0123456789abcdef", CancellationToken.None);
        var injected = await store.GetAsync("key_' or PartitionKey ne '", CancellationToken.None);
        var upperCase = await store.GetAsync(key.Id.ToUpperInvariant(), CancellationToken.None);
        var updated = await store.UpdateAsync(unknown, CancellationToken.None);
        var unknownHash = await store.FindByHashAsync(new string('f', 64), CancellationToken.None);
        var byId = await store.GetAsync(key.Id, CancellationToken.None);
        var byHash = await store.FindByHashAsync(ApiKeyHasher.Hash(secret), CancellationToken.None);
        var listed = await store.ListAsync(CancellationToken.None);

        // Assert: nothing found for what is not there, and the update created nothing ...
        Assert.Null(unknownId);
        Assert.Null(injected);
        Assert.Null(upperCase);
        Assert.False(updated);
        Assert.Null(unknownHash);
        Assert.Equal([other.Id, key.Id], listed.Select(static k => k.Id));

        // ... while the keys that are there are found by id and by hash.
        Assert.Equal(key.Id, byId?.Id);
        Assert.Equal(key.Id, byHash?.Id);
    }
}
