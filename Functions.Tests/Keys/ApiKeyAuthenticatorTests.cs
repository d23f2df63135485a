using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using NSubstitute;
using NSubstitute.ExceptionExtensions;
using Qhaigc.Functions.Hosting;
using Qhaigc.Functions.Keys;
using Qhaigc.Functions.Storage;

namespace Qhaigc.Functions.Tests.Keys;

public sealed class ApiKeyAuthenticatorTests
{
    private const string Secret = "sk-qh-test-secret";
    private readonly IApiKeyStore _store = Substitute.For<IApiKeyStore>();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero));
    private readonly ApiKeyAuthenticator _authenticator;

    public ApiKeyAuthenticatorTests()
    {
        _authenticator = new ApiKeyAuthenticator(_store, _time, Options.Create(new GatewayOptions()), NullLogger<ApiKeyAuthenticator>.Instance);
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
        var unknown = await _authenticator.CheckAsync("sk-qh-never-seen", CancellationToken.None);

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

    private ApiKey Key()
    {
        var hash = ApiKeyHasher.Hash(Secret);
        return new ApiKey
        {
            Id = ApiKeyHasher.IdFromHash(hash),
            Name = "t",
            Hash = hash,
            Hint = ApiKeyHasher.Hint(Secret),
            CreatedAt = _time.GetUtcNow(),
        };
    }
}
