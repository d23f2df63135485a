using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Qhaigc.Functions.Hosting;
using Qhaigc.Functions.Storage;

namespace Qhaigc.Functions.Keys;

public enum KeyCheckOutcome
{
    Valid,

    /// <summary>Not a key's shape, unknown, disabled or expired.</summary>
    Invalid,

    /// <summary>The key was not cached and storage could not be asked in time.</summary>
    Unavailable,
}

public readonly record struct KeyCheck(KeyCheckOutcome Outcome, ApiKey? Key);

/// <summary>
/// Checks a secret against the key store through an in-memory cache (docs/configuration.md#key-cache):
/// <list type="number">
/// <item>A string that cannot be a gateway key is refused before any lookup or cache entry.</item>
/// <item>A found key is served from a least-recently-used cache; an unknown key is remembered briefly in a separate,
/// smaller one, so a flood of random keys never pushes out a working tenant.</item>
/// <item>A cached key is never waited for: in the last quarter of its cache time, or once that time has passed (up to
/// <see cref="KeyCacheOptions.StaleGracePeriod"/>), it is served at once while one background read refreshes it; a
/// failed refresh backs off. A revocation takes effect within the cache time plus that read when storage is healthy.</item>
/// <item>A miss reads the table on the request path, bounded by <see cref="KeyCacheOptions.LookupTimeout"/>, one read
/// shared by all the requests that miss the same key at once.</item>
/// </list>
/// </summary>
public sealed partial class ApiKeyAuthenticator
{
    /// <summary>Wait before retrying a failed refresh; doubled per failure, up to the cache time.</summary>
    private static readonly TimeSpan FirstRefreshBackoff = TimeSpan.FromSeconds(1);

    private readonly IApiKeyStore _store;
    private readonly TimeProvider _time;
    private readonly ILogger<ApiKeyAuthenticator> _logger;
    private readonly KeyCacheOptions _options;
    private readonly string? _devKey;
    private readonly LruCache<string, Entry> _known;
    private readonly LruCache<string, Entry> _unknown;
    private readonly ConcurrentDictionary<string, Task<ApiKey?>> _lookups = new(StringComparer.Ordinal);

    private readonly DevKeySeeder? _devKeySeeder;

    public ApiKeyAuthenticator(
        IApiKeyStore store, TimeProvider time, IOptions<GatewayOptions> options, ILogger<ApiKeyAuthenticator> logger, DevKeySeeder? devKeySeeder = null)
    {
        _devKeySeeder = devKeySeeder;
        _store = store;
        _time = time;
        _logger = logger;
        _options = options.Value.Keys;
        _devKey = string.IsNullOrWhiteSpace(options.Value.DevKey) ? null : options.Value.DevKey;
        _known = new(_options.MaxEntries, StringComparer.Ordinal);
        _unknown = new(_options.MaxUnknownEntries, StringComparer.Ordinal);
    }

    public async ValueTask<KeyCheck> CheckAsync(string secret, CancellationToken cancellationToken)
    {
        if (!ApiKeyHasher.IsWellFormed(secret) && !string.Equals(secret, _devKey, StringComparison.Ordinal))
        {
            return new KeyCheck(KeyCheckOutcome.Invalid, null);
        }

        var hash = ApiKeyHasher.Hash(secret);
        var now = _time.GetUtcNow();
        if (_known.TryGet(hash, out var entry) && entry.FreshUntil + _options.StaleGracePeriod > now)
        {
            // Fresh, or expired but recent enough: answer now; refresh ahead (last quarter) or behind (expired).
            if (entry.FreshUntil - now <= _options.CacheDuration / 4 && entry.TryStartRefresh(now))
            {
                _ = RefreshAsync(hash, entry);
            }

            return Judge(entry.Key, now);
        }

        if (_unknown.TryGet(hash, out var unknown) && unknown.FreshUntil > now)
        {
            return new KeyCheck(KeyCheckOutcome.Invalid, null);
        }

        if (_devKeySeeder is { Seeded.IsCompleted: false } && string.Equals(secret, _devKey, StringComparison.Ordinal))
        {
            // A call with the development key in the first moments after start-up waits for the key to exist.
            await _devKeySeeder.Seeded.WaitAsync(cancellationToken);
        }

        ApiKey? key;
        try
        {
            key = await LookUpAsync(hash).WaitAsync(cancellationToken);
        }
        catch (StorageUnavailableException exception)
        {
            Log.KeyLookupUnavailable(_logger, ApiKeyHasher.IdFromHash(hash), exception);
            return new KeyCheck(KeyCheckOutcome.Unavailable, null);
        }

        Remember(hash, key, _time.GetUtcNow());
        return Judge(key, now);
    }

    /// <summary>Forgets a key, so a change made through this instance takes effect here at once.</summary>
    public void Invalidate(string hash)
    {
        _known.TryRemove(hash);
        _unknown.TryRemove(hash);
    }

    private static KeyCheck Judge(ApiKey? key, DateTimeOffset now) =>
        key is not null && key.IsActiveAt(now) ? new(KeyCheckOutcome.Valid, key) : new(KeyCheckOutcome.Invalid, key);

