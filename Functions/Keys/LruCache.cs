using System.Diagnostics.CodeAnalysis;

namespace Qhaigc.Functions.Keys;

/// <summary>
/// A map of at most <c>capacity</c> entries that makes room by dropping the least recently used one, so a burst of new
/// entries pushes out only entries nobody asked for since (docs/configuration.md#key-cache). Thread-safe under one lock;
/// every operation is O(1).
/// </summary>
public sealed class LruCache<TKey, TValue>
    where TKey : notnull
    where TValue : class
{
    private readonly Dictionary<TKey, LinkedListNode<KeyValuePair<TKey, TValue>>> _map;
    private readonly LinkedList<KeyValuePair<TKey, TValue>> _order = new();
    private readonly Lock _lock = new();
    private readonly int _capacity;

    public LruCache(int capacity, IEqualityComparer<TKey>? comparer = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _capacity = capacity;
        _map = new Dictionary<TKey, LinkedListNode<KeyValuePair<TKey, TValue>>>(comparer);
    }

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _map.Count;
            }
        }
    }

    /// <summary>The entry for <paramref name="key"/>, which becomes the most recently used.</summary>
    public bool TryGet(TKey key, [MaybeNullWhen(false)] out TValue value)
    {
        lock (_lock)
        {
            if (_map.TryGetValue(key, out var node))
            {
                _order.Remove(node);
                _order.AddFirst(node);
                value = node.Value.Value;
                return true;
            }
        }

        value = null;
        return false;
    }

    /// <summary>Adds or replaces an entry as the most recently used, dropping the least recently used one when full.</summary>
    public void Set(TKey key, TValue value)
    {
        lock (_lock)
        {
            if (_map.TryGetValue(key, out var node))
            {
                _order.Remove(node);
                node.Value = new(key, value);
                _order.AddFirst(node);
                return;
            }

            if (_map.Count >= _capacity && _order.Last is { } oldest)
            {
                _order.RemoveLast();
                _map.Remove(oldest.Value.Key);
            }

            _map[key] = _order.AddFirst(new KeyValuePair<TKey, TValue>(key, value));
        }
    }

    /// <summary>Replaces the entry only while it is still <paramref name="expected"/> (nothing replaced or removed it meanwhile).</summary>
    public bool TryReplace(TKey key, TValue expected, TValue replacement)
    {
        lock (_lock)
        {
            if (!_map.TryGetValue(key, out var node) || !ReferenceEquals(node.Value.Value, expected))
            {
                return false;
            }

            node.Value = new(key, replacement);
            return true;
        }
    }

    /// <summary>Removes the entry; with <paramref name="expected"/>, only while it is still that one.</summary>
    public bool TryRemove(TKey key, TValue? expected = null)
    {
        lock (_lock)
        {
            if (!_map.TryGetValue(key, out var node) || (expected is not null && !ReferenceEquals(node.Value.Value, expected)))
            {
                return false;
            }

            _order.Remove(node);
            _map.Remove(key);
            return true;
        }
    }
}
