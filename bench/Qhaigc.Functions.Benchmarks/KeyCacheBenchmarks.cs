using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Qhaigc.Functions.Hosting;
using Qhaigc.Functions.Keys;
using Qhaigc.Functions.Protocol;

namespace Qhaigc.Functions.Benchmarks;

/// <summary>
/// Admitting a request with a cached key: hash the secret (SHA-256), look it up in the in-memory cache, judge it.
/// No table is touched (the store below would count it); the request id every answer carries is measured beside it.
/// </summary>
[MemoryDiagnoser]
public class KeyCacheBenchmarks
{
    private readonly string _secret = ApiKeyHasher.NewSecret();
    private ApiKeyAuthenticator _authenticator = null!;
    private CountingStore _store = null!;

    [GlobalSetup]
    public async Task Setup()
    {
        var hash = ApiKeyHasher.Hash(_secret);
        _store = new CountingStore(new ApiKey
        {
            Id = ApiKeyHasher.IdFromHash(hash),
            Name = "bench",
            Hash = hash,
            Hint = ApiKeyHasher.Hint(_secret),
            CreatedAt = DateTimeOffset.UtcNow,
        });
        _authenticator = new ApiKeyAuthenticator(_store, TimeProvider.System, Options.Create(new GatewayOptions()),
            NullLogger<ApiKeyAuthenticator>.Instance);
        await _authenticator.CheckAsync(_secret, CancellationToken.None);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        if (_store.Reads != 1)
        {
            throw new InvalidOperationException($"The key was read {_store.Reads} times; a cached key must cost no table read.");
        }
    }

    [Benchmark(Baseline = true)]
    public async ValueTask<KeyCheckOutcome> CachedKeyCheck() => (await _authenticator.CheckAsync(_secret, CancellationToken.None)).Outcome;

    [Benchmark]
    public string HashSecret() => ApiKeyHasher.Hash(_secret);

    [Benchmark]
    public string NewRequestId() => Ids.NewRequestId();

    private sealed class CountingStore(ApiKey key) : IApiKeyStore
    {
        public int Reads { get; private set; }

        public Task<ApiKey?> FindByHashAsync(string hash, CancellationToken cancellationToken)
        {
            Reads++;
            return Task.FromResult<ApiKey?>(hash == key.Hash ? key : null);
        }

        public Task<ApiKey?> GetAsync(string id, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<IReadOnlyList<ApiKey>> ListAsync(CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<bool> CreateAsync(ApiKey key, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<bool> UpdateAsync(ApiKey key, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<bool> DeleteAsync(string id, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<ApiKey?> RotateAsync(string id, KeySecret newSecret, DateTimeOffset oldSecretsExpireAt, DateTimeOffset now, CancellationToken cancellationToken) =>
            throw new NotSupportedException();
    }
}
