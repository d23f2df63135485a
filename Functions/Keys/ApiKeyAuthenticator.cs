using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Qhaigc.Functions.Hosting;
using Qhaigc.Functions.Storage;

namespace Qhaigc.Functions.Keys;

public enum KeyCheckOutcome
{
    Valid,

    /// <summary>Unknown, disabled or expired.</summary>
    Invalid,

    /// <summary>The key was not cached and storage could not be asked.</summary>
    Unavailable,
}

public readonly record struct KeyCheck(KeyCheckOutcome Outcome, ApiKey? Key);

/// <summary>
/// Checks a secret against the key store through a short in-memory cache: a cached key costs no table read, an
/// unknown key is remembered briefly too, and while storage is down a recently cached key keeps working. A key in use
/// is re-read in the background during the last quarter of its cache time, so a busy key never waits on the table
/// (docs/architecture.md) and a revocation still takes effect within the cache time; requests that miss the same key at
/// once share one read.
/// </summary>
public sealed partial class ApiKeyAuthenticator(
    IApiKeyStore store, TimeProvider time, IOptions<GatewayOptions> options, ILogger<ApiKeyAuthenticator> logger)
{
    private readonly ConcurrentDictionary<string, Entry> _cache = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Task<ApiKey?>> _lookups = new(StringComparer.Ordinal);
    private readonly KeyCacheOptions _options = options.Value.Keys;

    public async ValueTask<KeyCheck> CheckAsync(string secret, CancellationToken cancellationToken)
    {
        var hash = ApiKeyHasher.Hash(secret);
        var now = time.GetUtcNow();
        Entry? stale = null;
        if (_cache.TryGetValue(hash, out var entry))
        {
            if (entry.FreshUntil > now)
            {
                if (entry.Key is not null && entry.FreshUntil - now <= _options.CacheDuration / 4 && entry.TryStartRefresh())
                {
                    _ = RefreshAsync(hash, entry);
                }

                return Judge(entry.Key, now);
            }

            stale = entry;
        }

        ApiKey? key;
        try
        {
            key = await LookUpAsync(hash).WaitAsync(cancellationToken);
        }
        catch (StorageUnavailableException exception)
        {
            if (stale?.Key is not null && stale.FreshUntil + _options.StaleGracePeriod > now)
            {
                Log.ServingStaleKey(logger, stale.Key.Id, exception);
                return Judge(stale.Key, now);
            }

            Log.KeyLookupUnavailable(logger, ApiKeyHasher.IdFromHash(hash), exception);
            return new KeyCheck(KeyCheckOutcome.Unavailable, null);
        }

        Remember(hash, key, now);
        return Judge(key, now);
    }

    /// <summary>Forgets a key, so a change made through this instance takes effect here at once.</summary>
    public void Invalidate(string hash) => _cache.TryRemove(hash, out _);

    private static KeyCheck Judge(ApiKey? key, DateTimeOffset now) =>
        key is not null && key.IsActiveAt(now) ? new(KeyCheckOutcome.Valid, key) : new(KeyCheckOutcome.Invalid, key);

    /// <summary>
    /// One table read for all the requests that miss the same key at once (a burst when a key's entry has run out, or
    /// on a key's first use), instead of one read each. The read is not cancelled with any one request; each request
    /// stops waiting when it is cancelled.
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
            lookup.SetResult(await store.FindByHashAsync(hash, CancellationToken.None));
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

    /// <summary>Re-reads a cached key off the request path; on failure the entry simply runs out as it would have.</summary>
    private async Task RefreshAsync(string hash, Entry entry)
    {
        try
        {
            var key = await store.FindByHashAsync(hash, CancellationToken.None);
            // Only if nothing replaced or forgot the entry meanwhile (an Invalidate must win).
            var duration = key is null ? _options.NegativeCacheDuration : _options.CacheDuration;
            _cache.TryUpdate(hash, new Entry(key, time.GetUtcNow() + duration), entry);
        }
        catch (Exception exception)
        {
            // Nobody awaits this task: log and keep the entry, which runs out as it would have; the request that finds
            // it expired asks storage itself (with the stale grace period while storage is down).
            Log.RefreshFailed(logger, ApiKeyHasher.IdFromHash(hash), exception);
        }
    }

    private void Remember(string hash, ApiKey? key, DateTimeOffset now)
    {
        if (_cache.Count >= _options.MaxEntries)
        {
            // A flood of random keys must not grow memory; dropping the cache only costs table reads.
            _cache.Clear();
        }

        var duration = key is null ? _options.NegativeCacheDuration : _options.CacheDuration;
        _cache[hash] = new Entry(key, now + duration);
    }

    private sealed class Entry(ApiKey? key, DateTimeOffset freshUntil)
    {
        private int _refreshing;

        public ApiKey? Key { get; } = key;

        public DateTimeOffset FreshUntil { get; } = freshUntil;

        /// <summary>True for the one caller that gets to refresh this entry.</summary>
        public bool TryStartRefresh() => Interlocked.Exchange(ref _refreshing, 1) == 0;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1001, Level = LogLevel.Warning,
            Message = "Key store unreachable; serving cached key {KeyId} past its cache time")]
        public static partial void ServingStaleKey(ILogger logger, string keyId, Exception exception);

        [LoggerMessage(EventId = 1002, Level = LogLevel.Error,
            Message = "Key store unreachable; cannot check key {KeyId}")]
        public static partial void KeyLookupUnavailable(ILogger logger, string keyId, Exception exception);

        [LoggerMessage(EventId = 1003, Level = LogLevel.Warning,
            Message = "Background refresh of cached key {KeyId} failed; the cached entry stays until it expires")]
        public static partial void RefreshFailed(ILogger logger, string keyId, Exception exception);
    }
}
