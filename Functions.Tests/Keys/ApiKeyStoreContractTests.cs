using Qhaigc.Functions.Keys;
using Qhaigc.Functions.Tests.Infrastructure;

namespace Qhaigc.Functions.Tests.Keys;

/// <summary>
/// What callers rely on from a key store, asserted against the table store on Azurite and against
/// <see cref="InMemoryApiKeyStore"/>, so the fake that direct tests use cannot drift from the real one.
/// </summary>
public sealed class ApiKeyStoreContractTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 20, 12, 0, 0, TimeSpan.Zero);

    public static TheoryData<string> Stores => new() { "memory", "table" };

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task Store_KeepsAKeyBySecretAndId_UntilDeleted(string kind)
    {
        // Arrange
        var store = await CreateAsync(kind);
        var (secret, key) = NewKey("first", Now.AddHours(-2), models: ["claude-*", "gpt-4o"]);
        var (_, second) = NewKey("second", Now.AddHours(-1));

        // Act
        var created = await store.CreateAsync(key, CancellationToken.None);
        var duplicate = await store.CreateAsync(key with { Name = "again" }, CancellationToken.None);
        await store.CreateAsync(second, CancellationToken.None);
        var byHash = await store.FindByHashAsync(ApiKeyHasher.Hash(secret), CancellationToken.None);
        var byId = await store.GetAsync(key.Id, CancellationToken.None);
        var updated = await store.UpdateAsync(key with { Name = "renamed", Disabled = true, LimitsJson = "{\"rpm\":5}" }, CancellationToken.None);
        var afterUpdate = await store.GetAsync(key.Id, CancellationToken.None);
        var listed = await store.ListAsync(CancellationToken.None);
        var deleted = await store.DeleteAsync(key.Id, CancellationToken.None);
        var deletedAgain = await store.DeleteAsync(key.Id, CancellationToken.None);
        var gone = await store.FindByHashAsync(key.Hash, CancellationToken.None);
        var unknown = await store.GetAsync("key_0123456789abcdef", CancellationToken.None);
        var malformed = await store.GetAsync("key_' or PartitionKey ne '", CancellationToken.None);
        var updatedUnknown = await store.UpdateAsync(NewKey("unknown", Now).Key, CancellationToken.None);

        // Assert
        Assert.True(created);
        Assert.False(duplicate);
        Assert.Equal(key with { Models = byHash!.Models }, byHash);
        Assert.Equal(["claude-*", "gpt-4o"], byHash.Models);
        Assert.Equal(byHash with { Models = byId!.Models }, byId);
        Assert.Equal(["claude-*", "gpt-4o"], byId.Models);
        Assert.True(updated);
        Assert.Equal(("renamed", true, "{\"rpm\":5}", key.Hint), (afterUpdate!.Name, afterUpdate.Disabled, afterUpdate.LimitsJson, afterUpdate.Hint));
        Assert.Equal([second.Id, key.Id], listed.Select(static k => k.Id));
        Assert.True(deleted);
        Assert.False(deletedAgain);
        Assert.Null(gone);
        Assert.Null(unknown);
        Assert.Null(malformed);
        Assert.False(updatedUnknown);
        Assert.Equal([second.Id], (await store.ListAsync(CancellationToken.None)).Select(static k => k.Id));
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task Store_Rotation_KeepsTheOldSecretUntilItExpires_AndSurvivesAnUpdate(string kind)
    {
        // Arrange
        var store = await CreateAsync(kind);
        var (_, key) = NewKey("rotated", Now.AddDays(-1));
        await store.CreateAsync(key, CancellationToken.None);
        var newSecret = ApiKeyHasher.NewSecret();
        var secret = new KeySecret { Hash = ApiKeyHasher.Hash(newSecret), Hint = ApiKeyHasher.Hint(newSecret), CreatedAt = Now };
        var graceEnd = Now.AddHours(1);

        // Act
        var rotated = await store.RotateAsync(key.Id, secret, graceEnd, Now, CancellationToken.None);
        var updated = await store.UpdateAsync(key with { Name = "renamed" }, CancellationToken.None);
        var byOld = await store.FindByHashAsync(key.Hash, CancellationToken.None);
        var byNew = await store.FindByHashAsync(secret.Hash, CancellationToken.None);
        var byId = await store.GetAsync(key.Id, CancellationToken.None);
        var rotatedUnknown = await store.RotateAsync("key_0123456789abcdef", secret with { Hash = new string('e', 64) }, graceEnd, Now, CancellationToken.None);
        var deleted = await store.DeleteAsync(key.Id, CancellationToken.None);
        var byNewAfterDelete = await store.FindByHashAsync(secret.Hash, CancellationToken.None);

        // Assert: the old secret works until the end of its grace period, the new one without end; the update (which
        // never carries secrets) kept both.
        Assert.Equal([key.Hash, secret.Hash], rotated!.Secrets.Select(static s => s.Hash));
        Assert.True(updated);
        Assert.Equal((key.Id, "renamed", graceEnd), (byOld!.Id, byOld.Name, byOld.SecretExpiresAt));
        Assert.Equal((key.Id, "renamed", (DateTimeOffset?)null), (byNew!.Id, byNew.Name, byNew.SecretExpiresAt));
        Assert.Equal(secret.Hint, byId!.Hint);
        Assert.Equal<DateTimeOffset?>([graceEnd, null], byId.Secrets.Select(static s => s.ExpiresAt));
        Assert.Null(rotatedUnknown);
        Assert.True(deleted);
        Assert.Null(byNewAfterDelete);
    }

    private static async Task<IApiKeyStore> CreateAsync(string kind) =>
        kind == "table" ? (await GatewayTestEnvironment.CreateAsync()).Keys : new InMemoryApiKeyStore();

    private static (string Secret, ApiKey Key) NewKey(string name, DateTimeOffset createdAt, IReadOnlyList<string>? models = null)
    {
        var secret = ApiKeyHasher.NewSecret();
        KnownSecrets.Register(secret);
        var hash = ApiKeyHasher.Hash(secret);
        return (secret, new ApiKey
        {
            Id = ApiKeyHasher.IdFromHash(hash),
            Name = name,
            Hash = hash,
            Hint = ApiKeyHasher.Hint(secret),
            CreatedAt = createdAt,
            ExpiresAt = createdAt.AddDays(30),
            Models = models ?? [],
        });
    }
}
