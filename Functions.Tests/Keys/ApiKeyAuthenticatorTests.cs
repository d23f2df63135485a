using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using NSubstitute;
using NSubstitute.ExceptionExtensions;
using Qhaigc.Functions.Hosting;
using Qhaigc.Functions.Keys;
using Qhaigc.Functions.Storage;

namespace Qhaigc.Functions.Tests.Keys;

/// <summary>
/// The key check and its cache (docs/configuration.md#key-cache), including hostile and slow conditions: strings that
/// cannot be keys, floods of random keys, expired entries while storage is slow, and lookups that take too long.
/// </summary>
public sealed class ApiKeyAuthenticatorTests
{
    private const string Secret = "sk-qh-test-secret-0000000000000000000000000000000";
    private const string DevKey = "sk-qh-dev";
    private readonly IApiKeyStore _store = Substitute.For<IApiKeyStore>();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero));
    private readonly ApiKeyAuthenticator _authenticator;

    public ApiKeyAuthenticatorTests()
    {
        _authenticator = Authenticator(new KeyCacheOptions());
    }

    [Fact]
    public async Task CheckAsync_ReadsTheTableOnce_WhileTheKeyIsCached()
    {
        // Arrange
        var key = Key();
        _store.FindByHashAsync(key.Hash, Arg.Any<CancellationToken>()).Returns(key);

        // Act
        var first = await _authenticator.CheckAsync(Secret, CancellationToken.None);
        _time.Advance(TimeSpan.FromSeconds(29));
        var second = await _authenticator.CheckAsync(Secret, CancellationToken.None);
        _time.Advance(TimeSpan.FromSeconds(2));
        var third = await _authenticator.CheckAsync(Secret, CancellationToken.None);

        // Assert
        Assert.Equal([KeyCheckOutcome.Valid, KeyCheckOutcome.Valid, KeyCheckOutcome.Valid], new[] { first.Outcome, second.Outcome, third.Outcome });
        await _store.Received(2).FindByHashAsync(key.Hash, Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task CheckAsync_RefreshesAKeyInUseInTheBackground_BeforeItExpires()
    {
        // Arrange
        var key = Key();
        var refresh = new TaskCompletionSource<ApiKey?>();
        _store.FindByHashAsync(key.Hash, Arg.Any<CancellationToken>()).Returns(Task.FromResult<ApiKey?>(key), refresh.Task);
        await _authenticator.CheckAsync(Secret, CancellationToken.None);

        // Act: in the last quarter of the cache time the answer does not wait for the table read it starts.
        _time.Advance(TimeSpan.FromSeconds(25));
        var during = _authenticator.CheckAsync(Secret, CancellationToken.None).AsTask();
        var completedAtOnce = during.IsCompletedSuccessfully;
        var whileReading = await _authenticator.CheckAsync(Secret, CancellationToken.None);
        refresh.SetResult(key with { Disabled = true });
        _time.Advance(TimeSpan.FromSeconds(1));
        var afterRevocation = await _authenticator.CheckAsync(Secret, CancellationToken.None);

        // Assert
        Assert.True(completedAtOnce);
        Assert.Equal(KeyCheckOutcome.Valid, (await during).Outcome);
        Assert.Equal(KeyCheckOutcome.Valid, whileReading.Outcome);
        Assert.Equal(KeyCheckOutcome.Invalid, afterRevocation.Outcome);
        await _store.Received(2).FindByHashAsync(key.Hash, Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task CheckAsync_SharesOneTableRead_BetweenConcurrentMisses()
    {
        // Arrange
        var key = Key();
        var read = new TaskCompletionSource<ApiKey?>();
        _store.FindByHashAsync(key.Hash, Arg.Any<CancellationToken>()).Returns(read.Task);

        // Act
        var checks = Enumerable.Range(0, 5).Select(_ => _authenticator.CheckAsync(Secret, CancellationToken.None).AsTask()).ToList();
        read.SetResult(key);
        var outcomes = await Task.WhenAll(checks);

        // Assert
        Assert.All(outcomes, static c => Assert.Equal(KeyCheckOutcome.Valid, c.Outcome));
        await _store.Received(1).FindByHashAsync(key.Hash, Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task CheckAsync_StopsWaiting_WhenItsRequestIsCancelled()
    {
        // Arrange
        var key = Key();
        var read = new TaskCompletionSource<ApiKey?>();
        _store.FindByHashAsync(key.Hash, Arg.Any<CancellationToken>()).Returns(read.Task);
        using var cancel = new CancellationTokenSource();

        // Act
        var cancelled = _authenticator.CheckAsync(Secret, cancel.Token).AsTask();
        var other = _authenticator.CheckAsync(Secret, CancellationToken.None).AsTask();
        await cancel.CancelAsync();
        read.SetResult(key);

        // Assert
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        Assert.Equal(KeyCheckOutcome.Valid, (await other).Outcome);
    }

    [Fact]
    public async Task CheckAsync_RemembersUnknownKeysBriefly()
    {
        // Arrange
        _store.FindByHashAsync(Arg.Any<string>(), Arg.Any<CancellationToken>()).Returns((ApiKey?)null);

        // Act
        var results = new List<KeyCheckOutcome>();
        for (var i = 0; i < 3; i++)
        {
            results.Add((await _authenticator.CheckAsync(Secret, CancellationToken.None)).Outcome);
        }

        _time.Advance(TimeSpan.FromSeconds(6));
        results.Add((await _authenticator.CheckAsync(Secret, CancellationToken.None)).Outcome);

        // Assert
        Assert.All(results, static r => Assert.Equal(KeyCheckOutcome.Invalid, r));
        await _store.Received(2).FindByHashAsync(Arg.Any<string>(), Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task CheckAsync_RejectsCachedKey_OnceItExpires()
    {
        // Arrange
        var key = Key() with { ExpiresAt = _time.GetUtcNow().AddSeconds(10) };
        _store.FindByHashAsync(key.Hash, Arg.Any<CancellationToken>()).Returns(key);

        // Act
        var before = await _authenticator.CheckAsync(Secret, CancellationToken.None);
        _time.Advance(TimeSpan.FromSeconds(11));
        var after = await _authenticator.CheckAsync(Secret, CancellationToken.None);

        // Assert
        Assert.Equal(KeyCheckOutcome.Valid, before.Outcome);
        Assert.Equal(KeyCheckOutcome.Invalid, after.Outcome);
    }

    [Fact]
    public async Task CheckAsync_ServesRecentlyCachedKey_WhileStorageIsDown_ThenSaysUnavailable()
    {
        // Arrange
        var key = Key();
        _store.FindByHashAsync(key.Hash, Arg.Any<CancellationToken>()).Returns(key);
        await _authenticator.CheckAsync(Secret, CancellationToken.None);
        _store.FindByHashAsync(Arg.Any<string>(), Arg.Any<CancellationToken>()).ThrowsAsync(new StorageUnavailableException("down"));

        // Act
        _time.Advance(TimeSpan.FromMinutes(5));
        var stale = await _authenticator.CheckAsync(Secret, CancellationToken.None);
        _time.Advance(TimeSpan.FromMinutes(10));
        var tooOld = await _authenticator.CheckAsync(Secret, CancellationToken.None);
        var unknown = await _authenticator.CheckAsync("sk-qh-never-seen-00000000000000000000000000000000", CancellationToken.None);

        // Assert
        Assert.Equal(KeyCheckOutcome.Valid, stale.Outcome);
        Assert.Equal(KeyCheckOutcome.Unavailable, tooOld.Outcome);
        Assert.Equal(KeyCheckOutcome.Unavailable, unknown.Outcome);
    }

    [Fact]
    public async Task Invalidate_ForcesANewRead()
    {
        // Arrange
        var key = Key();
        _store.FindByHashAsync(key.Hash, Arg.Any<CancellationToken>()).Returns(key, key with { Disabled = true });
        await _authenticator.CheckAsync(Secret, CancellationToken.None);

        // Act
        _authenticator.Invalidate(key.Hash);
        var result = await _authenticator.CheckAsync(Secret, CancellationToken.None);

        // Assert
        Assert.Equal(KeyCheckOutcome.Invalid, result.Outcome);
    }

    [Theory]
    [InlineData("")]
    [InlineData("sk-qh-")]
    [InlineData("sk-qh-short")]
    [InlineData("sk-ant-api03-0000000000000000000000000000000000000000000")]
    [InlineData("sk-qh-00000000000000000000000000000000000000000000")]
    [InlineData("sk-qh-000000000000000000000000000000000000000000")]
    [InlineData("sk-qh-000000000000000000000000000000000000000000+")]
    [InlineData("sk-qh-000000000000000000000000000000000000000000=")]
    [InlineData("sk-qh-00000000000000000000000000000000000000000é")]
    [InlineData("SK-QH-0000000000000000000000000000000000000000000")]
    public async Task CheckAsync_RefusesWithoutALookup_WhenTheStringCannotBeAKey(string secret)
    {
        // Arrange
        var authenticator = Authenticator(new KeyCacheOptions());

        // Act
        var check = await authenticator.CheckAsync(secret, CancellationToken.None);

        // Assert
        Assert.Equal(KeyCheckOutcome.Invalid, check.Outcome);
        await _store.DidNotReceiveWithAnyArgs().FindByHashAsync(default!, default);
    }

    [Fact]
    public async Task CheckAsync_LooksUpTheConfiguredDevKey_WhenItDoesNotHaveAKeysShape()
    {
        // Arrange
        var key = Key(DevKey);
        _store.FindByHashAsync(key.Hash, Arg.Any<CancellationToken>()).Returns(key);
        var authenticator = Authenticator(new KeyCacheOptions());

        // Act
        var check = await authenticator.CheckAsync(DevKey, CancellationToken.None);

        // Assert
        Assert.Equal(KeyCheckOutcome.Valid, check.Outcome);
    }

    [Fact]
    public async Task CheckAsync_ServesAKnownKeyFromCache_AfterAFloodOfRandomKeysLargerThanTheCache_WithStorageDown()
    {
        // Arrange: a small cache, a working tenant's key in it.
        var secret = ApiKeyHasher.NewSecret();
        var key = Key(secret);
        _store.FindByHashAsync(Arg.Any<string>(), Arg.Any<CancellationToken>()).Returns((ApiKey?)null);
        _store.FindByHashAsync(key.Hash, Arg.Any<CancellationToken>()).Returns(key);
        var authenticator = Authenticator(new KeyCacheOptions { MaxEntries = 10, MaxUnknownEntries = 5 });
        await authenticator.CheckAsync(secret, CancellationToken.None);

        // Act: many more random well-formed keys than the cache holds, then storage goes down.
        var flood = new List<KeyCheckOutcome>();
        for (var i = 0; i < 200; i++)
        {
            flood.Add((await authenticator.CheckAsync(ApiKeyHasher.NewSecret(), CancellationToken.None)).Outcome);
        }

        _store.FindByHashAsync(Arg.Any<string>(), Arg.Any<CancellationToken>()).ThrowsAsync(new StorageUnavailableException("down"));
        var afterFlood = await authenticator.CheckAsync(secret, CancellationToken.None);

        // Assert: each flooding key cost one read, and the tenant's key was never read again.
        Assert.All(flood, static o => Assert.Equal(KeyCheckOutcome.Invalid, o));
        Assert.Equal(KeyCheckOutcome.Valid, afterFlood.Outcome);
        await _store.Received(1).FindByHashAsync(key.Hash, Arg.Any<CancellationToken>());
        await _store.Received(201).FindByHashAsync(Arg.Any<string>(), Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task CheckAsync_DropsTheLeastRecentlyUsedKey_WhenTheCacheIsFull()
    {
        // Arrange: two keys fill the cache; the first is used again.
        var secrets = Enumerable.Range(0, 3).Select(static _ => ApiKeyHasher.NewSecret()).ToArray();
        foreach (var secret in secrets)
        {
            var key = Key(secret);
            _store.FindByHashAsync(key.Hash, Arg.Any<CancellationToken>()).Returns(key);
        }

        var authenticator = Authenticator(new KeyCacheOptions { MaxEntries = 2 });
        await authenticator.CheckAsync(secrets[0], CancellationToken.None);
        await authenticator.CheckAsync(secrets[1], CancellationToken.None);
        await authenticator.CheckAsync(secrets[0], CancellationToken.None);

        // Act: a third key pushes one out.
        await authenticator.CheckAsync(secrets[2], CancellationToken.None);
        await authenticator.CheckAsync(secrets[0], CancellationToken.None);
        await authenticator.CheckAsync(secrets[1], CancellationToken.None);

        // Assert: the second (least recently used) was read again, the first was not.
        await _store.Received(1).FindByHashAsync(ApiKeyHasher.Hash(secrets[0]), Arg.Any<CancellationToken>());
        await _store.Received(2).FindByHashAsync(ApiKeyHasher.Hash(secrets[1]), Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task CheckAsync_ServesAnExpiredKeyAtOnce_WhileOneBackgroundReadRefreshesIt()
    {
        // Arrange: a key idle for longer than its cache time, and a table read that takes its time.
        var secret = ApiKeyHasher.NewSecret();
        var key = Key(secret);
        var refresh = new TaskCompletionSource<ApiKey?>();
        _store.FindByHashAsync(key.Hash, Arg.Any<CancellationToken>()).Returns(Task.FromResult<ApiKey?>(key), refresh.Task);
        var authenticator = Authenticator(new KeyCacheOptions());
        await authenticator.CheckAsync(secret, CancellationToken.None);
        _time.Advance(TimeSpan.FromMinutes(2));

        // Act: calls while the refresh is pending, then after it found the key revoked.
        var during = Enumerable.Range(0, 5).Select(_ => authenticator.CheckAsync(secret, CancellationToken.None).AsTask()).ToList();
        var allAtOnce = during.All(static t => t.IsCompletedSuccessfully);
        refresh.SetResult(key with { Disabled = true });
        var afterRefresh = await authenticator.CheckAsync(secret, CancellationToken.None);

        // Assert
        Assert.True(allAtOnce);
        Assert.All(await Task.WhenAll(during), static c => Assert.Equal(KeyCheckOutcome.Valid, c.Outcome));
        Assert.Equal(KeyCheckOutcome.Invalid, afterRefresh.Outcome);
        await _store.Received(2).FindByHashAsync(key.Hash, Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task CheckAsync_BacksOffAFailedRefresh_InsteadOfRetryingOnEveryCall()
    {
        // Arrange: an expired entry and a table that fails every read.
        var secret = ApiKeyHasher.NewSecret();
        var key = Key(secret);
        _store.FindByHashAsync(key.Hash, Arg.Any<CancellationToken>()).Returns(key);
        var authenticator = Authenticator(new KeyCacheOptions());
        await authenticator.CheckAsync(secret, CancellationToken.None);
        _store.FindByHashAsync(key.Hash, Arg.Any<CancellationToken>()).ThrowsAsync(new StorageUnavailableException("slow"));
        _time.Advance(TimeSpan.FromSeconds(31));

        // Act: reads after each step (1 initial read so far).
        var reads = new List<int>();
        var outcomes = new List<KeyCheckOutcome>();
        foreach (var step in new[] { 0, 0, 0, 1100, 100, 1000, 1000, 2100 })
        {
            _time.Advance(TimeSpan.FromMilliseconds(step));
            outcomes.Add((await authenticator.CheckAsync(secret, CancellationToken.None)).Outcome);
            reads.Add(_store.ReceivedCalls().Count());
        }

        // Assert: one refresh, then one after 1 s, one after 2 s more, one after 4 s more; every call served.
        Assert.All(outcomes, static o => Assert.Equal(KeyCheckOutcome.Valid, o));
        Assert.Equal([2, 2, 2, 3, 3, 3, 4, 4], reads);
    }

    [Fact]
    public async Task CheckAsync_SaysUnavailable_WhenALookupTakesLongerThanTheLookupTimeout()
    {
        // Arrange: a table that never answers.
        _store.FindByHashAsync(Arg.Any<string>(), Arg.Any<CancellationToken>()).Returns(new TaskCompletionSource<ApiKey?>().Task);
        var authenticator = Authenticator(new KeyCacheOptions { LookupTimeout = TimeSpan.FromSeconds(2) });

        // Act
        var check = authenticator.CheckAsync(ApiKeyHasher.NewSecret(), CancellationToken.None).AsTask();
        _time.Advance(TimeSpan.FromSeconds(1.9));
        var before = check.IsCompleted;
        _time.Advance(TimeSpan.FromSeconds(0.2));

        // Assert
        Assert.False(before);
        Assert.Equal(KeyCheckOutcome.Unavailable, (await check.WaitAsync(TimeSpan.FromSeconds(10))).Outcome);
    }

    [Fact]
    public async Task CheckAsync_ForgetsAKeyDeletedMeanwhile_WhenItsRefreshFindsNothing()
    {
        // Arrange
        var secret = ApiKeyHasher.NewSecret();
        var key = Key(secret);
        _store.FindByHashAsync(key.Hash, Arg.Any<CancellationToken>()).Returns(Task.FromResult<ApiKey?>(key), Task.FromResult<ApiKey?>(null));
        var authenticator = Authenticator(new KeyCacheOptions());
        await authenticator.CheckAsync(secret, CancellationToken.None);
        _time.Advance(TimeSpan.FromSeconds(40));

        // Act: the stale answer starts the refresh, which finds the key gone.
        var stale = await authenticator.CheckAsync(secret, CancellationToken.None);
        var after = await authenticator.CheckAsync(secret, CancellationToken.None);

        // Assert: the key is now remembered as unknown (no third read).
        Assert.Equal(KeyCheckOutcome.Valid, stale.Outcome);
        Assert.Equal(KeyCheckOutcome.Invalid, after.Outcome);
        await _store.Received(2).FindByHashAsync(key.Hash, Arg.Any<CancellationToken>());
    }

    private ApiKeyAuthenticator Authenticator(KeyCacheOptions keys) =>
        new(_store, _time, Options.Create(new GatewayOptions { DevKey = DevKey, Keys = keys }), NullLogger<ApiKeyAuthenticator>.Instance);

    private ApiKey Key(string secret = Secret)
    {
        var hash = ApiKeyHasher.Hash(secret);
        return new ApiKey
        {
            Id = ApiKeyHasher.IdFromHash(hash),
            Name = "t",
            Hash = hash,
            Hint = ApiKeyHasher.Hint(secret),
            CreatedAt = _time.GetUtcNow(),
        };
    }
}