    /// <summary>
    /// One table read for all the requests that miss the same key at once, instead of one read each. The read is not
    /// cancelled with any one request (each request stops waiting when it is cancelled); it gives up after
    /// <see cref="KeyCacheOptions.LookupTimeout"/>, which then counts as storage unavailable.
    /// </summary>
    private Task<ApiKey?> LookUpAsync(string hash)
    {
        while (true)
        {
            if (_lookups.TryGetValue(hash, out var pending))
            {
                return pending;
            }

            var lookup = new TaskCompletionSource<ApiKey?>(TaskCreationOptions.RunContinuationsAsynchronously);
            if (_lookups.TryAdd(hash, lookup.Task))
            {
                _ = ReadAsync(hash, lookup);
                return lookup.Task;
            }
        }
    }

    private async Task ReadAsync(string hash, TaskCompletionSource<ApiKey?> lookup)
    {
        try
        {
            lookup.SetResult(await FindWithinAsync(hash, _options.LookupTimeout));
        }
        catch (Exception exception)
        {
            lookup.SetException(exception);
            // Observed here too, in case every request waiting for it was cancelled first.
            _ = lookup.Task.Exception;
        }
        finally
        {
            _lookups.TryRemove(new KeyValuePair<string, Task<ApiKey?>>(hash, lookup.Task));
        }
    }

    /// <summary>A store read that gives up after <paramref name="timeout"/> with <see cref="StorageUnavailableException"/>.</summary>
    private async Task<ApiKey?> FindWithinAsync(string hash, TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout, _time);
        try
        {
            return await _store.FindByHashAsync(hash, deadline.Token).WaitAsync(deadline.Token);
        }
        catch (OperationCanceledException exception) when (deadline.IsCancellationRequested)
        {
            throw new StorageUnavailableException($"The key table did not answer within {timeout.TotalSeconds:0.###} s.", exception);
        }
    }

    /// <summary>
    /// Re-reads a cached key off the request path (bounded by the cache time); on failure the entry is kept and its
    /// next refresh waits a backoff, so slow storage costs one read per key per backoff, never one per call.
    /// </summary>
    private async Task RefreshAsync(string hash, Entry entry)
    {
        try
        {
            var key = await FindWithinAsync(hash, _options.CacheDuration);
            var now = _time.GetUtcNow();
            // Only if nothing replaced or forgot the entry meanwhile (an Invalidate must win).
            if (key is not null)
            {
                _known.TryReplace(hash, entry, new Entry(key, now + _options.CacheDuration));
            }
            else if (_known.TryRemove(hash, entry))
            {
                _unknown.Set(hash, new Entry(null, now + _options.NegativeCacheDuration));
            }
        }
        catch (Exception exception)
        {
            var retryIn = entry.RefreshFailed(_time.GetUtcNow(), FirstRefreshBackoff, _options.CacheDuration);
            Log.RefreshFailed(_logger, ApiKeyHasher.IdFromHash(hash), retryIn.TotalSeconds, exception);
        }
    }

    private void Remember(string hash, ApiKey? key, DateTimeOffset now)
    {
        if (key is null)
        {
            _known.TryRemove(hash);
            _unknown.Set(hash, new Entry(null, now + _options.NegativeCacheDuration));
        }
        else
        {
            _unknown.TryRemove(hash);
            _known.Set(hash, new Entry(key, now + _options.CacheDuration));
        }
    }

    private sealed class Entry(ApiKey? key, DateTimeOffset freshUntil)
    {
        private readonly Lock _lock = new();
        private bool _refreshing;
        private DateTimeOffset _retryAt;
        private int _failures;

        public ApiKey? Key { get; } = key;

        public DateTimeOffset FreshUntil { get; } = freshUntil;

        /// <summary>True for the one caller that gets to refresh this entry, unless a failed refresh is backing off.</summary>
        public bool TryStartRefresh(DateTimeOffset now)
        {
            lock (_lock)
            {
                if (_refreshing || now < _retryAt)
                {
                    return false;
                }

                _refreshing = true;
                return true;
            }
        }

        /// <summary>Ends a failed refresh; the next may start after the returned backoff.</summary>
        public TimeSpan RefreshFailed(DateTimeOffset now, TimeSpan first, TimeSpan max)
        {
            lock (_lock)
            {
                _failures++;
                var backoff = first * Math.Pow(2, Math.Min(_failures - 1, 16));
                backoff = backoff > max ? max : backoff;
                _retryAt = now + backoff;
                _refreshing = false;
                return backoff;
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1002, Level = LogLevel.Error,
            Message = "Key store unreachable; cannot check key {KeyId}")]
        public static partial void KeyLookupUnavailable(ILogger logger, string keyId, Exception exception);

        [LoggerMessage(EventId = 1003, Level = LogLevel.Warning,
            Message = "Refresh of cached key {KeyId} failed; the cached entry is served meanwhile and the next refresh waits {RetryInSeconds} s")]
        public static partial void RefreshFailed(ILogger logger, string keyId, double retryInSeconds, Exception exception);
    }
}
